import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CURATED_TABLES } from '../../functions/core/jobs/graph.ts';
import { acknowledge, acknowledgeFunctionRole, arnToken, wildcard } from '../nag.ts';
import { grantAthenaQueries, RUN_TABLES, runTablesFinding } from './athena-access.ts';
import type { PipelineResources } from './athena-access.ts';
import { grantLake, LEASE_REASON, lakeAreaFinding } from './lake-access.ts';
import { PipelineFunction } from './pipeline-function.ts';

/** The functions an execution of the job graph invokes, besides the publisher. */
export interface RunFunctions {
  readonly locker: PipelineFunction;
  readonly compactor: PipelineFunction;
  readonly planner: PipelineFunction;
  readonly fitter: PipelineFunction;
  readonly tester: PipelineFunction;
  readonly promoter: PipelineFunction;
  readonly reporter: PipelineFunction;
}

/**
 * Creates the run's functions in `scope` (the Jobs construct: their ids there, PlanRun,
 * RunLock, ..., are the deployed logical ids) and grants each the lake areas, tables and
 * actions its code uses, no more, with every cdk-nag acknowledgement that leaves and why.
 */
export function createRunFunctions(scope: Construct, props: PipelineResources): RunFunctions {
  const lake = { LAKE_BUCKET: props.bucket.bucketName };
  const planner = new PipelineFunction(scope, 'PlanRun', {
    handler: 'prepare-run',
    description: 'Renders every SQL step of the job graph for Athena, for one date of an execution',
    environment: { ...lake, PIPELINE_CONFIG: JSON.stringify(props.pipeline) },
    needsSql: true,
  });
  const locker = new PipelineFunction(scope, 'RunLock', {
    handler: 'run-lock',
    description: "Checks an execution's input and takes or releases the lake's run lease: one execution at a time",
    environment: { ...lake, PIPELINE_CONFIG: JSON.stringify(props.pipeline) },
  });
  const fitter = new PipelineFunction(scope, 'FitClv', {
    handler: 'fit-clv',
    description: 'Fits BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma on the run; writes clv_model and the P(alive) and purchase curves customer_clv joins',
    environment: { ...lake, PIPELINE_CONFIG: JSON.stringify(props.pipeline) },
    timeout: Duration.minutes(15),
    memorySize: 3008,
    needsParquet: true,
  });
  const compactor = new PipelineFunction(scope, 'CompactRaw', {
    handler: 'compact-raw',
    description: 'Merges the small raw files of each partition before the run reads them',
    environment: lake,
    timeout: Duration.minutes(15),
    memorySize: 3008,
    needsParquet: true,
  });
  const tester = new PipelineFunction(scope, 'TestRun', {
    handler: 'test-run',
    description: "Runs the table dictionary's data tests on every table of a run, on Athena, before anything is promoted",
    environment: { ATHENA_WORKGROUP: props.workGroupName, GLUE_DATABASE: props.databaseName },
    timeout: Duration.minutes(15),
  });
  const promoter = new PipelineFunction(scope, 'PromoteRun', {
    handler: 'promote-run',
    description: "Replaces the curated partitions of the as_of with a finished run's output",
    environment: lake,
    timeout: Duration.minutes(15),
    // A table UNLOADed as several files is merged into one in memory (a million customers'
    // summary is tens of MB of Parquet), as the CLV fit reads the same table.
    memorySize: 3008,
    needsParquet: true,
  });
  const reporter = new PipelineFunction(scope, 'WriteReport', {
    handler: 'write-report',
    description: 'Writes the HTML report of a run to reports/as_of=DATE/report.html',
    environment: { ...lake, ATHENA_WORKGROUP: props.workGroupName, GLUE_DATABASE: props.databaseName },
    timeout: Duration.minutes(10),
    extraFiles: ['node_modules/chart.js/dist/chart.umd.min.js'],
  });
  const functions = { locker, compactor, planner, fitter, tester, promoter, reporter };
  grantRunFunctions(scope, functions, props);
  return functions;
}

function grantRunFunctions(scope: Construct, functions: RunFunctions, props: PipelineResources): void {
  const { locker, compactor, planner, fitter, tester, promoter, reporter } = functions;
  grantAthenaQueries(reporter.function, props, CURATED_TABLES);
  grantLake(props.bucket, reporter.function, 'curated', 'read');
  grantLake(props.bucket, reporter.function, 'reports', 'put');
  // The data tests read this run's outputs through the run_<table> Glue tables, nothing else.
  grantAthenaQueries(tester.function, props, [RUN_TABLES]);
  grantLake(props.bucket, tester.function, 'runs', 'read');
  grantLake(props.bucket, fitter.function, 'runs', 'read', 'put');
  grantLake(props.bucket, compactor.function, 'raw', 'read', 'put', 'delete');
  // Promotion reads runs/, writes each curated/ partition's one file and removes stale ones; it never reads curated data.
  grantLake(props.bucket, promoter.function, 'runs', 'read');
  grantLake(props.bucket, promoter.function, 'curated', 'put', 'delete');
  acknowledgeFunctionRole(reporter, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
  acknowledge(
    reporter,
    'The report reads the curated partitions of its as_of (through Athena), writes reports/as_of=DATE/ and reads and writes Athena query results.',
    lakeAreaFinding(props.bucket, 'curated'),
    lakeAreaFinding(props.bucket, 'reports'),
    wildcard(`Resource::${arnToken(props.queryResults)}/*`),
  );
  acknowledgeFunctionRole(planner, []);
  // The run lease: taken by the first state, confirmed by compaction and promotion.
  for (const holder of [locker, compactor, promoter]) {
    grantLake(props.bucket, holder.function, 'runLease', 'read', 'put', 'delete');
    acknowledge(holder, LEASE_REASON, lakeAreaFinding(props.bucket, 'runLease'));
  }
  acknowledgeFunctionRole(locker, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
  acknowledgeFunctionRole(tester, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
  acknowledge(
    tester,
    'The data tests read the outputs of their run under runs/ (the run id is only known at run time) through Athena, and read and write Athena query results.',
    lakeAreaFinding(props.bucket, 'runs'),
    runTablesFinding(scope, props.databaseName),
    wildcard(`Resource::${arnToken(props.queryResults)}/*`),
  );
  acknowledgeFunctionRole(fitter, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
  acknowledgeFunctionRole(promoter, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
  acknowledgeFunctionRole(compactor, ['s3:Abort*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']);
  acknowledge(compactor, 'Compaction rewrites raw partitions, whose dates are only known when it lists them.', lakeAreaFinding(props.bucket, 'raw'));
  acknowledge(
    fitter,
    'The CLV step reads and writes the outputs of its run under runs/; the run id is only known at run time.',
    lakeAreaFinding(props.bucket, 'runs'),
  );
  acknowledge(
    promoter,
    'Promotion copies a run from runs/ into the curated/ partitions of its as_of, both known only at run time.',
    lakeAreaFinding(props.bucket, 'runs'),
    lakeAreaFinding(props.bucket, 'curated'),
  );
}
