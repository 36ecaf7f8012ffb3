import { DuckDbEngine } from '../../adapters/duckdb-engine.ts';
import { sqlString } from '../../adapters/lake-views.ts';
import { OutboxSink } from '../../adapters/outbox-sink.ts';
import { SqsMessageSink } from '../../adapters/sqs-sink.ts';
import type { AudienceRow } from '../../core/campaigns/message.ts';
import { campaignCooldowns, campaignHoldout } from '../../core/campaigns/campaigns.ts';
import { PUBLISH_LEASE, publishCampaignAudience } from '../../core/campaigns/publish.ts';
import type { PublishResult } from '../../core/campaigns/publish.ts';
import { UsageError } from '../../core/errors.ts';
import { lakeLayout } from '../../core/lake/layout.ts';
import { rowObjects } from '../../core/ports.ts';
import type { MessageSink } from '../../core/ports.ts';
import { localLease, progressLine } from '../context.ts';
import type { CommandContext } from '../context.ts';

/** The sink the config names. */
export async function sinkFor(context: CommandContext): Promise<MessageSink> {
  const publish = context.config.publish;
  if (publish.sink === 'outbox') return new OutboxSink(context.store);
  // Loaded only when a queue is configured: every other command starts without the SDK.
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const client = new SQSClient(publish.region ? { region: publish.region } : {});
  return new SqsMessageSink({ client, queueUrl: publish.queueUrl });
}

/** Reads the campaign_audience rows of an as_of; the run for that date must exist. */
export async function readAudience(context: CommandContext, asOf: string): Promise<AudienceRow[]> {
  const partition = await context.store.list(lakeLayout.curatedPartition('campaign_audience', asOf));
  if (!partition.some((key) => key.endsWith('.parquet'))) {
    throw new UsageError(`no campaign audience for ${asOf}: run "pipeline run --as-of ${asOf}" first`);
  }
  // Only the partition is read: no need to bind every raw file of the lake as queryLake would.
  const engine = await DuckDbEngine.open();
  try {
    const glob = `${context.store.pathOf(lakeLayout.curatedPartition('campaign_audience', asOf))}/*.parquet`;
    const result = await engine.query(
      `select * from read_parquet(${sqlString(glob)}, hive_partitioning = true, hive_types = {'as_of': date}, union_by_name = true)`,
    );
    return rowObjects(result) as unknown as AudienceRow[];
  } finally {
    engine.close();
  }
}

export function describePublish(result: PublishResult, sink: string): string {
  const number = (value: number) => value.toLocaleString('en-US');
  const lines: string[] = [];
  if (result.sent === 0 && result.failed.length === 0 && result.suppressed === 0 && result.heldOut === 0) {
    lines.push(
      result.audience === 0
        ? `publish ${result.asOf}: the campaign audience is empty, nothing to send`
        : `publish ${result.asOf}: nothing new to send, all ${number(result.audience)} customers were already sent to ${sink} or held out`,
    );
  } else {
    lines.push(
      `publish ${result.asOf}: sent ${number(result.sent)} messages to ${sink}` +
        (result.heldOut > 0 ? `, held out ${number(result.heldOut)} ${result.heldOut === 1 ? 'customer as a control' : 'customers as controls'}` : '') +
        (result.alreadySent > 0 ? ` (${number(result.alreadySent)} already sent before)` : '') +
        (result.suppressed > 0 ? `, ${number(result.suppressed)} held back (customer already contacted that day, or campaign in its cooldown)` : '') +
        (result.failed.length > 0 ? `, ${number(result.failed.length)} failed` : ''),
    );
    const campaigns = [...new Set([...Object.keys(result.sentByCampaign), ...Object.keys(result.heldOutByCampaign)])];
    const sentOf = (campaign: string) => result.sentByCampaign[campaign] ?? 0;
    for (const campaign of campaigns.sort((a, b) => sentOf(b) - sentOf(a) || a.localeCompare(b))) {
      const held = result.heldOutByCampaign[campaign] ?? 0;
      lines.push(`  ${campaign.padEnd(18)} ${number(sentOf(campaign)).padStart(7)}${held > 0 ? `  (${number(held)} held out)` : ''}`);
    }
  }
  for (const failure of result.failed.slice(0, 5)) {
    lines.push(`  failed ${failure.campaign} ${failure.customerId}: ${failure.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function publishDate(context: CommandContext, asOf: string): Promise<PublishResult> {
  const audience = await readAudience(context, asOf);
  const sink = await sinkFor(context);
  const progress = progressLine(context);
  const result = await publishCampaignAudience({
    asOf,
    audience,
    sink,
    store: context.store,
    cooldownDays: campaignCooldowns(context.config),
    holdout: campaignHoldout(context.config),
    onProgress: (sent, total) => progress.update(`publish ${asOf}: ${sent.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`),
    lease: localLease(context, PUBLISH_LEASE),
  });
  progress.done();
  return result;
}

export async function publishCommand(context: CommandContext, asOfDates: readonly string[]): Promise<number> {
  let failures = 0;
  for (const asOf of asOfDates) {
    const result = await publishDate(context, asOf);
    context.stdout(describePublish(result, context.config.publish.sink));
    failures += result.failed.length;
  }
  if (failures > 0) {
    context.stderr(`pipeline: ${failures} message${failures === 1 ? '' : 's'} could not be sent; run publish again to retry them\n`);
    return 1;
  }
  return 0;
}
