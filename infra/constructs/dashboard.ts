import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, MathExpression, Metric, TextWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, PIPELINE_METRICS } from '../../functions/core/metrics.ts';

export interface OperationsDashboardProps {
  readonly stateMachine: StateMachine;
  /** Every dead-letter queue of the stack, by what lands in it. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
}

const HOUR = Duration.hours(1);

/** A metric a function publishes (functions/core/metrics.ts), summed per hour. */
const published = (metricName: string, service: string, label: string) =>
  new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service }, statistic: 'Sum', period: HOUR, label });

/** A metric of both ingest functions together (math ids must be unique in a graph: the metric's key names them). */
const bothIngests = (metric: keyof typeof PIPELINE_METRICS, label: string): IMetric =>
  new MathExpression({
    expression: `FILL(${metric}File, 0) + FILL(${metric}Queue, 0)`,
    usingMetrics: {
      [`${metric}File`]: published(PIPELINE_METRICS[metric], 'ingest-file', 'file'),
      [`${metric}Queue`]: published(PIPELINE_METRICS[metric], 'ingest-queue', 'queue'),
    },
    label,
    period: HOUR,
  });

/**
 * One CloudWatch dashboard for whoever runs the pipeline: runs of the job graph and how long
 * they take, events accepted and rejected, campaign messages sent, and the depth of every
 * dead-letter queue (each of which also has an alarm).
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const machine = props.stateMachine;
    const perHour = { period: HOUR, statistic: 'Sum' };
    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(14),
      widgets: [
        [
          new TextWidget({
            markdown:
              '## Customer-marketing pipeline\nRuns of the job graph, ingest, campaign messages and dead-letter queues. docs/aws.md says what to do when something fails.',
            width: 24,
            height: 2,
          }),
        ],
        [
          new GraphWidget({
            title: 'Runs (executions per hour)',
            width: 12,
            left: [
              machine.metricStarted({ ...perHour, label: 'started' }),
              machine.metricSucceeded({ ...perHour, label: 'succeeded' }),
              machine.metricFailed({ ...perHour, label: 'failed' }),
              machine.metricTimedOut({ ...perHour, label: 'timed out' }),
              machine.metricAborted({ ...perHour, label: 'stopped' }),
            ],
          }),
          new GraphWidget({
            title: 'Run duration (minutes)',
            width: 12,
            left: [
              new MathExpression({
                expression: 'mean / 60000',
                usingMetrics: { mean: machine.metricTime({ period: HOUR, statistic: 'Average' }) },
                label: 'average',
                period: HOUR,
              }),
              new MathExpression({
                expression: 'longest / 60000',
                usingMetrics: { longest: machine.metricTime({ period: HOUR, statistic: 'Maximum' }) },
                label: 'longest',
                period: HOUR,
              }),
            ],
          }),
        ],
        [
          new GraphWidget({
            title: 'Events ingested (per hour)',
            width: 12,
            left: [
              bothIngests('eventsAccepted', 'accepted'),
              bothIngests('eventsRejected', 'rejected (kept with a reason)'),
              published(PIPELINE_METRICS.eventsFailed, 'ingest-queue', 'not stored yet (the queue delivers them again)'),
            ],
          }),
          new GraphWidget({
            title: 'Campaign messages (per hour)',
            width: 12,
            left: [
              published(PIPELINE_METRICS.messagesSent, 'publish', 'sent'),
              published(PIPELINE_METRICS.customersHeldOut, 'publish', 'held out'),
              published(PIPELINE_METRICS.messagesFailed, 'publish', 'failed'),
            ],
          }),
        ],
        [
          new GraphWidget({
            title: 'Dead-letter queues (messages waiting)',
            width: 24,
            left: Object.entries(props.deadLetterQueues).map(([label, queue]) =>
              queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum', label }),
            ),
          }),
        ],
      ],
    });
  }
}
