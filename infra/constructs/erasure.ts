import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ERASED_PREFIXES } from '../../functions/core/erasure/forget.ts';
import { acknowledge, acknowledgeFunctionRole, arnToken, wildcard } from '../nag.ts';
import { grantLake, LAKE_AREAS, LEASE_REASON, lakeAreaFinding } from './lake-access.ts';
import type { LakeArea } from './lake-access.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { QueueWithDeadLetter } from './queues.ts';

export interface ErasureProps {
  readonly bucket: IBucket;
  readonly key: IKey;
  readonly alarms: ITopic;
}

/** Where an erasure reads, rewrites and deletes objects: every area that may hold a customer, and the register. */
const ERASED_AREAS: readonly LakeArea[] = ['landing', 'raw', 'rejected', 'runs', 'curated', 'published', 'reports', 'erasures'];

const CONSUMER_TIMEOUT = Duration.minutes(15);

/**
 * Erasure requests ({"customer_ids": [...]}) through a queue to a function that erases the
 * customers from the lake as `pipeline forget` does (docs/erasure.md), holding the run lease,
 * and deletes the older versions of the versioned bucket's objects under the lake's data
 * prefixes. It is the only role that may delete object versions.
 */
export class Erasure extends Construct {
  readonly queue: QueueWithDeadLetter;
  readonly function: PipelineFunction;

  constructor(scope: Construct, id: string, props: ErasureProps) {
    super(scope, id);
    // A request waiting for a run to finish comes back after the visibility timeout (90 minutes), five times.
    this.queue = new QueueWithDeadLetter(this, 'ErasureQueue', { key: props.key, alarms: props.alarms, consumerTimeout: CONSUMER_TIMEOUT });
    this.function = new PipelineFunction(this, 'EraseCustomers', {
      handler: 'erase-customers',
      description: 'Erases customers from the lake on request, older object versions included',
      environment: { LAKE_BUCKET: props.bucket.bucketName },
      timeout: CONSUMER_TIMEOUT,
      memorySize: 3008,
      needsParquet: true,
    });
    this.function.function.addEventSource(new SqsEventSource(this.queue.queue, { batchSize: 1, reportBatchItemFailures: true }));

    // Explicit statements, not a grant per area: nine areas of CDK grants overflow the role's inline policy.
    const grantee = this.function.function;
    const areaObjects = ERASED_AREAS.map((area) => props.bucket.arnForObjects(`${LAKE_AREAS[area]}*`));
    grantee.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: areaObjects }));
    grantee.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: [props.bucket.bucketArn] }));
    grantee.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:DeleteObjectVersion'], resources: ERASED_PREFIXES.map((prefix) => props.bucket.arnForObjects(`${prefix}*`)) }),
    );
    // Objects are encrypted with the lake key: read them, and write them encrypted again.
    props.key.grantEncryptDecrypt(grantee);
    grantLake(props.bucket, grantee, 'runLease', 'read', 'put', 'delete');
    grantLake(props.bucket, grantee, 'publishLease', 'read', 'put', 'delete');
    acknowledgeFunctionRole(this.function, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
    const objectFindings = new Set([
      ...ERASED_AREAS.map((area) => lakeAreaFinding(props.bucket, area)),
      ...ERASED_PREFIXES.map((prefix) => wildcard(`Resource::${arnToken(props.bucket)}/${prefix}*`)),
    ]);
    acknowledge(
      this.function,
      "An erasure reads and replaces any object of the lake's areas that may hold a customer (and deletes their older versions), and writes one register entry per request.",
      ...objectFindings,
    );
    acknowledge(this.function, LEASE_REASON, lakeAreaFinding(props.bucket, 'runLease'), lakeAreaFinding(props.bucket, 'publishLease'));
  }
}
