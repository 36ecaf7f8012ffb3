import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import { DefinitionBody, Fail, IntegrationPattern, JsonPath, LogLevel, StateMachine, Succeed, TaskInput } from 'aws-cdk-lib/aws-stepfunctions';
import type { TaskStateBase } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { runTable } from '../../functions/core/jobs/athena-plan.ts';
import { CURATED_TABLES, jobGraph, outputsOf, SOURCE_TABLES } from '../../functions/core/jobs/graph.ts';
import type { JobStep } from '../../functions/core/jobs/graph.ts';
import { lakeLayout } from '../../functions/core/lake/layout.ts';
import { acknowledge, acknowledgeFunctionRole, arnToken, REASONS, wildcard } from '../nag.ts';
import { AthenaQueryTask, grantAthenaQueries, grantQueryData, RUN_TABLES } from './athena-access.ts';
import type { PipelineResources } from './athena-access.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { deadLetterQueue } from './queues.ts';

/** The nag finding of the run_* Glue table pattern, acknowledged where it is granted (region and account as cdk-nag prints them). */
function runTablesFinding(scope: Construct, database: string): string {
  const stack = Stack.of(scope);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return wildcard(`Resource::arn:<AWS::Partition>:glue:${region}:${account}:table/${database}/${RUN_TABLES}`);
}

export interface JobsProps extends PipelineResources {
  readonly publisher: PipelineFunction;
  /** Daily run time, HH:MM, in scheduleTimezone. */
  readonly scheduleTime: string;
  readonly scheduleTimezone: string;
}

/**
 * The job graph as a Step Functions state machine, generated from the same definition as the
 * local runner: plan the run, one Athena task (.sync) per SQL step and a Lambda task for the
 * CLV fit, in graph order; then test every table of the run against the table dictionary,
 * promote the run's curated tables and publish the campaign audience. Any failure, a data test
 * included, stops the run before promotion, so nothing partial or wrong is published.
 * Input `{ "as_of": "YYYY-MM-DD" }` (any scheduler or a backfill loop) or the daily schedule's
 * `{ "scheduled_time": ... }` (the run covers the day before, in the business time zone).
 */
export class Jobs extends Construct {
  readonly stateMachine: StateMachine;
  readonly schedule: CfnSchedule;

  constructor(scope: Construct, id: string, props: JobsProps) {
    super(scope, id);
    const lake = { LAKE_BUCKET: props.bucket.bucketName };
    const planner = new PipelineFunction(this, 'PlanRun', {
      handler: 'prepare-run',
      description: 'Decides the as_of and renders every SQL step of the job graph for Athena',
      environment: { ...lake, PIPELINE_CONFIG: JSON.stringify(props.pipeline) },
      needsSql: true,
    });
    const fitter = new PipelineFunction(this, 'FitClv', {
      handler: 'fit-clv',
      description: 'Fits BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma on the run; writes clv_model and the P(alive) and purchase curves customer_clv joins',
      environment: { ...lake, PIPELINE_CONFIG: JSON.stringify(props.pipeline) },
      timeout: Duration.minutes(15),
      memorySize: 3008,
      needsParquet: true,
    });
    const compactor = new PipelineFunction(this, 'CompactRaw', {
      handler: 'compact-raw',
      description: 'Merges the raw files of each partition into one before the run reads them',
      environment: lake,
      timeout: Duration.minutes(15),
      memorySize: 3008,
      needsParquet: true,
    });
    const tester = new PipelineFunction(this, 'TestRun', {
      handler: 'test-run',
      description: "Runs the table dictionary's data tests on every table of a run, on Athena, before anything is promoted",
      environment: { ATHENA_WORKGROUP: props.workGroupName, GLUE_DATABASE: props.databaseName },
      timeout: Duration.minutes(15),
    });
    const promoter = new PipelineFunction(this, 'PromoteRun', {
      handler: 'promote-run',
      description: "Replaces the curated partitions of the as_of with a finished run's output",
      environment: lake,
      timeout: Duration.minutes(15),
      // A table UNLOADed as several files is merged into one in memory (a million customers'
      // summary is tens of MB of Parquet), as the CLV fit reads the same table.
      memorySize: 3008,
      needsParquet: true,
    });
    const reporter = new PipelineFunction(this, 'WriteReport', {
      handler: 'write-report',
      description: 'Writes the HTML report of a run to reports/as_of=DATE/report.html',
      environment: { ...lake, ATHENA_WORKGROUP: props.workGroupName, GLUE_DATABASE: props.databaseName },
      timeout: Duration.minutes(10),
      extraFiles: ['node_modules/chart.js/dist/chart.umd.min.js'],
    });
    grantAthenaQueries(reporter.function, props, CURATED_TABLES);
    props.bucket.grantRead(reporter.function, 'curated/*');
    props.bucket.grantPut(reporter.function, 'reports/*');
    // The data tests read this run's outputs through the run_<table> Glue tables, nothing else.
    grantAthenaQueries(tester.function, props, [RUN_TABLES]);
    props.bucket.grantRead(tester.function, 'runs/*');
    props.bucket.grantRead(fitter.function, 'runs/*');
    props.bucket.grantPut(fitter.function, 'runs/*');
    props.bucket.grantRead(compactor.function, 'raw/*');
    props.bucket.grantPut(compactor.function, 'raw/*');
    props.bucket.grantDelete(compactor.function, 'raw/*');
    // Promotion reads runs/, writes each curated/ partition's one file and removes stale ones; it never reads curated data.
    props.bucket.grantRead(promoter.function, 'runs/*');
    props.bucket.grantPut(promoter.function, 'curated/*');
    props.bucket.grantDelete(promoter.function, 'curated/*');
    const lakeArn = arnToken(props.bucket);
    acknowledgeFunctionRole(reporter, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
    acknowledge(
      reporter,
      'The report reads the curated partitions of its as_of (through Athena), writes reports/as_of=DATE/ and reads and writes Athena query results.',
      wildcard(`Resource::${lakeArn}/curated/*`),
      wildcard(`Resource::${lakeArn}/reports/*`),
      wildcard(`Resource::${arnToken(props.queryResults)}/*`),
    );
    acknowledgeFunctionRole(planner, []);
    acknowledgeFunctionRole(tester, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
    acknowledge(
      tester,
      'The data tests read the outputs of their run under runs/ (the run id is only known at run time) through Athena, and read and write Athena query results.',
      wildcard(`Resource::${lakeArn}/runs/*`),
      runTablesFinding(this, props.databaseName),
      wildcard(`Resource::${arnToken(props.queryResults)}/*`),
    );
    acknowledgeFunctionRole(fitter, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
    acknowledgeFunctionRole(promoter, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:DeleteObject*']);
    acknowledgeFunctionRole(compactor, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:DeleteObject*']);
    acknowledge(compactor, 'Compaction rewrites raw partitions, whose dates are only known when it lists them.', wildcard(`Resource::${lakeArn}/raw/*`));
    acknowledge(fitter, 'The CLV step reads and writes the outputs of its run under runs/; the run id is only known at run time.', wildcard(`Resource::${lakeArn}/runs/*`));
    acknowledge(
      promoter,
      'Promotion copies a run from runs/ into the curated/ partitions of its as_of, both known only at run time.',
      wildcard(`Resource::${lakeArn}/runs/*`),
      wildcard(`Resource::${lakeArn}/curated/*`),
    );

    const failed = new Fail(this, 'RunFailed', { error: 'RunFailed', cause: 'A step of the job graph failed; nothing was promoted or published.' });
    const guard = <T extends TaskStateBase>(task: T): T => {
      task.addCatch(failed, { resultPath: '$.error' });
      return task;
    };
    const runIds = TaskInput.fromObject({ as_of: JsonPath.stringAt('$.plan.as_of'), run_id: JsonPath.stringAt('$.plan.run_id') });

    const compact = guard(
      new LambdaInvoke(this, 'Compact raw files', { lambdaFunction: compactor.function, payload: TaskInput.fromObject({}), resultPath: JsonPath.DISCARD }),
    );
    const plan = guard(
      new LambdaInvoke(this, 'Plan run', {
        lambdaFunction: planner.function,
        payload: TaskInput.fromObject({ input: JsonPath.entirePayload, execution: JsonPath.stringAt('$$.Execution.Name') }),
        payloadResponseOnly: true,
        resultPath: '$.plan',
      }),
    );
    const steps = jobGraph.map((step) => this.stepTask(step, props, runIds, guard, fitter));
    const dataTestsFailed = new Fail(this, 'DataTestsFailed', {
      error: 'DataTestFailed',
      // The test step's error says which table, column and test failed, with example rows.
      causePath: JsonPath.stringAt('$.error.Cause'),
    });
    const testData = new LambdaInvoke(this, 'Test data', { lambdaFunction: tester.function, payload: runIds, resultPath: JsonPath.DISCARD });
    testData.addCatch(dataTestsFailed, { errors: ['DataTestFailedError'], resultPath: '$.error' });
    guard(testData);
    const promote = guard(new LambdaInvoke(this, 'Promote run', { lambdaFunction: promoter.function, payload: runIds, resultPath: JsonPath.DISCARD }));
    const publish = guard(
      new LambdaInvoke(this, 'Publish campaigns', {
        lambdaFunction: props.publisher.function,
        payload: TaskInput.fromObject({ as_of: JsonPath.stringAt('$.plan.as_of') }),
        resultPath: JsonPath.DISCARD,
      }),
    );
    const report = guard(
      new LambdaInvoke(this, 'Write report', {
        lambdaFunction: reporter.function,
        payload: TaskInput.fromObject({ as_of: JsonPath.stringAt('$.plan.as_of') }),
        resultPath: JsonPath.DISCARD,
      }),
    );
    let chain = compact.next(plan).next(steps[0]!);
    for (const step of steps.slice(1)) chain = chain.next(step);
    chain = chain.next(testData).next(promote).next(publish).next(report).next(new Succeed(this, 'Published'));

    const logs = new LogGroup(this, 'StateMachineLogs', { retention: RetentionDays.THREE_MONTHS });
    this.stateMachine = new StateMachine(this, 'JobGraph', {
      definitionBody: DefinitionBody.fromChainable(chain),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });
    // Athena runs the steps with the state machine's credentials: it reads the sources (raw
    // events, the published-message log) and this run's earlier outputs, and UNLOADs each step
    // to a fresh prefix under runs/. It never deletes (a failed UNLOAD leaves its files, and
    // runs/ expires), never reads rejected/ or curated/, and the catalog is only read.
    for (const prefix of ['raw/*', `${lakeLayout.published}*`, 'runs/*']) props.bucket.grantRead(this.stateMachine, prefix);
    props.bucket.grantPut(this.stateMachine, 'runs/*');
    grantQueryData(this.stateMachine, props, [...SOURCE_TABLES, RUN_TABLES]);
    acknowledge(
      this.stateMachine,
      'X-Ray (PutTraceSegments, PutTelemetryRecords, sampling rules) and CloudWatch Logs log delivery for the execution logs accept no resource but "*".',
      wildcard('Resource::*'),
    );
    acknowledge(this.stateMachine, REASONS.kms, wildcard('Action::kms:GenerateDataKey*'), wildcard('Action::kms:ReEncrypt*'));
    acknowledge(this.stateMachine, REASONS.s3Actions, ...['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((action) => wildcard(`Action::${action}`)));
    acknowledge(
      this.stateMachine,
      'Athena runs the job graph with this role: it reads raw/ and published/campaigns/, reads and writes the per-run step outputs under runs/ (run ids are known only at run time), and reads and writes query results.',
      runTablesFinding(this, props.databaseName),
      wildcard(`Resource::${lakeArn}/raw/*`),
      wildcard(`Resource::${lakeArn}/${lakeLayout.published}*`),
      wildcard(`Resource::${lakeArn}/runs/*`),
      wildcard(`Resource::${arnToken(props.queryResults)}/*`),
    );
    acknowledge(
      this.stateMachine,
      'LambdaInvoke tasks may invoke the versions and aliases of the seven functions of a run.',
      ...[compactor, planner, fitter, tester, promoter, props.publisher, reporter].map((fn) => wildcard(`Resource::${arnToken(fn.function)}:*`)),
    );

    new Alarm(this, 'RunFailedAlarm', {
      alarmDescription: 'A run of the job graph failed: nothing was promoted or published for its as_of.',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new SnsAction(props.alarms));

    this.schedule = this.dailySchedule(props);
  }

  private stepTask(
    step: JobStep,
    props: JobsProps,
    runIds: TaskInput,
    guard: <T extends TaskStateBase>(task: T) => T,
    fitter: PipelineFunction,
  ): TaskStateBase {
    if (step.type === 'typescript') {
      return guard(new LambdaInvoke(this, `Step ${step.name}`, { lambdaFunction: fitter.function, payload: runIds, resultPath: JsonPath.DISCARD }));
    }
    const task = new AthenaQueryTask(this, `Step ${step.name}`, {
      queryString: JsonPath.stringAt(`$.plan.queries.${step.name}`),
      clientRequestToken: JsonPath.stringAt(`$.plan.tokens.${step.name}`),
      workGroup: props.workGroupName,
      queryExecutionContext: { databaseName: props.databaseName },
      integrationPattern: IntegrationPattern.RUN_JOB,
      resultPath: JsonPath.DISCARD,
    });
    task.addRetry({ errors: ['Athena.TooManyRequestsException', 'Athena.InternalServerException'], interval: Duration.seconds(10), backoffRate: 2, maxAttempts: 6 });
    return guard(task);
  }

  private dailySchedule(props: JobsProps): CfnSchedule {
    const deadLetters = deadLetterQueue(this, 'ScheduleDeadLetter', { key: props.key, alarms: props.alarms, holds: 'A start of the job graph by the daily schedule' });
    const role = new Role(this, 'ScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'Lets the daily schedule start the job graph',
    });
    role.addToPolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }));
    deadLetters.grantSendMessages(role);
    acknowledge(role, REASONS.kms, wildcard('Action::kms:GenerateDataKey*'), wildcard('Action::kms:ReEncrypt*'));
    const [hour, minute] = props.scheduleTime.split(':').map(Number) as [number, number];
    return new CfnSchedule(this, 'Daily', {
      description: 'Runs the job graph every day for the day before',
      scheduleExpression: `cron(${minute} ${hour} * * ? *)`,
      scheduleExpressionTimezone: props.scheduleTimezone,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: this.stateMachine.stateMachineArn,
        roleArn: role.roleArn,
        input: JSON.stringify({ scheduled_time: '<aws.scheduler.scheduled-time>' }),
        deadLetterConfig: { arn: deadLetters.queueArn },
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    });
  }
}
