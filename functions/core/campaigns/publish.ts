import { lakeLayout, newBatchId } from '../lake/layout.ts';
import { withLease } from '../lake/lease.ts';
import type { LeaseOptions, WaitOptions } from '../lake/lease.ts';
import type { PublishedRecord } from '../lake/raw-tables.ts';
import type { MessageSink, ObjectStore } from '../ports.ts';
import { isHeldOut } from './holdout.ts';
import { toCampaignMessage } from './message.ts';
import type { AudienceRow, CampaignMessage } from './message.ts';

export interface PublishOptions {
  readonly asOf: string;
  /** The campaign_audience rows of the as_of. */
  readonly audience: readonly AudienceRow[];
  readonly sink: MessageSink;
  /** Where the log of sent messages lives (published/campaigns/as_of=DATE/). */
  readonly store: ObjectStore;
  /** Messages handed to the sink at a time; each chunk is logged as soon as it is delivered. */
  readonly chunkSize?: number;
  readonly now?: () => Date;
  readonly onProgress?: (sent: number, total: number) => void;
  /**
   * Cooldown in days per campaign, checked again against the published log when sending: the
   * audience of a date may have been computed before nearby dates were published (a backfill
   * runs every date, then publishes them), and a re-run after late data may pick another
   * campaign for a customer already contacted that day.
   */
  readonly cooldownDays?: Readonly<Record<string, number>>;
  /**
   * Randomised holdouts: the share of each campaign's audience logged but not sent, and the
   * salt of the draw (see holdout.ts). Without it everyone is sent.
   */
  readonly holdout?: { readonly salt: string; readonly shares: Readonly<Record<string, number>> };
  /**
   * The publish lease: two publishers (two runs, a run and a person) must not both read the
   * log and then both send, or a customer could get two messages for a date or inside a
   * cooldown. One publishes, the other waits for it up to waitMs and then reads what it logged.
   * Default: a holder of its own, a lease of an hour, no waiting.
   */
  readonly lease?: Partial<LeaseOptions> & WaitOptions;
}

export interface PublishResult {
  readonly asOf: string;
  /** Messages in the audience. */
  readonly audience: number;
  /** Messages an earlier publish of this as_of already delivered or held out (skipped now). */
  readonly alreadySent: number;
  /** Messages delivered by this publish. */
  readonly sent: number;
  readonly failed: readonly { readonly messageId: string; readonly customerId: string; readonly campaign: string; readonly reason: string }[];
  /** Messages delivered by this publish, per campaign. */
  readonly sentByCampaign: Readonly<Record<string, number>>;
  /** Customers this publish held out (logged with is_holdout, not sent). */
  readonly heldOut: number;
  readonly heldOutByCampaign: Readonly<Record<string, number>>;
  /** Messages not sent: the customer already had a message for this date, or the campaign is in its cooldown. */
  readonly suppressed: number;
}

const DEFAULT_CHUNK_SIZE = 500;

/** Reads published-log objects into records. */
async function readRecords(store: ObjectStore, keys: readonly string[]): Promise<PublishedRecord[]> {
  const records: PublishedRecord[] = [];
  for (const key of keys) {
    if (!key.endsWith('.jsonl')) continue;
    const text = new TextDecoder().decode(await store.get(key));
    for (const line of text.split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as PublishedRecord);
  }
  return records;
}

/** The published log of one as_of. */
async function publishedRecords(store: ObjectStore, asOf: string): Promise<PublishedRecord[]> {
  return readRecords(store, await store.list(lakeLayout.publishedPartition(asOf)));
}

/** Message ids already delivered for an as_of, from the published log. */
export async function sentMessageIds(store: ObjectStore, asOf: string): Promise<Set<string>> {
  return new Set((await publishedRecords(store, asOf)).map((record) => record.message_id));
}

const DAY_MS = 86_400_000;
const dayNumber = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY_MS;

/**
 * Published records of the dates less than `days` from as_of on either side, as_of itself
 * excluded: one listing of the log, then only the partitions in the window are read.
 */
async function publishedAround(store: ObjectStore, asOf: string, days: number): Promise<PublishedRecord[]> {
  if (days <= 0) return [];
  const center = dayNumber(asOf);
  const keys = (await store.list(lakeLayout.published)).filter((key) => {
    const date = /as_of=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1];
    const distance = date === undefined ? Infinity : Math.abs(dayNumber(date) - center);
    return distance > 0 && distance < days;
  });
  return readRecords(store, keys);
}

/** Highest priority first, then the most valuable customers: the order people would triage in. */
function publishOrder(a: CampaignMessage, b: CampaignMessage): number {
  return b.priority - a.priority || a.metrics.rank_in_campaign - b.metrics.rank_in_campaign || a.campaign.localeCompare(b.campaign);
}

/** A log line for a message of this publish. */
function logRecord(message: CampaignMessage, sink: string, at: string, isHoldout: boolean): PublishedRecord {
  return {
    message_id: message.message_id,
    campaign: message.campaign,
    customer_id: message.customer_id,
    as_of: message.as_of,
    priority: message.priority,
    sink,
    published_at: at,
    is_holdout: isHoldout,
  };
}

const countByCampaign = (messages: readonly CampaignMessage[]) => {
  const counts: Record<string, number> = {};
  for (const message of messages) counts[message.campaign] = (counts[message.campaign] ?? 0) + 1;
  return counts;
};

/**
 * Publishes the campaign audience of one as_of, idempotently: messages already in the
 * published log are skipped, and each delivered chunk is logged before the next is sent, so a
 * publish that stops part-way resumes where it stopped. Message ids are deterministic, so the
 * one chunk that may be in flight at a crash repeats ids a consumer has seen, never new ones.
 * The audience's rules are checked again against the log: no second message to a customer for
 * the same as_of, no campaign inside its cooldown of a date published before or after.
 *
 * Of the customers who pass those checks, the holdout group is logged first, with is_holdout,
 * and sent nothing. Held-out customers are in the log like sent ones, so they count for the
 * cooldowns and the one-campaign-a-day rule exactly as if they had been messaged: the two
 * groups meet the same rules on every later date and stay comparable.
 *
 * All of it happens holding the lake's publish lease (options.lease), so that publishers never
 * overlap: whatever runs overlap, each reads a log no other publisher is writing.
 */
export async function publishCampaignAudience(options: PublishOptions): Promise<PublishResult> {
  const lease = { holder: `publish ${newBatchId()}`, ttlMs: 3_600_000, ...options.lease };
  return withLease(options.store, PUBLISH_LEASE, lease, () => publishHoldingLease(options));
}

/** The name of the lease every publisher of a lake holds while it publishes. */
export const PUBLISH_LEASE = 'publish';

async function publishHoldingLease(options: PublishOptions): Promise<PublishResult> {
  const { asOf, sink, store } = options;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const now = options.now ?? (() => new Date());
  const messages = options.audience.map(toCampaignMessage).sort(publishOrder);
  const sameDay = await publishedRecords(store, asOf);
  const alreadySent = new Set(sameDay.map((record) => record.message_id));
  const contactedToday = new Set(sameDay.map((record) => record.customer_id));
  const cooldowns = options.cooldownDays ?? {};
  const longest = Math.max(0, ...Object.values(cooldowns));
  const recent = new Map<string, number[]>();
  for (const record of await publishedAround(store, asOf, longest)) {
    const key = `${record.campaign}|${record.customer_id}`;
    const distance = Math.abs(dayNumber(record.as_of) - dayNumber(asOf));
    recent.set(key, [...(recent.get(key) ?? []), distance]);
  }
  const unsent = messages.filter((message) => !alreadySent.has(message.message_id));
  const eligible = unsent.filter((message) => {
    if (contactedToday.has(message.customer_id)) return false;
    const cooldown = cooldowns[message.campaign] ?? 0;
    return !(recent.get(`${message.campaign}|${message.customer_id}`) ?? []).some((distance) => distance < cooldown);
  });
  const suppressed = unsent.length - eligible.length;
  const holdout = options.holdout;
  const heldOut = holdout
    ? eligible.filter((message) => isHeldOut(holdout.salt, message.campaign, message.customer_id, holdout.shares[message.campaign] ?? 0))
    : [];
  const heldOutIds = new Set(heldOut.map((message) => message.message_id));
  const pending = eligible.filter((message) => !heldOutIds.has(message.message_id));
  const publishId = newBatchId(now());
  /** Logs messages of one chunk as one object: holdout-* (held out) or sent-* (delivered). */
  const logChunk = async (messages: readonly CampaignMessage[], isHoldout: boolean, chunk: number) => {
    if (messages.length === 0) return;
    const at = now().toISOString();
    const lines = messages.map((message) => JSON.stringify(logRecord(message, sink.name, at, isHoldout)));
    const key = `${lakeLayout.publishedPartition(asOf)}${isHoldout ? 'holdout' : 'sent'}-${publishId}-${String(chunk).padStart(5, '0')}.jsonl`;
    await store.put(key, `${lines.join('\n')}\n`);
  };

  // Holdouts first: once logged they are decided, so a publish that stops later never redraws them.
  for (let start = 0, chunk = 0; start < heldOut.length; start += chunkSize, chunk += 1) {
    await logChunk(heldOut.slice(start, start + chunkSize), true, chunk);
  }

  const byId = new Map(pending.map((message) => [message.message_id, message]));
  const delivered: CampaignMessage[] = [];
  const failed: PublishResult['failed'][number][] = [];
  for (let start = 0, chunk = 0; start < pending.length; start += chunkSize, chunk += 1) {
    const outcome = await sink.send(pending.slice(start, start + chunkSize));
    const chunkDelivered = outcome.delivered.map((messageId) => byId.get(messageId)!);
    await logChunk(chunkDelivered, false, chunk);
    delivered.push(...chunkDelivered);
    for (const failure of outcome.failed) {
      const message = byId.get(failure.messageId)!;
      failed.push({ messageId: failure.messageId, customerId: message.customer_id, campaign: message.campaign, reason: failure.reason });
    }
    options.onProgress?.(delivered.length, pending.length);
  }
  return {
    asOf,
    audience: messages.length,
    alreadySent: messages.length - unsent.length,
    sent: delivered.length,
    failed,
    sentByCampaign: countByCampaign(delivered),
    suppressed,
    heldOut: heldOut.length,
    heldOutByCampaign: countByCampaign(heldOut),
  };
}
