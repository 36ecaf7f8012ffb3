import { Aws, Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CURATED_TABLES } from '../../functions/core/jobs/graph.ts';
import { runPrefix, runTable } from '../../functions/core/jobs/athena-plan.ts';
import { publishedColumns, rawColumns, rejectedColumns } from '../../functions/core/lake/raw-tables.ts';
import { EVENT_TYPES } from '../../functions/core/events/schemas.ts';
import schemas from '../table-schemas.json' with { type: 'json' };

export interface CatalogProps {
  readonly bucket: IBucket;
  readonly queryResults: IBucket;
  readonly key: IKey;
  /** Athena cancels any query that would scan more bytes. */
  readonly bytesScannedCutoffPerQuery: number;
}

type Column = { name: string; type: string };

const GLUE_TYPE = { string: 'string', float64: 'double', int32: 'int', timestamp: 'timestamp', boolean: 'boolean', date: 'date' } as const;
const SQL_TO_GLUE: Record<string, string> = {
  varchar: 'string',
  bigint: 'bigint',
  integer: 'int',
  date: 'date',
  boolean: 'boolean',
  // The JSON SerDe cannot read ISO timestamps with a zone: they stay text, cast in queries.
  'timestamp with time zone': 'string',
};

const PARQUET = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
};
const JSON_LINES = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe', parameters: { 'ignore.malformed.json': 'true' } },
};

/** Date partitions projected from the key layout: nothing to crawl, no MSCK REPAIR. */
const dateProjection = (key: string, location: string) => ({
  'projection.enabled': 'true',
  [`projection.${key}.type`]: 'date',
  [`projection.${key}.format`]: 'yyyy-MM-dd',
  [`projection.${key}.range`]: '2000-01-01,NOW',
  [`projection.${key}.interval`]: '1',
  [`projection.${key}.interval.unit`]: 'DAYS',
  'storage.location.template': location,
});

/**
 * The Glue catalog and the Athena workgroup. Every lake table is declared with partition
 * projection: raw events by dt, rejected events by type and dt, curated tables by as_of, the
 * per-run step outputs by run_id (injected: each query names its run).
 */
export class Catalog extends Construct {
  readonly database: CfnDatabase;
  readonly databaseName: string;
  readonly workGroup: CfnWorkGroup;
  readonly tables: CfnTable[] = [];

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id);
    this.databaseName = `customer_marketing_${Stack.of(this).stackName.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
    this.database = new CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'Customer-marketing lake: raw events, rejected events, metric tables' },
    });
    const s3 = (prefix: string) => `s3://${props.bucket.bucketName}/${prefix}`;

    for (const type of EVENT_TYPES) {
      this.table(type, `Raw events (${type}); every delivery, duplicates included. dt is the UTC date of the event.`, {
        columns: rawColumns[type].map((column) => ({ name: column.name, type: GLUE_TYPE[column.kind] })),
        partitionKeys: [{ name: 'dt', type: 'date' }],
        location: s3(`raw/${type}/`),
        format: PARQUET,
        parameters: dateProjection('dt', s3(`raw/${type}/dt=\${dt}/`)),
      });
    }
    this.table('rejected_events', 'Every refused record, verbatim, with the reason.', {
      columns: rejectedColumns.filter((column) => column.name !== 'event_type').map((column) => ({ name: column.name, type: SQL_TO_GLUE[column.sqlType]! })),
      partitionKeys: [
        { name: 'event_type', type: 'string' },
        { name: 'dt', type: 'date' },
      ],
      location: s3('rejected/'),
      format: JSON_LINES,
      parameters: {
        ...dateProjection('dt', s3('rejected/${event_type}/dt=${dt}/')),
        'projection.event_type.type': 'enum',
        'projection.event_type.values': [...EVENT_TYPES, 'unknown'].join(','),
      },
    });
    this.table('published_messages', 'Every customer of each campaign send, per as_of: messaged, or held out (is_holdout). The input of cooldowns and campaign outcomes.', {
      columns: publishedColumns.filter((column) => column.name !== 'as_of').map((column) => ({ name: column.name, type: SQL_TO_GLUE[column.sqlType]! })),
      partitionKeys: [{ name: 'as_of', type: 'date' }],
      location: s3('published/campaigns/'),
      format: JSON_LINES,
      parameters: dateProjection('as_of', s3('published/campaigns/as_of=${as_of}/')),
    });

    const tableSchemas = schemas as Record<string, Column[]>;
    for (const [table, columns] of Object.entries(tableSchemas)) {
      this.table(runTable(table), `Output of step ${table}, per run of the job graph (intermediate).`, {
        columns,
        partitionKeys: [{ name: 'run_id', type: 'string' }],
        location: s3(`runs/${table}/`),
        format: PARQUET,
        parameters: {
          'projection.enabled': 'true',
          'projection.run_id.type': 'injected',
          'storage.location.template': s3(`${runPrefix(table, '${run_id}')}`),
        },
      });
    }
    for (const table of CURATED_TABLES) {
      this.table(table, `Metric table ${table}, one partition per as_of (see the README for its definition).`, {
        columns: tableSchemas[table]!.filter((column) => column.name !== 'as_of'),
        partitionKeys: [{ name: 'as_of', type: 'date' }],
        location: s3(`curated/${table}/`),
        format: PARQUET,
        parameters: dateProjection('as_of', s3(`curated/${table}/as_of=\${as_of}/`)),
      });
    }

    this.workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: `customer-marketing-${Stack.of(this).stackName}`,
      description: 'Customer-marketing job graph and ad hoc queries',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${props.queryResults.bucketName}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
        },
      },
    });
  }

  private table(
    name: string,
    description: string,
    spec: { columns: Column[]; partitionKeys: Column[]; location: string; format: typeof PARQUET | typeof JSON_LINES; parameters: Record<string, string> },
  ): void {
    const table = new CfnTable(this, `Table-${name}`, {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name,
        description,
        tableType: 'EXTERNAL_TABLE',
        parameters: { classification: spec.format === PARQUET ? 'parquet' : 'json', ...spec.parameters },
        partitionKeys: spec.partitionKeys,
        storageDescriptor: { columns: spec.columns, location: spec.location, ...spec.format },
      },
    });
    table.node.addDependency(this.database);
    this.tables.push(table);
  }
}
