import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { PUBLISH_LEASE } from '../../functions/core/campaigns/publish.ts';
import { RUN_LEASE } from '../../functions/core/jobs/run-request.ts';
import { lakeLayout } from '../../functions/core/lake/layout.ts';
import { arnToken, wildcard } from '../nag.ts';

/**
 * The areas of the lake bucket a role can be granted, each by its prefix: the one place the
 * constructs name a prefix, so that grants and the cdk-nag acknowledgements of their wildcards
 * never drift apart.
 */
export const LAKE_AREAS = {
  landing: lakeLayout.landing,
  raw: 'raw/',
  rejected: lakeLayout.rejected,
  /** Each run's step outputs (runs/<table>/run_id=<run>/), expired after 7 days. */
  runs: 'runs/',
  curated: 'curated/',
  campaignAudience: lakeLayout.curatedTable('campaign_audience'),
  published: lakeLayout.published,
  reports: 'reports/',
  /** The erasure register and the lake's key for it (functions/core/erasure/register.ts). */
  erasures: lakeLayout.erasures,
  /** A lease is a series of objects under locks/<name>/ (functions/core/lake/lease.ts). */
  runLease: `${lakeLayout.locks}${RUN_LEASE}/`,
  publishLease: `${lakeLayout.locks}${PUBLISH_LEASE}/`,
} as const;

export type LakeArea = keyof typeof LAKE_AREAS;

/** read: get and list; put: write whole objects (conditional writes included); delete. */
export type LakeAccess = 'read' | 'put' | 'delete';

/** Grants a role access to the objects of one area of the lake. */
export function grantLake(bucket: IBucket, grantee: IGrantable, area: LakeArea, ...access: readonly LakeAccess[]): void {
  const objects = `${LAKE_AREAS[area]}*`;
  if (access.includes('read')) bucket.grantRead(grantee, objects);
  if (access.includes('put')) bucket.grantPut(grantee, objects);
  // s3:DeleteObject alone, not CDK's s3:DeleteObject* (which includes DeleteObjectVersion): only
  // the erasure function may delete the older versions a versioned bucket keeps.
  if (access.includes('delete'))
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:DeleteObject'], resources: [bucket.arnForObjects(objects)] }));
}

/** The cdk-nag finding of the object wildcard of an area, to acknowledge where it is granted. */
export const lakeAreaFinding = (bucket: IBucket, area: LakeArea) => wildcard(`Resource::${arnToken(bucket)}/${LAKE_AREAS[area]}*`);

export const LEASE_REASON = 'A lease is objects under locks/<name>/, one per generation, numbered at run time.';
