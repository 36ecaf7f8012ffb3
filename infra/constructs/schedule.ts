import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge, REASONS, wildcard } from '../nag.ts';
import { deadLetterQueue } from './queues.ts';

export interface DailyScheduleProps {
  readonly stateMachine: IStateMachine;
  readonly key: IKey;
  readonly alarms: ITopic;
  /** Daily run time, HH:MM, in timeZone. */
  readonly time: string;
  /** IANA zone of the time. */
  readonly timeZone: string;
}

/**
 * An EventBridge Scheduler schedule that starts the job graph every day for the day before
 * ({"scheduled_time": ...}; functions/core/jobs/run-request.ts), with a role that may start
 * that state machine only and a dead-letter queue (with an alarm) for starts that failed.
 */
export class DailySchedule extends Construct {
  readonly schedule: CfnSchedule;
  readonly deadLetterQueue: IQueue;

  constructor(scope: Construct, id: string, props: DailyScheduleProps) {
    super(scope, id);
    const deadLetters = deadLetterQueue(this, 'DeadLetter', { key: props.key, alarms: props.alarms, holds: 'A start of the job graph by the daily schedule' });
    this.deadLetterQueue = deadLetters;
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'Lets the daily schedule start the job graph',
    });
    role.addToPolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [props.stateMachine.stateMachineArn] }));
    deadLetters.grantSendMessages(role);
    acknowledge(role, REASONS.kms, wildcard('Action::kms:GenerateDataKey*'), wildcard('Action::kms:ReEncrypt*'));
    const [hour, minute] = props.time.split(':').map(Number) as [number, number];
    this.schedule = new CfnSchedule(this, 'Daily', {
      description: 'Runs the job graph every day for the day before',
      scheduleExpression: `cron(${minute} ${hour} * * ? *)`,
      scheduleExpressionTimezone: props.timeZone,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: props.stateMachine.stateMachineArn,
        roleArn: role.roleArn,
        input: JSON.stringify({ scheduled_time: '<aws.scheduler.scheduled-time>' }),
        deadLetterConfig: { arn: deadLetters.queueArn },
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    });
  }
}
