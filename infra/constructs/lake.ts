import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface LakeProps {
  /** Days Athena query results are kept. Default 7. */
  readonly queryResultRetentionDays?: number;
}

/**
 * The data lake: one KMS key, the lake bucket (raw/, rejected/, curated/, runs/, published/,
 * landing/), a bucket for Athena query results and one for S3 access logs. Every bucket blocks
 * public access, refuses plain HTTP and is encrypted; data buckets are versioned.
 */
export class Lake extends Construct {
  readonly key: IKey;
  readonly bucket: IBucket;
  readonly queryResults: IBucket;
  readonly accessLogs: IBucket;

  constructor(scope: Construct, id: string, props: LakeProps = {}) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'Customer-marketing lake: data, query results and queues',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      // S3 server access logs can only be delivered to SSE-S3 buckets.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // What every bucket holding data shares: the lake key, no public access, TLS, versions, access logs.
    const secured = (logPrefix: string) => ({
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: logPrefix,
    });
    this.bucket = new Bucket(this, 'Data', {
      ...secured('lake/'),
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { noncurrentVersionExpiration: Duration.days(30) },
        // Intermediate outputs of runs are only needed until the run is promoted.
        { prefix: 'runs/', expiration: Duration.days(7) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.queryResults = new Bucket(this, 'QueryResults', {
      ...secured('query-results/'),
      lifecycleRules: [
        { expiration: Duration.days(props.queryResultRetentionDays ?? 7), noncurrentVersionExpiration: Duration.days(1) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // Kept when the stack is deleted, like the lake: CloudFormation cannot delete a bucket
      // that still holds objects (or their versions), and emptying it would need a custom
      // resource with rights to delete everything. Its objects expire within days anyway.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
