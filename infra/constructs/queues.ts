import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';

export interface QueueWithDeadLetterProps {
  readonly key: IKey;
  readonly alarms: ITopic;
  /** How long the consumer may take per batch; the visibility timeout is six times it. */
  readonly consumerTimeout: Duration;
  /** Default 4 days; the dead-letter queue keeps messages for 14. */
  readonly retentionPeriod?: Duration;
  /** Deliveries before a message moves to the dead-letter queue. Default 5. */
  readonly maxReceiveCount?: number;
}

/**
 * A queue with its dead-letter queue: encrypted with the lake key, TLS only, a visibility
 * timeout six times the consumer's, a DLQ that keeps messages longer than the source, and an
 * alarm as soon as anything lands in it.
 */
export class QueueWithDeadLetter extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: QueueWithDeadLetterProps) {
    super(scope, id);
    const encryption = { encryption: QueueEncryption.KMS, encryptionMasterKey: props.key, enforceSSL: true };
    this.deadLetterQueue = new Queue(this, 'DeadLetter', { ...encryption, retentionPeriod: Duration.days(14) });
    this.queue = new Queue(this, 'Queue', {
      ...encryption,
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    new Alarm(this, 'DeadLetterNotEmpty', {
      alarmDescription: `Messages in ${id}'s dead-letter queue: they could not be processed and need a look.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new SnsAction(props.alarms));
    acknowledge(this.deadLetterQueue, 'This queue is itself the dead-letter queue of its source queue.', 'AwsSolutions-SQS3');
  }
}
