import { Stack } from 'aws-cdk-lib';
import { Grant, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { AthenaStartQueryExecution } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { AthenaStartQueryExecutionProps } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { PipelineConfig } from '../../functions/core/config.ts';
import { runTable } from '../../functions/core/jobs/run-ids.ts';
import { stackArnFinding } from '../nag.ts';

export interface AthenaAccess {
  readonly workGroupName: string;
  readonly databaseName: string;
  readonly queryResults: IBucket;
}

/** What the constructs that run after ingest (campaigns, jobs) share from the lake and catalog. */
export interface PipelineResources extends AthenaAccess {
  readonly bucket: IBucket;
  readonly key: IKey;
  readonly alarms: ITopic;
  readonly pipeline: PipelineConfig;
}

const workGroupArn = (stack: Stack, access: AthenaAccess) => stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: access.workGroupName });

/**
 * The Glue tables over the job graph's per-run outputs, as one resource pattern: the graph grows
 * a table with each step, and an ARN per table would outgrow an IAM policy's size limit.
 */
export const RUN_TABLES = runTable('*');

/** The nag finding of the run_* Glue table pattern, acknowledged where it is granted. */
export const runTablesFinding = (scope: Construct, database: string) => stackArnFinding(scope, 'glue', `table/${database}/${RUN_TABLES}`);

/**
 * What an Athena query needs besides the Athena API: read access to the catalog entries of the
 * named tables of the pipeline's database (never the others, never write access to the
 * catalog), and reading and writing query results. Athena never deletes results (the bucket's
 * lifecycle does), so no delete. The data the tables point at is granted by prefix, per caller.
 */
export function grantQueryData(grantee: IGrantable, access: AthenaAccess, tables: readonly string[]): void {
  const stack = Stack.of(access.queryResults);
  Grant.addToPrincipal({
    grantee,
    actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
    resourceArns: [
      stack.formatArn({ service: 'glue', resource: 'catalog' }),
      stack.formatArn({ service: 'glue', resource: 'database', resourceName: access.databaseName }),
      ...tables.map((table) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${access.databaseName}/${table}` })),
    ],
  });
  access.queryResults.grantRead(grantee);
  access.queryResults.grantPut(grantee);
}

/**
 * Lets a function run Athena queries in the pipeline's workgroup over the named tables of its
 * database: only those tables' catalog entries, and the query-results bucket.
 */
export function grantAthenaQueries(grantee: IGrantable, access: AthenaAccess, tables: readonly string[]): void {
  Grant.addToPrincipal({
    grantee,
    // Stop: a query still running when the engine's timeout comes is stopped, not left scanning.
    actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
    resourceArns: [workGroupArn(Stack.of(access.queryResults), access)],
  });
  grantQueryData(grantee, access, tables);
}

/**
 * A Step Functions task that runs one Athena query (.sync) in the pipeline's workgroup, with
 * only the permissions the integration itself needs: start, poll and stop the query. CDK's
 * AthenaStartQueryExecution also grants s3:GetObject, s3:ListBucket and s3:CreateBucket on every
 * bucket ("*"), s3:PutObject on every bucket unless the task names an output location (the
 * workgroup enforces ours), lakeformation:GetDataAccess on "*" and Glue create, update and delete
 * on the whole database; a job-graph step needs none of it. What its queries read and write is
 * granted to the state machine once, by prefix (see Jobs).
 */
export class AthenaQueryTask extends AthenaStartQueryExecution {
  constructor(scope: Construct, id: string, props: AthenaStartQueryExecutionProps & { readonly workGroup: string }) {
    super(scope, id, props);
    const stack = Stack.of(this);
    this.taskPolicies!.splice(
      0,
      this.taskPolicies!.length,
      new PolicyStatement({
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
        resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workGroup })],
      }),
      new PolicyStatement({
        actions: ['athena:GetDataCatalog'],
        resources: [
          stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: props.queryExecutionContext?.catalogName ?? 'AwsDataCatalog' }),
        ],
      }),
    );
  }
}
