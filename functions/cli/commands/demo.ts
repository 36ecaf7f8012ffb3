import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDbEngine } from '../../adapters/duckdb-engine.ts';
import { createLakeViews } from '../../adapters/lake-views.ts';
import { UsageError } from '../../core/errors.ts';
import { DEMO_DEFAULTS, generateDemoData, surveysToCsv } from '../../core/demo/generate.ts';
import { simulateCampaignResponses } from '../../core/demo/responses.ts';
import { lakeLayout } from '../../core/lake/layout.ts';
import type { CampaignMessage } from '../../core/campaigns/message.ts';
import { summarize } from '../summary.ts';
import type { CommandContext } from '../context.ts';
import { describeIngest, ingestFiles } from './ingest.ts';
import { describePublish, publishDate } from './publish.ts';
import { writeReport } from './report.ts';
import { describeRun, runDates } from './run.ts';

/** Marks a lake the demo created, so that it may wipe and rebuild it but never anything else. */
const DEMO_MARKER = '.demo-lake';

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return parsed;
}

async function prepareDemoLake(root: string): Promise<void> {
  const entries = await readdir(root).catch(() => [] as string[]);
  if (entries.length > 0) {
    const isDemoLake = await stat(join(root, DEMO_MARKER)).then(
      () => true,
      () => false,
    );
    if (!isDemoLake) {
      throw new UsageError(`${root} is not empty and was not made by the demo; pass --lake with a new directory`);
    }
    await rm(root, { recursive: true, force: true });
  }
  await mkdir(root, { recursive: true });
  await writeFile(join(root, DEMO_MARKER), 'Created by `pipeline demo`; the next demo run replaces this directory.\n');
}

/** The messages the outbox holds for a date: who was contacted, with which campaign. */
async function outboxMessages(context: CommandContext, asOf: string): Promise<CampaignMessage[]> {
  const messages: CampaignMessage[] = [];
  for (const key of await context.store.list(lakeLayout.outboxPartition(asOf))) {
    const text = new TextDecoder().decode(await context.store.get(key));
    for (const line of text.split('\n')) if (line.trim() !== '') messages.push(JSON.parse(line) as CampaignMessage);
  }
  return messages;
}

export async function demoCommand(
  context: CommandContext,
  options: { customers?: string | undefined; seed?: string | undefined; lakeGiven: boolean },
): Promise<number> {
  const customers = positiveInteger('customers', options.customers, DEMO_DEFAULTS.customers);
  const seed = positiveInteger('seed', options.seed, DEMO_DEFAULTS.seed);
  const asOf = DEMO_DEFAULTS.endDate;
  const root = context.lakeRoot;
  await prepareDemoLake(root);

  context.stderr(`generating ${customers.toLocaleString('en-US')} customers from ${DEMO_DEFAULTS.startDate} to ${asOf}...\n`);
  const data = generateDemoData({ customers, seed, startDate: DEMO_DEFAULTS.startDate, endDate: asOf });
  const landing = join(root, 'landing', 'demo');
  await mkdir(landing, { recursive: true });
  const ordersPath = join(landing, 'orders.jsonl');
  const surveysPath = join(landing, 'surveys.csv');
  const spendPath = join(landing, 'spend.jsonl');
  await writeFile(ordersPath, `${data.orderLines.join('\n')}\n`);
  await writeFile(surveysPath, surveysToCsv(data));
  await writeFile(spendPath, `${data.spendLines.join('\n')}\n`);

  const [orders] = await ingestFiles(context, 'orders', [ordersPath]);
  const [surveys] = await ingestFiles(context, 'surveys', [surveysPath]);
  const [spend] = await ingestFiles(context, 'spend', [spendPath]);
  context.stdout(describeIngest('landing/demo/orders.jsonl', 'orders', orders!));
  context.stdout(describeIngest('landing/demo/surveys.csv', 'surveys', surveys!));
  context.stdout(describeIngest('landing/demo/spend.jsonl', 'spend', spend!));

  // The demo always publishes locally, whatever sink a config file names.
  const outboxContext = { ...context, config: { ...context.config, publish: { sink: 'outbox' as const } } };
  // Close the loop: earlier dates are run and published, the messaged customers respond (by
  // campaign, as responses.ts says), and the last run measures each campaign against its holdout.
  for (const sendDate of DEMO_DEFAULTS.sendDates) {
    for (const run of await runDates(context, [sendDate])) context.stdout(describeRun(run));
    context.stdout(describePublish(await publishDate(outboxContext, sendDate), 'outbox'));
    const responses = simulateCampaignResponses({
      seed,
      sendDate,
      messaged: await outboxMessages(context, sendDate),
      windowDays: context.config.campaigns.conversionWindowDays,
      lastDate: asOf,
    });
    const responsesPath = join(landing, `responses-${sendDate}.jsonl`);
    await writeFile(responsesPath, responses.map((line) => `${line}\n`).join(''));
    const [ingested] = await ingestFiles(context, 'orders', [responsesPath]);
    context.stdout(describeIngest(`landing/demo/responses-${sendDate}.jsonl`, 'orders', ingested!));
  }
  for (const run of await runDates(context, [asOf])) context.stdout(describeRun(run));
  context.stdout(describePublish(await publishDate(outboxContext, asOf), 'outbox'));

  const engine = await DuckDbEngine.open();
  try {
    await createLakeViews(engine, context.store);
    context.stdout(`\n${await summarize((sql) => engine.query(sql), asOf)}`);
  } finally {
    engine.close();
  }
  const report = await writeReport(context, asOf);
  const lakeOption = options.lakeGiven ? ` --lake ${root}` : '';
  context.stdout(
    `\nlake: ${root}\n` +
      `campaign messages: ${join(root, 'outbox', 'campaigns', `as_of=${asOf}`)}\n` +
      `report: ${report}\n` +
      `next: npm run pipeline -- query "select * from period_metrics order by period_start"${lakeOption}\n`,
  );
  return 0;
}
