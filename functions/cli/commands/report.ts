import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { DuckDbEngine } from '../../adapters/duckdb-engine.ts';
import { createLakeViews } from '../../adapters/lake-views.ts';
import { UsageError } from '../../core/errors.ts';
import { lakeLayout } from '../../core/lake/layout.ts';
import { assembleReportData } from '../../core/report/report-data.ts';
import type { ReportData } from '../../core/report/report-data.ts';
import { renderReport } from '../../core/report/render.ts';
import { rowObjects } from '../../core/ports.ts';
import type { CommandContext } from '../context.ts';

const require = createRequire(import.meta.url);

/** Chart.js as one script (the UMD build), to inline: the report must open offline. */
async function chartJsSource(): Promise<string> {
  // The package exports no path to its UMD build; it sits next to the CommonJS entry in dist/.
  return readFile(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

/** Reads the figures of one as_of (the latest when none is given) from the curated tables. */
export async function readReportData(context: CommandContext, requested?: string): Promise<ReportData> {
  const engine = await DuckDbEngine.open();
  try {
    await createLakeViews(engine, context.store);
    const tables = rowObjects(await engine.query('select table_name from information_schema.tables'));
    const available = new Set(tables.map((row) => String(row['table_name'])));
    if (!available.has('customer_summary')) throw new UsageError('no tables yet: run "pipeline run --as-of DATE" first');
    const latest = rowObjects(await engine.query('select cast(max(as_of) as varchar) as as_of from customer_summary'))[0]?.['as_of'];
    const asOf = requested ?? (typeof latest === 'string' ? latest : undefined);
    if (asOf === undefined) throw new UsageError('no tables yet: run "pipeline run --as-of DATE" first');
    const partition = await context.store.list(lakeLayout.curatedPartition('customer_summary', asOf));
    if (partition.length === 0) throw new UsageError(`no tables for ${asOf}: run "pipeline run --as-of ${asOf}" first`);
    return await assembleReportData(async (sql) => rowObjects(await engine.query(sql)), asOf, available);
  } finally {
    engine.close();
  }
}

/** Writes the report of an as_of; returns its path. */
export async function writeReport(context: CommandContext, asOf?: string, out?: string): Promise<string> {
  const data = await readReportData(context, asOf);
  const path = resolve(out ?? `${context.lakeRoot}/reports/as_of=${data.asOf}/report.html`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, renderReport(data, await chartJsSource()));
  return path;
}

export async function reportCommand(context: CommandContext, options: { asOf?: string | undefined; out?: string | undefined }): Promise<number> {
  const path = await writeReport(context, options.asOf, options.out);
  context.stdout(`report: ${path}\n`);
  return 0;
}
