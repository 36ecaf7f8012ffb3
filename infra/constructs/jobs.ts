import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  IntegrationPattern,
  JsonPath,
  LogLevel,
  Map as MapState,
  Pass,
  StateMachine,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { IChainable, TaskStateBase } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { RUN_TIMEOUT_MS } from '../../functions/core/jobs/run-request.ts';
import { jobGraph, SOURCE_TABLES } from '../../functions/core/jobs/graph.ts';
import type { JobStep } from '../../functions/core/jobs/graph.ts';
import { acknowledge, arnToken, REASONS, stackArnFinding, wildcard } from '../nag.ts';
import { AthenaQueryTask, grantQueryData, RUN_TABLES, runTablesFinding } from './athena-access.ts';
import type { PipelineResources } from './athena-access.ts';
import { grantLake, lakeAreaFinding } from './lake-access.ts';
import type { PipelineFunction } from './pipeline-function.ts';
import { createRunFunctions } from './run-functions.ts';
import type { RunFunctions } from './run-functions.ts';

export interface JobsProps extends PipelineResources {
  readonly publisher: PipelineFunction;
}

/**
 * The job graph as a Step Functions state machine, generated from the same definition as the
 * local runner. An execution first takes the lake's run lease (waiting while another execution
 * holds it) and merges the raw files; then, for each of its dates in order, oldest first: plan
 * the run, one Athena task (.sync) per SQL step and a Lambda task for the CLV fit, in graph
 * order; test every table of the run against the table dictionary, promote the run's curated
 * tables, publish the campaign audience (unless the input says not to) and write the report.
 * Any failure, a data test included, stops the execution before that date is promoted, so
 * nothing partial or wrong is published, and names the date; the lease is released on every
 * way out, and is free 16 minutes after an execution was stopped or timed out.
 * Input `{ "as_of": "YYYY-MM-DD" }`, `{ "from": ..., "to": ... }` (a backfill) or the daily
 * schedule's `{ "scheduled_time": ... }` (the day before, in the business time zone); see
 * functions/core/jobs/run-request.ts.
 */
export class Jobs extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: JobsProps) {
    super(scope, id);
    const functions = createRunFunctions(this, props);
    const eachDate = this.runEachDate(functions, props);
    this.stateMachine = this.createStateMachine(this.holdingTheLease(eachDate, functions));
    const { locker, compactor, planner, fitter, tester, promoter, reporter } = functions;
    this.grantAthenaSteps(props, [locker, compactor, planner, fitter, tester, promoter, props.publisher, reporter]);
    this.letRunLockDescribeExecutions(locker);
    new Alarm(this, 'RunFailedAlarm', {
      alarmDescription: 'A run of the job graph failed: nothing was promoted or published for the date it names, nor for the dates after it.',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new SnsAction(props.alarms));
  }

  /** One date's run, from planning to the report, looped over the execution's dates in order. */
  private runEachDate(functions: RunFunctions, props: JobsProps): MapState {
    const { planner, fitter, tester, promoter, reporter } = functions;
    // Inside the loop over dates: a failure ends that date's run before promotion, naming the date.
    const dateFailed = new Fail(this, 'DateFailed', {
      errorPath: JsonPath.stringAt('$.error.Error'),
      causePath: JsonPath.format('as_of {}: {}', JsonPath.stringAt('$.as_of'), JsonPath.stringAt('$.error.Cause')),
    });
    const guard = <T extends TaskStateBase>(task: T): T => {
      task.addCatch(dateFailed, { resultPath: '$.error' });
      return task;
    };
    const runIds = TaskInput.fromObject({ as_of: JsonPath.stringAt('$.plan.as_of'), run_id: JsonPath.stringAt('$.plan.run_id') });

    const plan = guard(
      new LambdaInvoke(this, 'Plan run', {
        lambdaFunction: planner.function,
        payload: TaskInput.fromObject({ as_of: JsonPath.stringAt('$.as_of'), execution: JsonPath.stringAt('$.execution') }),
        payloadResponseOnly: true,
        resultPath: '$.plan',
      }),
    );
    const steps = jobGraph.map((step) => this.stepTask(step, props, runIds, guard, fitter));
    // The test step's error says which table, column and test failed, with example rows.
    const testData = guard(new LambdaInvoke(this, 'Test data', { lambdaFunction: tester.function, payload: runIds, resultPath: JsonPath.DISCARD }));
    const promote = guard(
      new LambdaInvoke(this, 'Promote run', {
        lambdaFunction: promoter.function,
        payload: TaskInput.fromObject({
          as_of: JsonPath.stringAt('$.plan.as_of'),
          run_id: JsonPath.stringAt('$.plan.run_id'),
          execution: JsonPath.stringAt('$$.Execution.Id'),
          lease_generation: JsonPath.numberAt('$.lease_generation'),
        }),
        resultPath: JsonPath.DISCARD,
      }),
    );
    const publish = new LambdaInvoke(this, 'Publish campaigns', {
      lambdaFunction: props.publisher.function,
      payload: TaskInput.fromObject({ as_of: JsonPath.stringAt('$.plan.as_of') }),
      resultPath: JsonPath.DISCARD,
    });
    // Another publisher of the lake (someone invoking the function by hand) is at work: wait for it.
    publish.addRetry({ errors: ['LeaseBusyError'], interval: Duration.seconds(30), backoffRate: 1, maxAttempts: 20 });
    guard(publish);
    const report = guard(
      new LambdaInvoke(this, 'Write report', {
        lambdaFunction: reporter.function,
        payload: TaskInput.fromObject({ as_of: JsonPath.stringAt('$.plan.as_of') }),
        resultPath: JsonPath.DISCARD,
      }),
    );
    // Each date ends with only its date in its output: the loop's results stay small.
    const dateDone = new Pass(this, 'Date done', { parameters: { as_of: JsonPath.stringAt('$.as_of') } });
    let oneDate = plan.next(steps[0]!);
    for (const step of steps.slice(1)) oneDate = oneDate.next(step);
    oneDate = oneDate
      .next(testData)
      .next(promote)
      .next(new Choice(this, 'Publish?').when(Condition.booleanEquals('$.publish', true), publish.next(report)).otherwise(report));
    report.next(dateDone);

    const eachDate = new MapState(this, 'Run each date', {
      itemsPath: JsonPath.stringAt('$.run.dates'),
      // One date at a time, in order: a date's tables are promoted before the next one runs.
      maxConcurrency: 1,
      itemSelector: {
        as_of: JsonPath.stringAt('$$.Map.Item.Value'),
        execution: JsonPath.stringAt('$$.Execution.Name'),
        publish: JsonPath.stringAt('$.run.publish'),
        lease_generation: JsonPath.numberAt('$.run.lease_generation'),
      },
      resultPath: JsonPath.DISCARD,
    });
    eachDate.itemProcessor(plan);
    return eachDate;
  }

  /** The loop between taking the lake's run lease (and compacting) and giving it back, on every way out. */
  private holdingTheLease(eachDate: MapState, functions: RunFunctions): IChainable {
    const { locker, compactor } = functions;
    // Outside the loop: the lease is taken first and given up on every way out.
    const release = (id: string) =>
      new LambdaInvoke(this, id, {
        lambdaFunction: locker.function,
        payload: TaskInput.fromObject({ action: 'release', execution: JsonPath.stringAt('$$.Execution.Id') }),
        resultPath: JsonPath.DISCARD,
      });
    const runFailed = new Fail(this, 'RunFailed', { errorPath: JsonPath.stringAt('$.error.Error'), causePath: JsonPath.stringAt('$.error.Cause') });
    const releaseAfterFailure = release('Release lease after failure');
    releaseAfterFailure.addCatch(runFailed, { resultPath: '$.releaseError' });
    releaseAfterFailure.next(runFailed);
    const acquire = new LambdaInvoke(this, 'Take run lease', {
      lambdaFunction: locker.function,
      payload: TaskInput.fromObject({ action: 'acquire', input: JsonPath.entirePayload, execution: JsonPath.stringAt('$$.Execution.Id') }),
      payloadResponseOnly: true,
      resultPath: '$.run',
    });
    // Another execution holds the lake: try again every minute, for up to six hours.
    acquire.addRetry({ errors: ['RunLockBusyError'], interval: Duration.minutes(1), backoffRate: 1, maxAttempts: 360 });
    acquire.addCatch(new Fail(this, 'RunNotStarted', { errorPath: JsonPath.stringAt('$.error.Error'), causePath: JsonPath.stringAt('$.error.Cause') }), {
      resultPath: '$.error',
    });
    const compact = new LambdaInvoke(this, 'Compact raw files', {
      lambdaFunction: compactor.function,
      payload: TaskInput.fromObject({ execution: JsonPath.stringAt('$$.Execution.Id'), lease_generation: JsonPath.numberAt('$.run.lease_generation') }),
      resultPath: JsonPath.DISCARD,
    });
    compact.addCatch(releaseAfterFailure, { resultPath: '$.error' });
    eachDate.addCatch(releaseAfterFailure, { resultPath: '$.error' });
    const releaseAfterSuccess = release('Release lease');
    releaseAfterSuccess.addCatch(runFailed, { resultPath: '$.error' });
    const chain = acquire.next(compact).next(eachDate).next(releaseAfterSuccess).next(new Succeed(this, 'Done'));
    return chain;
  }

  private createStateMachine(chain: IChainable): StateMachine {
    // Under /aws/vendedlogs/: CloudWatch Logs then needs no resource policy entry per log group
    // for Step Functions to deliver to it (that policy is capped at 5,120 characters per account).
    const logs = new LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-JobGraph`,
      retention: RetentionDays.THREE_MONTHS,
      // Named, so deleted with the stack: a kept one would block deploying the stack again.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    return new StateMachine(this, 'JobGraph', {
      definitionBody: DefinitionBody.fromChainable(chain),
      timeout: Duration.millis(RUN_TIMEOUT_MS),
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });
  }

  private grantAthenaSteps(props: JobsProps, invoked: readonly PipelineFunction[]): void {
    // Athena runs the steps with the state machine's credentials: it reads the sources (raw
    // events, the published-message log) and this run's earlier outputs, and UNLOADs each step
    // to a fresh prefix under runs/. It never deletes (a failed UNLOAD leaves its files, and
    // runs/ expires), never reads rejected/ or curated/, and the catalog is only read.
    for (const area of ['raw', 'published', 'runs'] as const) grantLake(props.bucket, this.stateMachine, area, 'read');
    grantLake(props.bucket, this.stateMachine, 'runs', 'put');
    grantQueryData(this.stateMachine, props, [...SOURCE_TABLES, RUN_TABLES]);
    acknowledge(
      this.stateMachine,
      'X-Ray (PutTraceSegments, PutTelemetryRecords, sampling rules) and CloudWatch Logs log delivery for the execution logs accept no resource but "*".',
      wildcard('Resource::*'),
    );
    acknowledge(this.stateMachine, REASONS.kms, wildcard('Action::kms:GenerateDataKey*'), wildcard('Action::kms:ReEncrypt*'));
    acknowledge(
      this.stateMachine,
      REASONS.s3Actions,
      ...['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((action) => wildcard(`Action::${action}`)),
    );
    acknowledge(
      this.stateMachine,
      'Athena runs the job graph with this role: it reads raw/ and published/campaigns/, reads and writes the per-run step outputs under runs/ (run ids are known only at run time), and reads and writes query results.',
      runTablesFinding(this, props.databaseName),
      lakeAreaFinding(props.bucket, 'raw'),
      lakeAreaFinding(props.bucket, 'published'),
      lakeAreaFinding(props.bucket, 'runs'),
      wildcard(`Resource::${arnToken(props.queryResults)}/*`),
    );
    acknowledge(
      this.stateMachine,
      'LambdaInvoke tasks may invoke the versions and aliases of the eight functions of a run.',
      ...invoked.map((fn) => wildcard(`Resource::${arnToken(fn.function)}:*`)),
    );
  }

  private letRunLockDescribeExecutions(locker: PipelineFunction): void {
    // The run-lock function asks Step Functions whether a lease's execution has ended. A policy of
    // its own, added after the state machine: on the function's role it would make the function
    // depend on the state machine that depends on it.
    const describeExecutions = new Policy(this, 'RunLockDescribesExecutions', {
      roles: [locker.function.role!],
      statements: [
        new PolicyStatement({
          actions: ['states:DescribeExecution'],
          resources: [
            Stack.of(this).formatArn({
              service: 'states',
              resource: 'execution',
              resourceName: `${this.stateMachine.stateMachineName}:*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ],
    });
    acknowledge(
      describeExecutions,
      'The run-lock function describes the executions of this state machine, whose names are only known at run time.',
      stackArnFinding(this, 'states', `execution:<${Stack.of(this).getLogicalId(this.stateMachine.node.defaultChild as CfnElement)}.Name>:*`),
    );
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
    task.addRetry({
      errors: ['Athena.TooManyRequestsException', 'Athena.InternalServerException'],
      interval: Duration.seconds(10),
      backoffRate: 2,
      maxAttempts: 6,
    });
    return guard(task);
  }
}
