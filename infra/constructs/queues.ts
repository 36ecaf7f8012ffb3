import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';

export interface DeadLetterQueueProps {
  readonly key: IKey;
  readonly alarms: ITopic;
  /** What landed in it, for the alarm: "<this> could not be processed and needs a look." */
  readonly holds: string;
}

/**
 * A queue that keeps what could not be processed for 14 days, encrypted with the lake key, TLS
 * only, with an alarm as soon as anything lands in it.
 */
export function deadLetterQueue(scope: Construct, id: string, props: DeadLetterQueueProps): Queue {
  const queue = new Queue(scope, id, { encryption: QueueEncryption.KMS, encryptionMasterKey: props.key, enforceSSL: true, retentionPeriod: Duration.days(14) });
  new Alarm(scope, `${id}NotEmpty`, {
    alarmDescription: `${props.holds} could not be processed and needs a look.`,
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  }).addAlarmAction(new SnsAction(props.alarms));
  acknowledge(queue, 'This queue is itself a dead-letter queue.', 'AwsSolutions-SQS3');
  return queue;
}

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
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetter', { key: props.key, alarms: props.alarms, holds: `A message of ${id}` });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
  }
}
