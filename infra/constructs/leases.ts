import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { lakeLayout } from '../../functions/core/lake/layout.ts';

/**
 * What a holder of one lease does under locks/<name>/ (functions/core/lake/lease.ts): list its
 * generations, read the newest, create the next one or a release marker (a conditional
 * PutObject needs s3:PutObject only), and delete the oldest.
 */
export function grantLease(bucket: IBucket, grantee: IGrantable, name: string): void {
  const prefix = `${lakeLayout.locks}${name}/*`;
  bucket.grantRead(grantee, prefix);
  bucket.grantPut(grantee, prefix);
  bucket.grantDelete(grantee, prefix);
}

export const LEASE_REASON = 'A lease is objects under locks/<name>/, one per generation, numbered at run time.';
