import { App, type Stack, Validations } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.ts';
import type { Campaigns } from '../../infra/constructs/campaigns.ts';
import type { Catalog } from '../../infra/constructs/catalog.ts';
import type { Erasure } from '../../infra/constructs/erasure.ts';
import type { Ingest } from '../../infra/constructs/ingest.ts';
import type { DailySchedule } from '../../infra/constructs/schedule.ts';
import type { Jobs } from '../../infra/constructs/jobs.ts';
import type { Lake } from '../../infra/constructs/lake.ts';
import type { PipelineFunction } from '../../infra/constructs/pipeline-function.ts';
import { NO_BUNDLING } from './no-bundling.ts';
import { runTable } from '../../functions/core/jobs/run-ids.ts';
import { ERASED_PREFIXES } from '../../functions/core/erasure/forget.ts';
import { CURATED_TABLES, SOURCE_TABLES } from '../../functions/core/jobs/graph.ts';

/**
 * Issue 8, security: every role of the stack gets the actions and the lake prefixes its code
 * uses, and nothing more. The policies are read from the synthesized template (cdk-nag on), with
 * every ARN resolved to <LogicalId>/suffix, and evaluated the way IAM does: an action pattern
 * such as s3:GetObject* grants s3:GetObject. What each role needs comes from its handler:
 * which ObjectStore calls it makes on which prefixes, which queue it sends to, which tables
 * its queries read.
 */

let stack: Stack;
let template: Template;

beforeAll(() => {
  const app = new App({ context: { scheduleTime: '04:30', scheduleTimezone: 'Europe/Berlin', bytesScannedCutoffPerQuery: '53687091200', ...NO_BUNDLING } });
  stack = buildApp(app).stack;
  app.synth();
  template = Template.fromStack(stack);
}, 180_000);

const child = <T>(scope: IConstruct, id: string) => scope.node.findChild(id) as unknown as T;
const logicalId = (construct: IConstruct) => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
/** How a resolved template reference to a construct reads: <LogicalId>. */
const ref = (construct: IConstruct) => `<${logicalId(construct)}>`;

interface Statement {
  effect: string;
  actions: string[];
  resources: string[];
}

/** A template value as text: references become <LogicalId>, pseudo parameters their names. */
function resolve(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if ('Ref' in node) return { 'AWS::Partition': 'aws', 'AWS::Region': 'REGION', 'AWS::AccountId': 'ACCOUNT' }[node['Ref'] as string] ?? `<${node['Ref']}>`;
  if ('Fn::GetAtt' in node) return `<${(node['Fn::GetAtt'] as string[])[0]}>`;
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(resolve).join(separator);
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Every statement of every policy attached to a role, resolved. */
function statementsOf(role: IRole): Statement[] {
  const id = logicalId(role);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => list(policy['Properties'].Roles).some((attached: unknown) => resolve(attached) === `<${id}>`))
    .flatMap((policy) => list(policy['Properties'].PolicyDocument.Statement as Record<string, unknown>[]))
    .map((statement) => {
      // NotAction / NotResource grant everything but: never acceptable here.
      expect(Object.keys(statement).sort()).toEqual(['Action', 'Effect', 'Resource']);
      return {
        effect: statement['Effect'] as string,
        actions: list(statement['Action'] as string | string[]),
        resources: list(statement['Resource']).map(resolve),
      };
    });
}

/** IAM's matching of an action pattern (wildcards, case-insensitive) against one action. */
const matches = (pattern: string, action: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  ).test(action);

/** The resources on which a role is allowed an action, sorted. */
const grantsOn = (role: IRole, action: string) =>
  [
    ...new Set(
      statementsOf(role)
        .filter((statement) => statement.effect === 'Allow' && statement.actions.some((pattern) => matches(pattern, action)))
        .flatMap((statement) => statement.resources),
    ),
  ].sort();

interface Roles {
  [name: string]: IRole;
}

let roles: Roles;
let names: { lake: string; results: string; key: string; workGroup: string; database: string };

beforeAll(() => {
  const ingest = child<Ingest>(stack, 'Ingest');
  const campaigns = child<Campaigns>(stack, 'Campaigns');
  const jobs = child<Jobs>(stack, 'Jobs');
  const fn = (id: string) => child<PipelineFunction>(jobs, id).function.role!;
  roles = {
    'ingest-queue': ingest.queueFunction.function.role!,
    'ingest-file': ingest.fileFunction.function.role!,
    publish: campaigns.publisher.function.role!,
    'run-lock': fn('RunLock'),
    'prepare-run': fn('PlanRun'),
    'fit-clv': fn('FitClv'),
    'compact-raw': fn('CompactRaw'),
    'test-run': fn('TestRun'),
    'promote-run': fn('PromoteRun'),
    'write-report': fn('WriteReport'),
    'state machine': jobs.stateMachine.role,
    schedule: child<IRole>(child<DailySchedule>(stack, 'Schedule'), 'Role'),
    'erase-customers': child<Erasure>(stack, 'Erasure').function.function.role!,
  };
  const lake = child<Lake>(stack, 'Lake');
  const catalog = child<Catalog>(stack, 'Catalog');
  names = { lake: ref(lake.bucket), results: ref(lake.queryResults), key: ref(lake.key), workGroup: catalog.workGroup.name, database: catalog.databaseName };
});

describe('S3', () => {
  // Object prefixes per role and operation, from the handlers' ObjectStore calls and, for the
  // state machine, the tables Athena reads and the UNLOAD targets.
  const expected = (lake: string, results: string): Record<string, { get: string[]; put: string[]; delete: string[]; list: string[] }> => ({
    'ingest-queue': { get: [`${lake}/erasures/*`], put: [`${lake}/raw/*`, `${lake}/rejected/*`], delete: [], list: [lake] },
    'ingest-file': { get: [`${lake}/erasures/*`, `${lake}/landing/*`], put: [`${lake}/raw/*`, `${lake}/rejected/*`], delete: [], list: [lake] },
    publish: {
      get: [`${lake}/curated/campaign_audience/*`, `${lake}/locks/publish/*`, `${lake}/published/campaigns/*`, `${results}/*`],
      put: [`${lake}/locks/publish/*`, `${lake}/published/campaigns/*`, `${results}/*`],
      delete: [`${lake}/locks/publish/*`],
      list: [lake, results],
    },
    'run-lock': { get: [`${lake}/locks/run/*`], put: [`${lake}/locks/run/*`], delete: [`${lake}/locks/run/*`], list: [lake] },
    'prepare-run': { get: [], put: [], delete: [], list: [] },
    'fit-clv': { get: [`${lake}/runs/*`], put: [`${lake}/runs/*`], delete: [], list: [lake] },
    'compact-raw': {
      get: [`${lake}/locks/run/*`, `${lake}/raw/*`],
      put: [`${lake}/locks/run/*`, `${lake}/raw/*`],
      delete: [`${lake}/locks/run/*`, `${lake}/raw/*`],
      list: [lake],
    },
    'test-run': { get: [`${lake}/runs/*`, `${results}/*`], put: [`${results}/*`], delete: [], list: [lake, results] },
    'promote-run': {
      get: [`${lake}/locks/run/*`, `${lake}/runs/*`],
      put: [`${lake}/curated/*`, `${lake}/locks/run/*`],
      delete: [`${lake}/curated/*`, `${lake}/locks/run/*`],
      list: [lake],
    },
    'write-report': { get: [`${lake}/curated/*`, `${results}/*`], put: [`${lake}/reports/*`, `${results}/*`], delete: [], list: [lake, results] },
    'state machine': {
      get: [`${lake}/published/campaigns/*`, `${lake}/raw/*`, `${lake}/runs/*`, `${results}/*`],
      put: [`${lake}/runs/*`, `${results}/*`],
      delete: [],
      list: [lake, results],
    },
    schedule: { get: [], put: [], delete: [], list: [] },
    'erase-customers': (() => {
      const areas = ['curated', 'erasures', 'landing', 'locks/publish', 'locks/run', 'published/campaigns', 'raw', 'rejected', 'reports', 'runs'].map(
        (area) => `${lake}/${area}/*`,
      );
      return { get: areas, put: areas, delete: areas, list: [lake] };
    })(),
  });

  it('gives each role exactly the prefixes its code reads, writes and deletes', () => {
    const buckets = new Set([names.lake, names.results]);
    const objects = (role: IRole, action: string) => grantsOn(role, action).filter((resource) => !buckets.has(resource));
    for (const [name, wanted] of Object.entries(expected(names.lake, names.results))) {
      const role = roles[name]!;
      expect(
        {
          get: objects(role, 's3:GetObject'),
          put: objects(role, 's3:PutObject'),
          delete: objects(role, 's3:DeleteObject'),
          list: grantsOn(role, 's3:ListBucket').filter((resource) => !resource.includes('/')),
        },
        name,
      ).toEqual({ get: [...wanted.get].sort(), put: [...wanted.put].sort(), delete: [...wanted.delete].sort(), list: [...wanted.list].sort() });
    }
  });

  it('lets only the erasure function delete older object versions, and only under the prefixes that may hold a customer', () => {
    for (const [name, role] of Object.entries(roles)) {
      const versions = grantsOn(role, 's3:DeleteObjectVersion');
      if (name !== 'erase-customers') expect(versions, name).toEqual([]);
      else expect(versions).toEqual(ERASED_PREFIXES.map((prefix) => `${names.lake}/${prefix}*`).sort());
    }
  });

  it('lets no role create buckets, change bucket policies or reach another bucket', () => {
    for (const [name, role] of Object.entries(roles)) {
      for (const action of ['s3:CreateBucket', 's3:PutBucketPolicy', 's3:DeleteBucket', 's3:PutBucketAcl', 's3:PutObjectAcl'])
        expect(grantsOn(role, action), `${name} ${action}`).toEqual([]);
      for (const statement of statementsOf(role).filter((each) => each.actions.some((action) => action.startsWith('s3:')))) {
        for (const resource of statement.resources) expect(resource, name).toMatch(new RegExp(`^(${names.lake}|${names.results})(/.+)?$`));
      }
    }
  });
});

describe('every statement', () => {
  /** Actions that accept no resource but "*" (AWS's service authorization reference). */
  const STAR_ONLY = {
    xray: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
    logs: [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ],
  };
  const WORDS: Record<keyof typeof STAR_ONLY, RegExp> = { xray: /X-Ray/, logs: /CloudWatch Logs/ };

  /** The reason a cdk-nag finding is acknowledged with, on the construct or an ancestor (ids are recorded qualified by the plugin). */
  function acknowledgement(construct: IConstruct, finding: string): string | undefined {
    for (let node: IConstruct | undefined = construct; node; node = node.node.scope) {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        const match = Object.entries(entry.data as Record<string, string>).find(([id]) => id.endsWith(finding));
        if (match) return match[1];
      }
    }
    return undefined;
  }

  it('names its actions: no "*", no whole service', () => {
    for (const [name, role] of Object.entries(roles)) {
      for (const action of statementsOf(role).flatMap((statement) => statement.actions)) expect(action, name).not.toMatch(/^\*$|^[a-z0-9-]+:\*$/i);
    }
  });

  it('names its resources, except for actions that accept only "*", and cdk-nag is told why', () => {
    for (const [name, role] of Object.entries(roles)) {
      const services = new Set<keyof typeof STAR_ONLY>();
      for (const statement of statementsOf(role).filter((each) => each.resources.includes('*'))) {
        for (const action of statement.actions) {
          const service = (Object.keys(STAR_ONLY) as (keyof typeof STAR_ONLY)[]).find((key) => STAR_ONLY[key].includes(action));
          expect(service, `${name}: ${action} on "*"`).toBeDefined();
          services.add(service!);
        }
      }
      if (services.size === 0) continue;
      const reason = acknowledgement(role, 'AwsSolutions-IAM5[Resource::*]');
      for (const service of services) expect(reason, `${name}: the acknowledgement of Resource::* explains ${service}`).toMatch(WORDS[service]);
    }
  });

  it('attaches no managed policy but basic Lambda logging, and the stack defines no other principals', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      for (const arn of list(role['Properties'].ManagedPolicyArns).map(resolve))
        expect(arn).toBe('arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole');
      expect(role['Properties'].Policies).toBeUndefined();
    }
    for (const type of ['AWS::IAM::ManagedPolicy', 'AWS::IAM::User', 'AWS::IAM::Group', 'AWS::IAM::AccessKey'])
      expect(template.findResources(type), type).toEqual({});
    // The pipeline's roles plus the one CDK adds to configure the bucket notification.
    const notifications = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith('BucketNotificationsHandler'));
    expect(notifications).toHaveLength(1);
    expect(Object.keys(template.findResources('AWS::IAM::Role')).sort()).toEqual([...Object.values(roles).map(logicalId), ...notifications].sort());
  });
});

describe('KMS, queues, Athena, Glue, Lambda and Step Functions', () => {
  it('use the lake key, and the publisher the campaign queue key, and no other', () => {
    const queueKey = ref(child<Campaigns>(stack, 'Campaigns').queueKey);
    for (const [name, role] of Object.entries(roles)) {
      const keys = new Set(
        statementsOf(role)
          .filter((each) => each.actions.some((action) => action.startsWith('kms:')))
          .flatMap((statement) => statement.resources),
      );
      for (const key of keys) expect(name === 'publish' ? [names.key, queueKey] : [names.key], name).toContain(key);
    }
    // The campaign queue and its dead-letter queue are encrypted with their own key, so a consumer never needs the lake's.
    const campaigns = child<Campaigns>(stack, 'Campaigns');
    for (const queue of [campaigns.queue.queue, campaigns.queue.deadLetterQueue]) expect(ref(queue.encryptionMasterKey!)).toBe(queueKey);
    expect(queueKey).not.toBe(names.key);
  });

  it('send campaign messages to the campaign queue only, schedule failures to the schedule dead-letter queue and failed files to theirs; only ingest and erasure consume queues', () => {
    const campaignQueue = ref(child<Campaigns>(stack, 'Campaigns').queue.queue);
    const ingestQueue = ref(child<Ingest>(stack, 'Ingest').queue.queue);
    const fileFailures = ref(child<Ingest>(stack, 'Ingest').fileFailures);
    const scheduleDeadLetter = ref(child<DailySchedule>(stack, 'Schedule').deadLetterQueue);
    const erasureQueue = ref(child<Erasure>(stack, 'Erasure').queue.queue);
    const consumed: Record<string, string[]> = { 'ingest-queue': [ingestQueue], 'erase-customers': [erasureQueue] };
    for (const [name, role] of Object.entries(roles)) {
      expect(grantsOn(role, 'sqs:SendMessage'), name).toEqual(
        { publish: [campaignQueue], schedule: [scheduleDeadLetter], 'ingest-file': [fileFailures] }[name] ?? [],
      );
      expect(grantsOn(role, 'sqs:ReceiveMessage'), name).toEqual(consumed[name] ?? []);
      expect(grantsOn(role, 'sqs:DeleteMessage'), name).toEqual(consumed[name] ?? []);
      expect(grantsOn(role, 'sqs:PurgeQueue'), name).toEqual([]);
    }
  });

  it('run Athena queries in the pipeline workgroup only', () => {
    const workGroup = `arn:aws:athena:REGION:ACCOUNT:workgroup/${names.workGroup}`;
    for (const [name, role] of Object.entries(roles)) {
      const runsQueries = ['publish', 'write-report', 'test-run', 'state machine'].includes(name);
      expect(grantsOn(role, 'athena:StartQueryExecution'), name).toEqual(runsQueries ? [workGroup] : []);
      for (const statement of statementsOf(role).filter((each) => each.actions.some((action) => action.startsWith('athena:')))) {
        for (const resource of statement.resources) expect([workGroup, 'arn:aws:athena:REGION:ACCOUNT:datacatalog/AwsDataCatalog'], name).toContain(resource);
      }
    }
    // The state machine cancels the query of a stopped or timed-out execution, and the functions
    // stop a query that outlives their engine's timeout: only in the workgroup, only those that query.
    for (const [name, role] of Object.entries(roles)) {
      const runsQueries = ['publish', 'write-report', 'test-run', 'state machine'].includes(name);
      expect(grantsOn(role, 'athena:StopQueryExecution'), name).toEqual(runsQueries ? [workGroup] : []);
    }
  });

  it('read the Glue entries of the tables their queries read, and never change the catalog', () => {
    const glue = (tables: readonly string[]) =>
      [
        `arn:aws:glue:REGION:ACCOUNT:catalog`,
        `arn:aws:glue:REGION:ACCOUNT:database/${names.database}`,
        ...tables.map((table) => `arn:aws:glue:REGION:ACCOUNT:table/${names.database}/${table}`),
      ].sort();
    const tables: Record<string, readonly string[]> = {
      publish: ['campaign_audience'],
      'write-report': CURATED_TABLES,
      // The graph's sources and the per-run outputs of its steps (run_*, one pattern: an ARN per
      // table would outgrow the policy); the curated tables are written by promotion, not Athena.
      'state machine': [...SOURCE_TABLES, runTable('*')],
      // The data tests read the run's outputs, nothing else.
      'test-run': [runTable('*')],
    };
    for (const [name, role] of Object.entries(roles)) {
      expect(grantsOn(role, 'glue:GetTable'), name).toEqual(tables[name] ? glue(tables[name]) : []);
      for (const action of statementsOf(role)
        .flatMap((statement) => statement.actions)
        .filter((each) => each.startsWith('glue:'))) {
        expect(action, name).toMatch(/^glue:(Get|BatchGet)[A-Za-z]+$/);
      }
    }
  });

  it('let the state machine invoke the eight functions of a run, and the schedule start the state machine', () => {
    const jobs = child<Jobs>(stack, 'Jobs');
    const functions = [
      ...['RunLock', 'CompactRaw', 'PlanRun', 'FitClv', 'TestRun', 'PromoteRun', 'WriteReport'].map((id) => child<PipelineFunction>(jobs, id)),
      child<Campaigns>(stack, 'Campaigns').publisher,
    ];
    const arns = functions.flatMap((fn) => [ref(fn.function), `${ref(fn.function)}:*`]).sort();
    for (const [name, role] of Object.entries(roles)) {
      expect(grantsOn(role, 'lambda:InvokeFunction'), name).toEqual(name === 'state machine' ? arns : []);
      expect(grantsOn(role, 'states:StartExecution'), name).toEqual(name === 'schedule' ? [ref(jobs.stateMachine)] : []);
      expect(grantsOn(role, 'iam:PassRole'), name).toEqual([]);
      expect(grantsOn(role, 'lakeformation:GetDataAccess'), name).toEqual([]);
    }
  });
});
