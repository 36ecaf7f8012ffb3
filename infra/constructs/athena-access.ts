import { Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { PipelineConfig } from '../../functions/core/config.ts';

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

/**
 * Lets a function run Athena queries in the pipeline's workgroup over the named tables of its
 * database: only those tables' catalog entries, and the query-results bucket.
 */
export function grantAthenaQueries(fn: IFunction, access: AthenaAccess, tables: readonly string[]): void {
  const stack = Stack.of(fn);
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
      resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: access.workGroupName })],
    }),
  );
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
      resources: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: access.databaseName }),
        ...tables.map((table) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${access.databaseName}/${table}` })),
      ],
    }),
  );
  access.queryResults.grantReadWrite(fn);
}
