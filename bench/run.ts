/**
 * `npm run bench [-- --quick] [-- --sizes 100000,1000000]`: deterministic data at several sizes,
 * measured side by side, written to bench/RESULTS.md and bench/results.json. Not a test:
 * figures depend on the machine, and are recorded with its facts.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { promisify } from 'node:util';
import type { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { SqsMessageSink } from '../functions/adapters/sqs-sink.ts';
import { fitCustomerValue } from '../functions/core/clv/predictive-clv.ts';
import { toCampaignMessage } from '../functions/core/campaigns/message.ts';
import { Random } from '../functions/core/demo/random.ts';

const run = promisify(execFile);
const quick = process.argv.includes('--quick');
const sizesArgument = process.argv.find((_arg, index) => process.argv[index - 1] === '--sizes');
const sizes = sizesArgument ? sizesArgument.split(',').map(Number) : quick ? [100_000] : [100_000, 1_000_000, 10_000_000];
const clvSizes = quick ? [100_000] : [100_000, 1_000_000];
const ordinarySizes = quick ? [100_000] : [500_000, 1_000_000];
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

interface SizeResult {
  orders: number;
  events: number;
  customers: number;
  inputBytes: number;
  floorEventsPerSecond: number;
  singleThreadIngestEventsPerSecond: number;
  singleThreadIngestPeakRss: number;
  ingestThreads: number;
  ingestEventsPerSecond: number;
  ingestPeakRss: number;
  parquetBytes: number;
  parquetFiles: number;
  uncompactedGraphSeconds: number;
  uncompactedGraphPeakRss: number;
  compactSeconds: number;
  compactedFiles: number;
  graphSeconds: number;
  graphPeakRss: number;
  stepTimes: Record<string, number>;
}

async function measureSize(orders: number): Promise<SizeResult> {
  process.stderr.write(`bench: ${orders.toLocaleString('en-US')} order events...\n`);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/measure-size.ts', String(orders)], { maxBuffer: 1 << 20, timeout: 60 * 60_000 });
  return JSON.parse(stdout) as SizeResult;
}

interface OrdinaryResult {
  orders: number;
  events: number;
  inputBytes: number;
  floorSeconds: number;
  ingestSeconds: number;
  ingestPeakRss: number;
  parquetFiles: number;
  ingestTimeOverFloorTime: number;
  graphSeconds: number;
  graphPeakRss: number;
  handWrittenSeconds: number;
  graphTimeOverHandWrittenTime: number;
  stepTimes: Record<string, number>;
}

/** Files from another writer (bench/ordinary.ts), against the parse floor and hand-written DuckDB queries. */
async function measureOrdinary(orders: number): Promise<OrdinaryResult> {
  process.stderr.write(`bench: ${orders.toLocaleString('en-US')} ordinary order events...\n`);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/measure-ordinary.ts', String(orders)], {
    maxBuffer: 1 << 20,
    timeout: 60 * 60_000,
  });
  return JSON.parse(stdout) as OrdinaryResult;
}

/** Customers drawn from a BG/NBD-like process, in days, as customer_summary's columns hold them. */
function clvCustomers(count: number) {
  const random = new Random(7);
  const columns = { frequency: [] as number[], recency_days: [] as number[], tenure_days: [] as number[], avg_repeat_day_net_revenue: [] as (number | null)[] };
  for (let index = 0; index < count; index += 1) {
    const tenure = random.integer(30, 700);
    const rate = random.gamma(0.6, 1 / 40);
    let day = 0;
    let repeats = 0;
    let last = 0;
    for (;;) {
      day += Math.max(1, Math.round(random.exponential(rate)));
      if (day > tenure) break;
      repeats += 1;
      last = day;
      if (random.chance(0.25)) break;
    }
    columns.frequency.push(repeats);
    columns.recency_days.push(last);
    columns.tenure_days.push(tenure);
    columns.avg_repeat_day_net_revenue.push(repeats > 0 ? Math.round(random.gamma(5, 10) * 100) / 100 : null);
  }
  return columns;
}

function measureClv(count: number) {
  process.stderr.write(`bench: CLV fit on ${count.toLocaleString('en-US')} customers...\n`);
  const customers = clvCustomers(count);
  const started = process.hrtime.bigint();
  const result = fitCustomerValue(customers, { horizonMonths: 12, monthlyDiscountRate: 0.01, purchaseModel: 'auto' });
  const converged = result.models.filter((model) => model.converged).map((model) => model.model);
  const selected = result.models.find((model) => model.selected)?.model ?? 'none';
  return { customers: count, seconds: seconds(started), converged: converged.join(', '), selected };
}

/** An SQS client whose every call takes 20 ms and succeeds: the publisher's own throughput. */
async function measurePublish(messages: number) {
  process.stderr.write(`bench: publishing ${messages.toLocaleString('en-US')} messages to a 20 ms SQS mock...\n`);
  const client = {
    async send(command: SendMessageBatchCommand) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const input = command.input as SendMessageBatchCommandInput;
      return { Successful: input.Entries!.map((entry) => ({ Id: entry.Id!, MessageId: 'm', MD5OfMessageBody: 'x' })) };
    },
  } as unknown as SQSClient;
  const sink = new SqsMessageSink({ client, queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench' });
  const batch = Array.from({ length: messages }, (_, index) =>
    toCampaignMessage({
      campaign: 'win_back',
      customer_id: `c${index}`,
      priority: 80,
      reason: 'bench',
      rank_in_campaign: index + 1,
      net_revenue: 10,
      purchases: 2,
      days_since_last_purchase: 100,
      last_nps_score: null,
      segment: null,
      as_of: '2025-12-31',
    }),
  );
  const started = process.hrtime.bigint();
  const outcome = await sink.send(batch);
  const elapsed = seconds(started);
  return { messages, seconds: elapsed, messagesPerSecond: outcome.delivered.length / elapsed };
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;

const sizeResults: SizeResult[] = [];
for (const size of sizes) sizeResults.push(await measureSize(size));
const ordinaryResults: OrdinaryResult[] = [];
for (const size of ordinarySizes) ordinaryResults.push(await measureOrdinary(size));
const clvResults = clvSizes.map(measureClv);
const publishResult = await measurePublish(quick ? 10_000 : 50_000);

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memory: mb(totalmem()),
  node: process.version,
  date: new Date().toISOString().slice(0, 10),
};
const steps = Object.keys(sizeResults[0]?.stepTimes ?? {});
const lines = [
  '# Benchmark results',
  '',
  `Measured by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${machine.date}: ${machine.cpu}, ${machine.cores} cores, ${machine.memory}, Node ${machine.node}.`,
  'Each size runs in a fresh process; peak RSS includes DuckDB, which runs in-process.',
  'The parse floor reads the same JSON Lines file in the same process and JSON.parse-s every line, nothing else.',
  '',
  '## Ingest',
  '',
  '`pipeline ingest` reads plain JSON Lines files of 32 MiB or more on worker threads (one per core, up to 4); the one-thread column is the streaming path every other input takes.',
  '',
  '| order events | customers | parse floor | ingest, one thread | peak RSS | ingest, `pipeline ingest` | threads | ingest / floor | peak RSS | JSONL bytes/event | Parquet bytes/event | Parquet files |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...sizeResults.map(
    (result) =>
      `| ${result.events.toLocaleString('en-US')} | ${result.customers.toLocaleString('en-US')} | ${rate(result.floorEventsPerSecond)} | ${rate(result.singleThreadIngestEventsPerSecond)} | ${mb(result.singleThreadIngestPeakRss)} | ${rate(result.ingestEventsPerSecond)} | ${result.ingestThreads} | ${(result.ingestEventsPerSecond / result.floorEventsPerSecond).toFixed(3)} | ${mb(result.ingestPeakRss)} | ${(result.inputBytes / result.events).toFixed(0)} | ${(result.parquetBytes / result.events).toFixed(1)} | ${result.parquetFiles} |`,
  ),
  '',
  '## Job graph (one as_of), before and after `pipeline compact`',
  '',
  '| order events | graph on the lake as ingested | peak RSS | compact | files after | graph on the compacted lake | peak RSS |',
  '|---|---|---|---|---|---|---|',
  ...sizeResults.map(
    (result) =>
      `| ${result.events.toLocaleString('en-US')} | ${result.uncompactedGraphSeconds.toFixed(1)} s | ${mb(result.uncompactedGraphPeakRss)} | ${result.compactSeconds.toFixed(1)} s | ${result.compactedFiles} | ${result.graphSeconds.toFixed(1)} s | ${mb(result.graphPeakRss)} |`,
  ),
  '',
  '## Job graph on the compacted lake, seconds per step',
  '',
  `| step | ${sizeResults.map((result) => result.events.toLocaleString('en-US')).join(' | ')} |`,
  `|---|${sizeResults.map(() => '---').join('|')}|`,
  ...steps.map((step) => `| ${step} | ${sizeResults.map((result) => (result.stepTimes[step] ?? 0).toFixed(2)).join(' | ')} |`),
  '',
  '## Ordinary files from another writer',
  '',
  "JSON Lines as Python's json.dumps writes it (spaces after colons and commas), UUID event ids, long ids, microsecond timestamps, four channels, one unknown field (`bench/ordinary.ts`). The floor reads the file and JSON.parse-s every line on one thread; the hand-written yardstick is DuckDB queries for six core tables (purchases, customer summary, cohort retention, monthly retention and churn, NPS) straight from the JSON files, parsing included (`bench/hand-written.ts`); the job graph runs on the lake as ingested and computes every table with its data tests. Both columns of ratios are times over times: lower is better.",
  '',
  '| order events | MiB | parse floor | `pipeline ingest` | ingest time / floor time | peak RSS | Parquet files | job graph | hand-written | graph time / hand-written time | graph peak RSS |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...ordinaryResults.map(
    (result) =>
      `| ${result.events.toLocaleString('en-US')} | ${(result.inputBytes / 2 ** 20).toFixed(0)} | ${result.floorSeconds.toFixed(2)} s | ${result.ingestSeconds.toFixed(2)} s | ${result.ingestTimeOverFloorTime.toFixed(1)}x | ${mb(result.ingestPeakRss)} | ${result.parquetFiles} | ${result.graphSeconds.toFixed(1)} s | ${result.handWrittenSeconds.toFixed(1)} s | ${result.graphTimeOverHandWrittenTime.toFixed(1)}x | ${mb(result.graphPeakRss)} |`,
  ),
  '',
  '## Predictive CLV (BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma fits, P(alive) and curves of the selected model)',
  '',
  '| customers | seconds | converged | selected |',
  '|---|---|---|---|',
  ...clvResults.map((result) => `| ${result.customers.toLocaleString('en-US')} | ${result.seconds.toFixed(2)} | ${result.converged} | ${result.selected} |`),
  '',
  '## Publishing to SQS (mock with 20 ms per SendMessageBatch)',
  '',
  '| messages | seconds | messages/s |',
  '|---|---|---|',
  `| ${publishResult.messages.toLocaleString('en-US')} | ${publishResult.seconds.toFixed(2)} | ${rate(publishResult.messagesPerSecond)} |`,
  '',
  'Before and after each change that claimed to be faster, with the ratios, and where each target stands: `bench/HISTORY.md`.',
  '',
];
await writeFile('bench/RESULTS.md', lines.join('\n'));
await writeFile(
  'bench/results.json',
  `${JSON.stringify({ machine, sizes: sizeResults, ordinary: ordinaryResults, clv: clvResults, publish: publishResult }, null, 2)}\n`,
);
process.stdout.write(`${lines.join('\n')}\n`);
