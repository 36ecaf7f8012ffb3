import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { lakeLayout } from '../../functions/core/lake/layout.ts';

/**
 * What a lease holder does under locks/ (functions/core/lake/lease.ts): list a lease's
 * generations, read the newest, create the next one or a release marker (a conditional
 * PutObject needs s3:PutObject only), and delete the oldest.
 */
export function grantLeases(bucket: IBucket, grantee: IGrantable): void {
  bucket.grantRead(grantee, `${lakeLayout.locks}*`);
  bucket.grantPut(grantee, `${lakeLayout.locks}*`);
  bucket.grantDelete(grantee, `${lakeLayout.locks}*`);
}

export const LEASES_REASON = 'Leases are objects under locks/<name>/, one per generation, numbered at run time.';
