import { Aws, Stack } from 'aws-cdk-lib';
import { CfnNamedQuery, CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { listAnalyses } from '../../functions/core/analyses.ts';
import { CURATED_TABLES, jobGraph, outputsOf } from '../../functions/core/jobs/graph.ts';
import { runPrefix, runTable } from '../../functions/core/jobs/run-ids.ts';
import { EVENT_TYPES } from '../../functions/core/events/schemas.ts';
import { latestView, latestViewSql } from '../../functions/core/lake/latest-views.ts';
import { generateTableSchemas } from '../table-schemas.ts';

export interface CatalogProps {
  readonly bucket: IBucket;
  readonly queryResults: IBucket;
  readonly key: IKey;
  /** Athena cancels any query that would scan more bytes. */
  readonly bytesScannedCutoffPerQuery: number;
  /** Where date projections start: ingest refuses events before it (config earliestEventDate). */
  readonly earliestEventDate: string;
}

type Column = { name: string; type: string; comment?: string };

/** The table dictionary as Glue declares it: descriptions and column comments come from it. */
const tableSchemas = generateTableSchemas();

/** A table's columns with their comments, less its partition keys. */
const columnsOf = (table: string, partitionKeys: readonly Column[] = []): Column[] =>
  tableSchemas[table]!.columns.filter((column) => !partitionKeys.some((key) => key.name === column.name)).map((column) => ({ ...column }));

/** Partition keys are columns of the dictionary too: they carry its comment. */
const partitionKey = (table: string, name: string, type: string): Column => ({
  name,
  type,
  comment: tableSchemas[table]!.columns.find((column) => column.name === name)?.comment ?? '',
});

/** The JSON SerDe cannot read ISO timestamps with a zone: they stay text, cast in queries. */
const asJsonColumns = (columns: Column[]): Column[] => columns.map((column) => (column.type === 'timestamp' ? { ...column, type: 'string' } : column));

/** Glue's (Hive's) column types as Trino names them in a view's definition. */
const TRINO_TYPES: Record<string, string> = {
  string: 'varchar',
  double: 'double',
  bigint: 'bigint',
  int: 'integer',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
};

/** A table's description in the catalog: the dictionary's summary, and where its full definition is. */
const describe = (table: string, suffix = '') => `${tableSchemas[table]!.description}${suffix} Full definition: docs/tables.md#${table}.`;

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
const dateProjection = (key: string, location: string, earliest: string) => ({
  'projection.enabled': 'true',
  [`projection.${key}.type`]: 'date',
  [`projection.${key}.format`]: 'yyyy-MM-dd',
  [`projection.${key}.range`]: `${earliest},NOW`,
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
    this.databaseName = `customer_marketing_${Stack.of(this)
      .stackName.toLowerCase()
      .replace(/[^a-z0-9]/g, '_')}`;
    this.database = new CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'Customer-marketing lake: raw events, rejected events, metric tables' },
    });
    const s3 = (prefix: string) => `s3://${props.bucket.bucketName}/${prefix}`;

    for (const type of EVENT_TYPES) {
      const dt = partitionKey(type, 'dt', 'date');
      this.table(type, describe(type), {
        columns: columnsOf(type, [dt]),
        partitionKeys: [dt],
        location: s3(`raw/${type}/`),
        format: PARQUET,
        parameters: dateProjection('dt', s3(`raw/${type}/dt=\${dt}/`), props.earliestEventDate),
      });
    }
    const rejectedKeys = [partitionKey('rejected_events', 'event_type', 'string'), partitionKey('rejected_events', 'dt', 'date')];
    this.table('rejected_events', describe('rejected_events'), {
      columns: asJsonColumns(columnsOf('rejected_events', rejectedKeys)),
      partitionKeys: rejectedKeys,
      location: s3('rejected/'),
      format: JSON_LINES,
      parameters: {
        ...dateProjection('dt', s3('rejected/${event_type}/dt=${dt}/'), props.earliestEventDate),
        'projection.event_type.type': 'enum',
        'projection.event_type.values': [...EVENT_TYPES, 'unknown'].join(','),
      },
    });
    const publishedAsOf = partitionKey('published_messages', 'as_of', 'date');
    this.table('published_messages', describe('published_messages'), {
      columns: asJsonColumns(columnsOf('published_messages', [publishedAsOf])),
      partitionKeys: [publishedAsOf],
      location: s3('published/campaigns/'),
      format: JSON_LINES,
      parameters: dateProjection('as_of', s3('published/campaigns/as_of=${as_of}/'), props.earliestEventDate),
    });

    for (const table of jobGraph.flatMap(outputsOf)) {
      const perRun = CURATED_TABLES.includes(table)
        ? ` One run's output, before promotion: query ${table} instead.`
        : ' Per run of the job graph, kept for the run only.';
      this.table(runTable(table), describe(table, perRun), {
        columns: columnsOf(table),
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
      const asOf = partitionKey(table, 'as_of', 'date');
      this.table(table, describe(table, ' One partition per as_of.'), {
        columns: columnsOf(table, [asOf]),
        partitionKeys: [asOf],
        location: s3(`curated/${table}/`),
        format: PARQUET,
        parameters: dateProjection('as_of', s3(`curated/${table}/as_of=\${as_of}/`), props.earliestEventDate),
      });
    }

    for (const table of CURATED_TABLES) this.latestView(table);

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
    this.namedQueries();
  }

  /** The saved analyses of sql/analyses/ as named queries, in the console's "Saved queries" of the workgroup. */
  private namedQueries(): void {
    for (const analysis of listAnalyses()) {
      const query = new CfnNamedQuery(this, `Analysis-${analysis.name}`, {
        name: analysis.title,
        description: `${analysis.description} (sql/analyses/${analysis.name}.sql)`.slice(0, 1024),
        database: this.databaseName,
        workGroup: this.workGroup.name,
        queryString: analysis.sql,
      });
      query.addDependency(this.workGroup);
    }
  }

  /**
   * latest_<table> as an Athena view: a VIRTUAL_VIEW table whose original text is the view in
   * the form Athena's CREATE VIEW writes (its SQL and columns with Trino types, base64 JSON).
   */
  private latestView(table: string): void {
    const columns = columnsOf(table);
    const view = {
      originalSql: latestViewSql(table),
      catalog: 'awsdatacatalog',
      schema: this.databaseName,
      columns: columns.map((column) => ({ name: column.name, type: TRINO_TYPES[column.type]! })),
    };
    const resource = new CfnTable(this, `View-${latestView(table)}`, {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: latestView(table),
        description: `${table} at its newest as_of. ${describe(table)}`,
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(view)).toString('base64')} */`,
        viewExpandedText: '/* Presto View */',
        storageDescriptor: { columns, serdeInfo: {} },
      },
    });
    resource.node.addDependency(this.database);
    this.tables.push(resource);
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
