import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from './config.ts';
import { Campaigns } from './constructs/campaigns.ts';
import { OperationsDashboard } from './constructs/dashboard.ts';
import { DailySchedule } from './constructs/schedule.ts';
import { Catalog } from './constructs/catalog.ts';
import { Ingest } from './constructs/ingest.ts';
import { Erasure } from './constructs/erasure.ts';
import { Jobs } from './constructs/jobs.ts';
import { Lake } from './constructs/lake.ts';
import { acknowledge } from './nag.ts';

export interface PipelineStackProps extends StackProps {
  readonly deployment: DeploymentConfig;
}

/** The whole pipeline: the stack only composes one construct per concern. */
export class PipelineStack extends Stack {
  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { deployment } = props;
    const lake = new Lake(this, 'Lake', { queryResultRetentionDays: deployment.queryResultRetentionDays });
    const alarms = new Topic(this, 'Alarms', { displayName: 'Customer-marketing pipeline alarms', masterKey: lake.key, enforceSSL: true });
    // CloudWatch publishes alarms to the encrypted topic with the lake key.
    lake.key.grantEncryptDecrypt(new ServicePrincipal('cloudwatch.amazonaws.com'));
    const catalog = new Catalog(this, 'Catalog', {
      bucket: lake.bucket,
      queryResults: lake.queryResults,
      key: lake.key,
      bytesScannedCutoffPerQuery: deployment.bytesScannedCutoffPerQuery,
      earliestEventDate: deployment.pipeline.earliestEventDate,
    });
    const ingest = new Ingest(this, 'Ingest', { bucket: lake.bucket, key: lake.key, alarms, earliestEventDate: deployment.pipeline.earliestEventDate });
    const erasure = new Erasure(this, 'Erasure', { bucket: lake.bucket, key: lake.key, alarms });
    const resources = {
      bucket: lake.bucket,
      queryResults: lake.queryResults,
      key: lake.key,
      alarms,
      workGroupName: catalog.workGroup.name,
      databaseName: catalog.databaseName,
      pipeline: deployment.pipeline,
    };
    const campaigns = new Campaigns(this, 'Campaigns', { ...resources, consumerAccounts: deployment.campaignConsumerAccounts });
    const jobs = new Jobs(this, 'Jobs', {
      ...resources,
      publisher: campaigns.publisher,
    });
    jobs.node.addDependency(catalog.workGroup);
    const schedule = new DailySchedule(this, 'Schedule', {
      stateMachine: jobs.stateMachine,
      key: lake.key,
      alarms,
      time: deployment.scheduleTime,
      timeZone: deployment.scheduleTimezone,
    });
    const operations = new OperationsDashboard(this, 'Operations', {
      stateMachine: jobs.stateMachine,
      deadLetterQueues: {
        'ingest queue': ingest.queue.deadLetterQueue,
        'files not ingested': ingest.fileFailures,
        'campaign queue': campaigns.queue.deadLetterQueue,
        'erasure requests': erasure.queue.deadLetterQueue,
        'daily schedule': schedule.deadLetterQueue,
      },
    });
    acknowledge(
      this,
      'AWSLambdaBasicExecutionRole only lets a function write its own CloudWatch logs (our functions and the S3-notification helper CDK adds).',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    );

    new CfnOutput(this, 'LakeBucket', {
      value: lake.bucket.bucketName,
      description: 'Drop bulk files under landing/orders/, landing/surveys/, landing/spend/ or landing/fx-rates/',
    });
    new CfnOutput(this, 'IngestFileFailuresUrl', {
      value: ingest.fileFailures.queueUrl,
      description: 'Files that could not be ingested, with the error (docs/aws.md: a file that failed to ingest)',
    });
    new CfnOutput(this, 'IngestQueueUrl', { value: ingest.queue.queue.queueUrl, description: 'Send single events here, message attribute event_type' });
    new CfnOutput(this, 'ErasureQueueUrl', {
      value: erasure.queue.queue.queueUrl,
      description: 'Erase customers: send {"customer_ids": ["..."]} (docs/erasure.md)',
    });
    new CfnOutput(this, 'CampaignQueueUrl', { value: campaigns.queue.queue.queueUrl, description: 'Campaign messages for downstream services' });
    new CfnOutput(this, 'JobGraphStateMachine', {
      value: jobs.stateMachine.stateMachineArn,
      description: 'Start with {"as_of": "YYYY-MM-DD"} or a backfill {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}',
    });
    new CfnOutput(this, 'AthenaWorkGroup', { value: catalog.workGroup.name });
    new CfnOutput(this, 'GlueDatabase', { value: catalog.databaseName });
    new CfnOutput(this, 'Dashboard', {
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${operations.dashboard.dashboardName}`,
      description: 'Runs, ingest, campaign messages and dead-letter queues',
    });
    new CfnOutput(this, 'AlarmTopic', { value: alarms.topicArn, description: 'Subscribe to get alarms' });
  }
}
