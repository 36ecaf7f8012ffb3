import { Duration } from 'aws-cdk-lib';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { EventType } from 'aws-cdk-lib/aws-s3';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeFunctionRole } from '../nag.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { grantLake, lakeAreaFinding } from './lake-access.ts';
import { deadLetterQueue, QueueWithDeadLetter } from './queues.ts';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';

export interface IngestProps {
  readonly bucket: IBucket;
  readonly key: IKey;
  readonly alarms: ITopic;
  /** Events dated before it are refused (config earliestEventDate). */
  readonly earliestEventDate: string;
}

const CONSUMER_TIMEOUT = Duration.minutes(1);

/**
 * Two ways in: producers send single events to the ingest queue (message attribute
 * event_type = orders | surveys | spend | fx_rates), and bulk files are dropped under
 * landing/orders/, landing/surveys/, landing/spend/ or landing/fx-rates/. Both end in raw/ or rejected/.
 */
export class Ingest extends Construct {
  readonly queue: QueueWithDeadLetter;
  readonly queueFunction: PipelineFunction;
  readonly fileFunction: PipelineFunction;
  /** S3 events whose file could not be ingested after Lambda's retries, with the error. */
  readonly fileFailures: IQueue;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    this.queue = new QueueWithDeadLetter(this, 'IngestQueue', { key: props.key, alarms: props.alarms, consumerTimeout: CONSUMER_TIMEOUT });
    const environment = { LAKE_BUCKET: props.bucket.bucketName, EARLIEST_EVENT_DATE: props.earliestEventDate };

    this.queueFunction = new PipelineFunction(this, 'FromQueue', {
      handler: 'ingest-queue',
      description: 'Ingests events from the ingest queue into raw/ and rejected/',
      environment,
      timeout: CONSUMER_TIMEOUT,
      needsParquet: true,
    });
    this.queueFunction.function.addEventSource(
      new SqsEventSource(this.queue.queue, { batchSize: 100, maxBatchingWindow: Duration.seconds(5), reportBatchItemFailures: true }),
    );

    this.fileFunction = new PipelineFunction(this, 'FromFile', {
      handler: 'ingest-file',
      description: 'Streams a bulk file dropped under landing/ into raw/ and rejected/',
      environment,
      timeout: Duration.minutes(15),
      memorySize: 2048,
      needsParquet: true,
    });
    props.bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(this.fileFunction.function), { prefix: 'landing/' });
    // S3 invokes the function asynchronously: after Lambda's two retries the event would be
    // dropped. It goes to a queue instead, with the error, and an alarm fires; docs/aws.md ("A file that
    // failed to ingest") says how to ingest the file again.
    this.fileFailures = deadLetterQueue(this, 'FileFailures', { key: props.key, alarms: props.alarms, holds: 'A file dropped under landing/' });
    this.fileFunction.function.configureAsyncInvoke({ onFailure: new SqsDestination(this.fileFailures), retryAttempts: 2, maxEventAge: Duration.hours(6) });
    new Alarm(this, 'FileFunctionErrors', {
      alarmDescription: 'Ingesting a file dropped under landing/ failed; Lambda retries it twice, then keeps it in the FileFailures queue.',
      metric: this.fileFunction.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new SnsAction(props.alarms));

    for (const fn of [this.queueFunction, this.fileFunction]) {
      grantLake(props.bucket, fn.function, 'raw', 'put');
      grantLake(props.bucket, fn.function, 'rejected', 'put');
      // Ingest refuses the events of erased customers: it reads the register and its key.
      grantLake(props.bucket, fn.function, 'erasures', 'read');
      acknowledgeFunctionRole(fn, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
      acknowledge(
        fn,
        'Ingest writes new objects under raw/ and rejected/ (names made per batch) and reads the erasure register, one object per request.',
        lakeAreaFinding(props.bucket, 'raw'),
        lakeAreaFinding(props.bucket, 'rejected'),
        lakeAreaFinding(props.bucket, 'erasures'),
      );
    }
    grantLake(props.bucket, this.fileFunction.function, 'landing', 'read');
    acknowledge(this.fileFunction, 'Bulk files arrive under landing/ with names chosen by the producer.', lakeAreaFinding(props.bucket, 'landing'));
  }
}
