import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeFunctionRole, arnToken, wildcard } from '../nag.ts';
import { lakeLayout } from '../../functions/core/lake/layout.ts';
import { grantAthenaQueries } from './athena-access.ts';
import type { PipelineResources } from './athena-access.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { grantLeases, LEASES_REASON } from './leases.ts';
import { QueueWithDeadLetter } from './queues.ts';

/** The pipeline config is there because the publisher re-checks campaign cooldowns when it sends. */
export type CampaignsProps = PipelineResources;

/**
 * The campaign queue that downstream services consume, and the publisher that fills it from
 * the campaign_audience table of a run (read with Athena), logging what it sent under
 * published/ so that publishing is idempotent.
 */
export class Campaigns extends Construct {
  readonly queue: QueueWithDeadLetter;
  readonly publisher: PipelineFunction;

  constructor(scope: Construct, id: string, props: CampaignsProps) {
    super(scope, id);
    // Consumers are other teams' services; give them a generous processing time.
    this.queue = new QueueWithDeadLetter(this, 'CampaignQueue', {
      key: props.key,
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
    const fn = this.publisher.function;
    this.queue.queue.grantSendMessages(fn);
    // The sent-message log is read and appended to, never rewritten or deleted.
    props.bucket.grantRead(fn, 'published/*');
    props.bucket.grantPut(fn, 'published/*');
    props.bucket.grantRead(fn, 'curated/campaign_audience/*');
    grantLeases(props.bucket, fn);
    grantAthenaQueries(fn, props, ['campaign_audience']);
    const lake = arnToken(props.bucket);
    acknowledgeFunctionRole(this.publisher, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:DeleteObject*']);
    acknowledge(this.publisher, LEASES_REASON, wildcard(`Resource::${lake}/${lakeLayout.locks}*`));
    acknowledge(
      this.publisher,
      'The publisher reads the campaign_audience partitions, writes its sent-message log under published/ and reads and writes Athena query results; object names are per run.',
      wildcard(`Resource::${lake}/published/*`),
      wildcard(`Resource::${lake}/curated/campaign_audience/*`),
      wildcard(`Resource::${arnToken(props.queryResults)}/*`),
    );
  }
}
