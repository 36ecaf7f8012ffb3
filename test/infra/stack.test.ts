import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.ts';
import { CURATED_TABLES, jobGraph } from '../../functions/core/jobs/graph.ts';
import { TABLE_DICTIONARY, tableDoc } from '../../functions/core/dictionary/index.ts';
import { listAnalyses } from '../../functions/core/analyses.ts';
import { latestView, latestViewSql } from '../../functions/core/lake/latest-views.ts';
import { columnComment } from '../../infra/table-schemas.ts';
import { runTable } from '../../functions/core/jobs/run-ids.ts';

/**
 * The CDK app synthesized for real (Lambda bundles built with the local esbuild) with cdk-nag's
 * AwsSolutions checks on: synth throws on any finding not acknowledged. Assertions name the
 * resources and properties that make the deployment safe, not snapshots.
 */
let app: App;
let template: Template;

beforeAll(() => {
  app = new App({ context: { scheduleTime: '04:30', scheduleTimezone: 'Europe/Berlin', bytesScannedCutoffPerQuery: '53687091200' } });
  // As `cdk synth` and `cdk deploy` build it: with a concrete account and region, which change
  // how cdk-nag prints ARNs (the acknowledgements must still match; iam.test.ts keeps tokens).
  Object.assign(process.env, { CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' });
  const built = buildApp(app);
  app.synth();
  template = Template.fromStack(built.stack);
}, 180_000);

const resourcesOf = (type: string) => Object.values(template.findResources(type)) as { Properties: Record<string, unknown> }[];

describe('lake', () => {
  it('encrypts data with the KMS key and bucket keys, versions it, logs access and blocks public access', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'lake/' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })]) },
    });
    for (const bucket of resourcesOf('AWS::S3::Bucket')) {
      expect(bucket.Properties['PublicAccessBlockConfiguration']).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  it('refuses plain HTTP on every bucket', () => {
    const policies = resourcesOf('AWS::S3::BucketPolicy');
    expect(policies).toHaveLength(resourcesOf('AWS::S3::Bucket').length);
    for (const policy of policies) {
      expect(JSON.stringify(policy.Properties['PolicyDocument'])).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('keeps every bucket when the stack is deleted (CloudFormation cannot delete one that holds objects)', () => {
    for (const [id, bucket] of Object.entries(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket['DeletionPolicy'], id).toBe('Retain');
      expect(bucket['UpdateReplacePolicy'], id).toBe('Retain');
    }
    expect(template.findResources('Custom::S3AutoDeleteObjects')).toEqual({});
  });

  it('expires query results and rotates the key', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 7, Status: 'Enabled' })]) },
      LoggingConfiguration: { LogFilePrefix: 'query-results/' },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});

describe('catalog and Athena', () => {
  it('enforces the workgroup configuration, encrypts results and cuts off large scans', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 53687091200,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() } },
      },
    });
  });

  it('declares every curated table with as_of partition projection, and raw events by dt', () => {
    const tables = new Map(
      resourcesOf('AWS::Glue::Table').map((table) => [
        (table.Properties['TableInput'] as { Name: string }).Name,
        table.Properties['TableInput'] as Record<string, never>,
      ]),
    );
    for (const name of CURATED_TABLES) {
      const table = tables.get(name)!;
      expect(table, name).toBeDefined();
      expect(table['PartitionKeys']).toEqual([{ Name: 'as_of', Type: 'date', Comment: expect.stringMatching(/^The run date/) }]);
      expect(table['Parameters']).toMatchObject({ 'projection.enabled': 'true', 'projection.as_of.type': 'date' });
    }
    expect(tables.get('orders')!['Parameters']).toMatchObject({ 'projection.enabled': 'true', 'projection.dt.type': 'date' });
    expect(tables.get('rejected_events')!['Parameters']).toMatchObject({ 'projection.event_type.values': 'orders,surveys,fx_rates,spend,unknown' });
    expect(tables.get('run_stg_purchases')!['Parameters']).toMatchObject({ 'projection.run_id.type': 'injected' });
    // The campaign log says who was held out, typed so that `where is_holdout` works in Athena.
    const columnsOf = (name: string) => (tables.get(name)!['StorageDescriptor'] as unknown as { Columns: { Name: string; Type: string }[] }).Columns;
    const logColumns = columnsOf('published_messages');
    expect(logColumns).toContainEqual({ Name: 'is_holdout', Type: 'boolean', Comment: expect.stringContaining('held out') });
    for (const name of ['campaign_outcomes', 'campaign_results']) {
      expect(
        columnsOf(name).map(({ Name, Type }) => ({ Name, Type })),
        name,
      ).toEqual(
        expect.arrayContaining([
          { Name: 'uplift_ci_low', Type: 'double' },
          { Name: 'holdout_customers', Type: 'bigint' },
        ]),
      );
    }
  });

  it("describes every table and column with the dictionary's words, so that Athena's DESCRIBE shows them", () => {
    const tables = new Map(
      resourcesOf('AWS::Glue::Table').map((table) => [
        (table.Properties['TableInput'] as { Name: string }).Name,
        table.Properties['TableInput'] as Record<string, never>,
      ]),
    );
    // Staging tables are in the catalog as their per-run outputs only; curated ones as both.
    const entries = TABLE_DICTIONARY.flatMap((doc) =>
      ({ source: [doc.name], staging: [runTable(doc.name)], curated: [doc.name, runTable(doc.name)] })[doc.layer].map((name) => [name, doc] as const),
    );
    expect(entries.length).toBeGreaterThan(30);
    for (const [name, doc] of entries) {
      const table = tables.get(name)!;
      expect(table['Description'], name).toContain(doc.summary);
      const columns = [...(table['StorageDescriptor'] as unknown as { Columns: Column[] }).Columns, ...(table['PartitionKeys'] as unknown as Column[])].filter(
        (column) => column.Name !== 'run_id',
      );
      expect(columns.map((column) => column.Name).sort(), name).toEqual(doc.columns.map((column) => column.name).sort());
      for (const column of doc.columns)
        expect(columns.find((each) => each.Name === column.name)!.Comment, `${name}.${column.name}`).toBe(columnComment(column));
    }
  });
});

type Column = { Name: string; Type: string; Comment: string };

describe('views and saved queries', () => {
  it('declares latest_<table> for every curated table as an Athena view of its newest as_of, with the columns of the table', () => {
    const tables = new Map(
      resourcesOf('AWS::Glue::Table').map((table) => [
        (table.Properties['TableInput'] as { Name: string }).Name,
        table.Properties['TableInput'] as Record<string, unknown>,
      ]),
    );
    for (const table of CURATED_TABLES) {
      const view = tables.get(latestView(table))!;
      expect(view, table).toMatchObject({ TableType: 'VIRTUAL_VIEW', Parameters: { presto_view: 'true' }, ViewExpandedText: '/* Presto View */' });
      const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(view['ViewOriginalText'] as string)![1]!;
      const definition = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as {
        originalSql: string;
        catalog: string;
        columns: { name: string; type: string }[];
      };
      expect(definition.originalSql).toBe(latestViewSql(table));
      expect(definition.catalog).toBe('awsdatacatalog');
      // Athena calls a view stale when these differ from what its SQL gives: the table's columns, partition last.
      expect(definition.columns.map((column) => column.name)).toEqual(tableDoc(table).columns.map((column) => column.name));
      const storage = (view['StorageDescriptor'] as { Columns: Column[] }).Columns;
      expect(storage.map((column) => `${column.Name} ${column.Type}`)).toEqual(tableDoc(table).columns.map((column) => `${column.name} ${column.type}`));
    }
  });

  it('saves every analysis of sql/analyses/ as a named query of the workgroup', () => {
    const queries = resourcesOf('AWS::Athena::NamedQuery').map((query) => query.Properties);
    expect(queries.map((query) => query['QueryString'])).toEqual(listAnalyses().map((analysis) => analysis.sql));
    for (const query of queries) expect(query['Name']).toMatch(/^[A-Z]/);
  });
});

describe('queues', () => {
  it('gives each queue a dead-letter queue that keeps messages longer, KMS encryption and six times the consumer timeout', () => {
    const queues = resourcesOf('AWS::SQS::Queue');
    const withRedrive = queues.filter((queue) => queue.Properties['RedrivePolicy']);
    expect(withRedrive).toHaveLength(3);
    for (const queue of withRedrive) {
      expect(queue.Properties['RedrivePolicy']).toMatchObject({ maxReceiveCount: 5 });
      expect(queue.Properties['MessageRetentionPeriod']).toBeLessThan(1_209_600);
    }
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 360, RedrivePolicy: Match.anyValue() });
    for (const queue of queues) expect(queue.Properties['KmsMasterKeyId']).toBeDefined();
    // The three queues' dead-letter queues (ingest, campaigns, erasure requests), the schedule's and the failed files'.
    expect(queues.filter((queue) => queue.Properties['MessageRetentionPeriod'] === 1_209_600)).toHaveLength(5);
    for (const policy of resourcesOf('AWS::SQS::QueuePolicy'))
      expect(JSON.stringify(policy.Properties['PolicyDocument'])).toContain('"aws:SecureTransport":"false"');
  });

  it('alarms when a dead-letter queue is not empty and when a run fails', () => {
    const alarms = resourcesOf('AWS::CloudWatch::Alarm');
    expect(alarms.filter((alarm) => alarm.Properties['MetricName'] === 'ApproximateNumberOfMessagesVisible')).toHaveLength(5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ExecutionsFailed', Threshold: 1 });
  });

  it('never drops a file S3 handed to the ingest function: after two retries it lands in a queue with an alarm, and errors alarm at once', () => {
    const fileFunction = Object.entries(template.findResources('AWS::Lambda::Function')).find(
      ([, fn]) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'ingest-file',
    )!;
    const [configuration] = resourcesOf('AWS::Lambda::EventInvokeConfig');
    expect(configuration!.Properties).toMatchObject({
      FunctionName: { Ref: fileFunction[0] },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^IngestFileFailures/), 'Arn'] } } },
    });
    const failuresQueue = (configuration!.Properties['DestinationConfig'] as { OnFailure: { Destination: { 'Fn::GetAtt': [string] } } }).OnFailure.Destination[
      'Fn::GetAtt'
    ][0];
    const alarms = resourcesOf('AWS::CloudWatch::Alarm');
    expect(
      alarms.some(
        (alarm) =>
          JSON.stringify(alarm.Properties['Dimensions']).includes(failuresQueue) && alarm.Properties['MetricName'] === 'ApproximateNumberOfMessagesVisible',
      ),
    ).toBe(true);
    expect(
      alarms.some((alarm) => alarm.Properties['MetricName'] === 'Errors' && JSON.stringify(alarm.Properties['Dimensions']).includes(fileFunction[0])),
    ).toBe(true);
    expect(template.findOutputs('IngestFileFailuresUrl')).not.toEqual({});
  });

  it('reads the ingest queue in batches that report item failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('functions', () => {
  it('run on the latest Node.js runtime, arm64, traced', () => {
    const functions = resourcesOf('AWS::Lambda::Function').filter((fn) =>
      JSON.stringify(fn.Properties['Environment'] ?? {}).includes('POWERTOOLS_SERVICE_NAME'),
    );
    expect(functions).toHaveLength(11);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    }
  });
});

describe('jobs', () => {
  const definition = () => {
    const machine = resourcesOf('AWS::StepFunctions::StateMachine')[0]!;
    return JSON.stringify(machine.Properties['DefinitionString']);
  };

  it('has one state per job-graph step, Athena steps synchronous, then promotion and publishing', () => {
    const text = definition();
    for (const step of jobGraph) expect(text, step.name).toContain(`Step ${step.name}`);
    expect(text).toContain('athena:startQueryExecution.sync');
    expect(text).toContain('$.plan.queries.campaign_audience');
    expect(text).toContain('Athena.TooManyRequestsException');
    for (const state of ['Plan run', 'Promote run', 'Publish campaigns', 'Write report', 'RunFailed']) expect(text).toContain(state);
    expect(text.indexOf('Promote run')).toBeGreaterThan(text.indexOf('Step campaign_audience'));
  });

  it('compacts the raw partitions first under the run lease, with access to raw/ alone', () => {
    const text = definition();
    expect(text).toContain('\\"StartAt\\":\\"Take run lease\\"');
    expect(text.indexOf('Take run lease')).toBeLessThan(text.indexOf('Compact raw files'));
    expect(text.indexOf('Compact raw files')).toBeLessThan(text.indexOf('Plan run'));
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.includes('CompactRaw'));
    expect(policies).toHaveLength(1);
    const document = JSON.stringify(policies[0]![1].Properties.PolicyDocument);
    expect(document).toContain('/raw/*');
    expect(document).toContain('"s3:DeleteObject"');
    for (const prefix of ['/curated/', '/runs/', '/rejected/', '/published/']) expect(document).not.toContain(prefix);
  });

  it("lets the run-lock function ask whether a lease's execution has ended, and an execution run as long as the lease lasts", () => {
    const locker = Object.entries(template.findResources('AWS::Lambda::Function')).find(
      ([, fn]) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'run-lock',
    )!;
    const role = (locker[1].Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const describe = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('JobsRunLockDescribesExecutions'))![1];
    expect(describe.Properties.Roles).toEqual([{ Ref: role }]);
    const machine = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
    expect(describe.Properties.PolicyDocument.Statement).toEqual([
      {
        Action: 'states:DescribeExecution',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:eu-west-1:123456789012:execution:', { 'Fn::GetAtt': [machine, 'Name'] }, ':*']],
        },
      },
    ]);
    // The lease outlasts the longest execution (run-request.ts), so a running execution never loses it.
    expect(definition()).toContain('\\"TimeoutSeconds\\":86400');
    expect(template.findResources('AWS::Events::Rule')).toEqual({});
  });

  it('has a dashboard of runs and their duration, events accepted and rejected, messages sent and every dead-letter queue', () => {
    const [dashboard] = resourcesOf('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard!.Properties['DashboardBody']);
    for (const metric of [
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionTime',
      'EventsAccepted',
      'EventsRejected',
      'CampaignMessagesSent',
      'CampaignCustomersHeldOut',
    ]) {
      expect(body, metric).toContain(metric);
    }
    // The functions publish with the dimension service (Powertools): the dashboard reads those series.
    for (const service of ['ingest-file', 'ingest-queue', 'publish']) expect(body).toContain(`\\"service\\",\\"${service}\\"`);
    const deadLetterQueues = Object.entries(template.findResources('AWS::SQS::Queue')).filter(
      ([, queue]) => queue.Properties.MessageRetentionPeriod === 1_209_600,
    );
    expect(deadLetterQueues).toHaveLength(5);
    for (const [id] of deadLetterQueues) expect(body, id).toContain(id);
    expect(template.findOutputs('Dashboard')).not.toEqual({});
  });

  it('logs every execution, to a vended-logs log group, and traces it', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: { Level: 'ALL' },
      TracingConfiguration: { Enabled: true },
    });
    const groups = resourcesOf('AWS::Logs::LogGroup')
      .map((group) => group.Properties['LogGroupName'])
      .filter((name) => typeof name === 'string');
    expect(groups).toContain('/aws/vendedlogs/states/CustomerMarketingPipeline-JobGraph');
  });

  it('runs daily at the configured time and zone, with a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 4 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Input: JSON.stringify({ scheduled_time: '<aws.scheduler.scheduled-time>' }), DeadLetterConfig: { Arn: Match.anyValue() } },
    });
  });
});

describe('cdk-nag', () => {
  it('passed at synth, and every acknowledgement names a finding and says why', () => {
    const acknowledgements: { id: string; reason: string }[] = [];
    const visit = (node: IConstruct) => {
      for (const entry of node.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) acknowledgements.push({ id, reason });
        }
      }
      for (const child of node.node.children) visit(child);
    };
    visit(app);
    const nag = acknowledgements.filter(({ id }) => id.includes('AwsSolutions-'));
    expect(nag.length).toBeGreaterThan(10);
    for (const { id, reason } of nag) {
      if (id.includes('IAM')) expect(id, 'IAM acknowledgements name their finding').toMatch(/\[.+\]$/);
      expect(reason.length, id).toBeGreaterThan(30);
    }
  });
});
