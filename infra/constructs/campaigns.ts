import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccountPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeFunctionRole, arnToken, wildcard } from '../nag.ts';
import { grantAthenaQueries } from './athena-access.ts';
import type { PipelineResources } from './athena-access.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { grantLake, LEASE_REASON, lakeAreaFinding } from './lake-access.ts';
import { QueueWithDeadLetter } from './queues.ts';

/** The pipeline config is there because the publisher re-checks campaign cooldowns when it sends. */
export interface CampaignsProps extends PipelineResources {
  /** AWS accounts whose services may consume the campaign queue (their own IAM must allow it too). */
  readonly consumerAccounts?: readonly string[];
}

/**
 * The campaign queue that downstream services consume, and the publisher that fills it from
 * the campaign_audience table of a run (read with Athena), logging what it sent under
 * published/ so that publishing is idempotent.
 */
export class Campaigns extends Construct {
  readonly queue: QueueWithDeadLetter;
  /** The campaign queue's own key: consumers get to decrypt messages, never the lake. */
  readonly queueKey: IKey;
  readonly publisher: PipelineFunction;

  constructor(scope: Construct, id: string, props: CampaignsProps) {
    super(scope, id);
    this.queueKey = new Key(this, 'QueueKey', {
      description: 'Customer-marketing campaign queue: messages for downstream services',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Consumers are other teams' services; give them a generous processing time.
    this.queue = new QueueWithDeadLetter(this, 'CampaignQueue', {
      key: this.queueKey,
      alarms: props.alarms,
      consumerTimeout: Duration.minutes(5),
      retentionPeriod: Duration.days(7),
    });
    this.publisher = new PipelineFunction(this, 'Publisher', {
      handler: 'publish',
      description: 'Publishes the campaign audience of a run to the campaign queue',
      timeout: Duration.minutes(10),
      environment: {
        LAKE_BUCKET: props.bucket.bucketName,
        CAMPAIGN_QUEUE_URL: this.queue.queue.queueUrl,
        ATHENA_WORKGROUP: props.workGroupName,
        GLUE_DATABASE: props.databaseName,
        PIPELINE_CONFIG: JSON.stringify(props.pipeline),
      },
    });
    for (const account of props.consumerAccounts ?? []) this.allowConsumerAccount(account);
    const fn = this.publisher.function;
    this.queue.queue.grantSendMessages(fn);
    // The sent-message log is read and appended to, never rewritten or deleted.
    grantLake(props.bucket, fn, 'published', 'read', 'put');
    grantLake(props.bucket, fn, 'campaignAudience', 'read');
    grantLake(props.bucket, fn, 'publishLease', 'read', 'put', 'delete');
    grantAthenaQueries(fn, props, ['campaign_audience']);
    acknowledgeFunctionRole(this.publisher, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
    acknowledge(this.publisher, LEASE_REASON, lakeAreaFinding(props.bucket, 'publishLease'));
    acknowledge(
      this.publisher,
      'The publisher reads the campaign_audience partitions, writes its sent-message log under published/ and reads and writes Athena query results; object names are per run.',
      lakeAreaFinding(props.bucket, 'published'),
      lakeAreaFinding(props.bucket, 'campaignAudience'),
      wildcard(`Resource::${arnToken(props.queryResults)}/*`),
    );
  }

  /** Lets a role of this account consume the campaign queue: receive, delete, and decrypt with the queue's key only. */
  grantConsume(grantee: IGrantable): Grant {
    return this.queue.queue.grantConsumeMessages(grantee);
  }

  /**
   * Lets another account consume the campaign queue: the queue's policy and its key's policy
   * name the account, which must still allow its own roles to (sqs:ReceiveMessage,
   * sqs:DeleteMessage, sqs:ChangeMessageVisibility, sqs:GetQueueAttributes on the queue, and
   * kms:Decrypt on the key).
   */
  private allowConsumerAccount(account: string): void {
    const principal = new AccountPrincipal(account);
    this.queue.queue.addToResourcePolicy(
      new PolicyStatement({
        sid: `Consumer${account}`,
        principals: [principal],
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        resources: [this.queue.queue.queueArn],
      }),
    );
    this.queueKey.addToResourcePolicy(
      new PolicyStatement({
        sid: `Consumer${account}`,
        principals: [principal],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}
