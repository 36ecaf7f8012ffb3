import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesystemObjectStore } from '../../functions/adapters/filesystem-store.ts';
import { OutboxSink } from '../../functions/adapters/outbox-sink.ts';
import type { AudienceRow, CampaignMessage } from '../../functions/core/campaigns/message.ts';
import { campaignMessageSchema, toCampaignMessage } from '../../functions/core/campaigns/message.ts';
import { isHeldOut } from '../../functions/core/campaigns/holdout.ts';
import { publishCampaignAudience, sentMessageIds } from '../../functions/core/campaigns/publish.ts';
import type { PublishedRecord } from '../../functions/core/lake/raw-tables.ts';
import type { MessageSink, SinkOutcome } from '../../functions/core/ports.ts';
import { temporaryDirectory } from '../support/cli.ts';

const audience = (count: number): AudienceRow[] =>
  Array.from({ length: count }, (_, index) => ({
    campaign: index % 3 === 0 ? 'service_recovery' : 'loyalty_upgrade',
    customer_id: `cust-${index}`,
    priority: index % 3 === 0 ? 100 : 50,
    reason: 'test',
    rank_in_campaign: index + 1,
    net_revenue: 10 * index,
    purchases: 1,
    days_since_last_purchase: 5,
    last_nps_score: 4,
    segment: 'champions',
    as_of: '2024-06-30',
  }));

let directory: { path: string; cleanup: () => Promise<void> };
let store: FilesystemObjectStore;

beforeEach(async () => {
  directory = await temporaryDirectory();
  store = new FilesystemObjectStore(directory.path);
});
afterEach(async () => directory.cleanup());

async function outboxMessages(): Promise<CampaignMessage[]> {
  const keys = await store.list('outbox/campaigns/as_of=2024-06-30/');
  const messages: CampaignMessage[] = [];
  for (const key of keys) {
    const text = await readFile(join(directory.path, key), 'utf8');
    for (const line of text.trim().split('\n')) messages.push(campaignMessageSchema.parse(JSON.parse(line)));
  }
  return messages;
}

/** A sink that delivers to the outbox but dies on its n-th call, like a process killed mid-publish. */
class CrashingSink implements MessageSink {
  readonly name = 'outbox';
  private calls = 0;
  constructor(
    private readonly inner: MessageSink,
    private readonly crashOnCall: number,
    private readonly crashAfterDelivering = false,
  ) {}
  async send(messages: readonly CampaignMessage[]): Promise<SinkOutcome> {
    this.calls += 1;
    if (this.calls === this.crashOnCall) {
      if (this.crashAfterDelivering) await this.inner.send(messages);
      throw new Error('connection reset');
    }
    return this.inner.send(messages);
  }
}

describe('publishing', () => {
  it('sends every message once, highest priority first, and logs what it sent', async () => {
    const result = await publishCampaignAudience({ asOf: '2024-06-30', audience: audience(7), sink: new OutboxSink(store), store });
    expect(result).toMatchObject({ audience: 7, alreadySent: 0, sent: 7, failed: [], sentByCampaign: { service_recovery: 3, loyalty_upgrade: 4 } });
    const sent = await outboxMessages();
    expect(sent).toHaveLength(7);
    expect(sent.slice(0, 3).every((message) => message.campaign === 'service_recovery')).toBe(true);
    expect((await sentMessageIds(store, '2024-06-30')).size).toBe(7);
  });

  it('is idempotent: a second publish of the same as_of sends nothing', async () => {
    await publishCampaignAudience({ asOf: '2024-06-30', audience: audience(7), sink: new OutboxSink(store), store });
    const again = await publishCampaignAudience({ asOf: '2024-06-30', audience: audience(7), sink: new OutboxSink(store), store });
    expect(again).toMatchObject({ audience: 7, alreadySent: 7, sent: 0 });
    expect(await outboxMessages()).toHaveLength(7);
  });

  it('resumes a publish that failed part-way without sending anything twice', async () => {
    const crashing = new CrashingSink(new OutboxSink(store), 3);
    await expect(publishCampaignAudience({ asOf: '2024-06-30', audience: audience(10), sink: crashing, store, chunkSize: 3 })).rejects.toThrow(
      'connection reset',
    );
    expect((await sentMessageIds(store, '2024-06-30')).size).toBe(6);
    const resumed = await publishCampaignAudience({ asOf: '2024-06-30', audience: audience(10), sink: new OutboxSink(store), store, chunkSize: 3 });
    expect(resumed).toMatchObject({ alreadySent: 6, sent: 4 });
    const ids = (await outboxMessages()).map((message) => message.message_id);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
  });

  it('resumes without a duplicate even when the crash came after delivery and before the log', async () => {
    const crashing = new CrashingSink(new OutboxSink(store), 2, true);
    await expect(publishCampaignAudience({ asOf: '2024-06-30', audience: audience(9), sink: crashing, store, chunkSize: 3 })).rejects.toThrow();
    await publishCampaignAudience({ asOf: '2024-06-30', audience: audience(9), sink: new OutboxSink(store), store, chunkSize: 3 });
    const ids = (await outboxMessages()).map((message) => message.message_id);
    expect(ids).toHaveLength(9);
    expect(new Set(ids).size).toBe(9);
  });

  it('does not log failed messages, so the next publish retries them', async () => {
    const flaky: MessageSink = {
      name: 'sqs',
      async send(messages) {
        return {
          delivered: messages.slice(1).map((m) => m.message_id),
          failed: [{ messageId: messages[0]!.message_id, reason: 'InvalidParameterValue: nope' }],
        };
      },
    };
    const first = await publishCampaignAudience({ asOf: '2024-06-30', audience: audience(4), sink: flaky, store });
    expect(first.failed).toEqual([expect.objectContaining({ customerId: 'cust-0', campaign: 'service_recovery', reason: 'InvalidParameterValue: nope' })]);
    const second = await publishCampaignAudience({ asOf: '2024-06-30', audience: audience(4), sink: new OutboxSink(store), store });
    expect(second).toMatchObject({ alreadySent: 3, sent: 1 });
  });
});

/** Every line of the published log of a date. */
async function logOf(asOf: string): Promise<PublishedRecord[]> {
  const records: PublishedRecord[] = [];
  for (const key of await store.list(`published/campaigns/as_of=${asOf}/`)) {
    for (const line of new TextDecoder()
      .decode(await store.get(key))
      .trim()
      .split('\n'))
      records.push(JSON.parse(line) as PublishedRecord);
  }
  return records;
}

describe('publishing with holdouts', () => {
  const holdout = { salt: 'test-salt', shares: { service_recovery: 0.5, loyalty_upgrade: 0.2 } };
  const rows = audience(400);

  it('logs every customer of the audience, sends only the treatment group, and holds out those the draw picks', async () => {
    const result = await publishCampaignAudience({ asOf: '2024-06-30', audience: rows, sink: new OutboxSink(store), store, holdout, chunkSize: 64 });
    const expectedHeld = rows.filter((row) =>
      isHeldOut('test-salt', row.campaign, row.customer_id, holdout.shares[row.campaign as keyof typeof holdout.shares]),
    );
    expect(result.heldOut).toBe(expectedHeld.length);
    expect(result.sent + result.heldOut).toBe(400);
    // 134 service_recovery customers at a share of 0.5, 266 loyalty_upgrade ones at 0.2.
    expect(result.heldOutByCampaign['service_recovery']! / 134).toBeGreaterThan(0.35);
    expect(result.heldOutByCampaign['service_recovery']! / 134).toBeLessThan(0.65);
    expect(result.heldOutByCampaign['loyalty_upgrade']! / 266).toBeGreaterThan(0.1);
    expect(result.heldOutByCampaign['loyalty_upgrade']! / 266).toBeLessThan(0.3);

    const log = await logOf('2024-06-30');
    expect(log).toHaveLength(400);
    expect(
      log
        .filter((record) => record.is_holdout)
        .map((record) => record.customer_id)
        .sort(),
    ).toEqual(expectedHeld.map((row) => row.customer_id).sort());
    const sent = await outboxMessages();
    expect(sent.map((message) => message.customer_id).sort()).toEqual(
      log
        .filter((record) => record.is_holdout === false)
        .map((record) => record.customer_id)
        .sort(),
    );
  });

  it('is idempotent with holdouts: a second publish sends and logs nothing, even after a crash mid-send', async () => {
    const crashing = new CrashingSink(new OutboxSink(store), 2);
    await expect(publishCampaignAudience({ asOf: '2024-06-30', audience: rows, sink: crashing, store, holdout, chunkSize: 50 })).rejects.toThrow();
    const resumed = await publishCampaignAudience({ asOf: '2024-06-30', audience: rows, sink: new OutboxSink(store), store, holdout, chunkSize: 50 });
    expect(resumed.heldOut).toBe(0);
    const again = await publishCampaignAudience({ asOf: '2024-06-30', audience: rows, sink: new OutboxSink(store), store, holdout });
    expect(again).toMatchObject({ alreadySent: 400, sent: 0, heldOut: 0 });
    const log = await logOf('2024-06-30');
    expect(new Set(log.map((record) => record.customer_id)).size).toBe(400);
    expect(log).toHaveLength(400);
    expect((await outboxMessages()).length).toBe(log.filter((record) => !record.is_holdout).length);
  });

  it('counts a held-out customer for cooldowns and the one-campaign-a-day rule as if they had been sent', async () => {
    const first = await publishCampaignAudience({ asOf: '2024-06-30', audience: rows, sink: new OutboxSink(store), store, holdout });
    const held = (await logOf('2024-06-30')).filter((record) => record.is_holdout);
    expect(first.heldOut).toBeGreaterThan(0);
    const heldRows = rows.filter((row) => held.some((record) => record.customer_id === row.customer_id));
    // Ten days later, inside a 30-day cooldown: the same campaign again is held back, not sent.
    const later = heldRows.map((row) => ({ ...row, as_of: '2024-07-10' }));
    const cooled = await publishCampaignAudience({
      asOf: '2024-07-10',
      audience: later,
      sink: new OutboxSink(store),
      store,
      holdout,
      cooldownDays: { service_recovery: 30, loyalty_upgrade: 30 },
    });
    expect(cooled).toMatchObject({ sent: 0, heldOut: 0, suppressed: heldRows.length });
    // The same day, another campaign for a held-out customer (a re-run after late data) is held back too.
    const other = heldRows.map((row) => ({ ...row, campaign: row.campaign === 'service_recovery' ? 'loyalty_upgrade' : 'service_recovery' }));
    const sameDay = await publishCampaignAudience({ asOf: '2024-06-30', audience: other, sink: new OutboxSink(store), store, holdout });
    expect(sameDay).toMatchObject({ sent: 0, heldOut: 0, suppressed: heldRows.length });
  });

  it('holds out no one from a campaign whose share is 0', async () => {
    const shares = { service_recovery: 0, loyalty_upgrade: 0.5 };
    const result = await publishCampaignAudience({
      asOf: '2024-06-30',
      audience: rows,
      sink: new OutboxSink(store),
      store,
      holdout: { salt: 'test-salt', shares },
    });
    expect(result.heldOutByCampaign['service_recovery']).toBeUndefined();
    expect(result.heldOutByCampaign['loyalty_upgrade']).toBeGreaterThan(90);
    expect(result.sentByCampaign['service_recovery']).toBe(134);
  });
});

describe('publishing interrupted any number of times, anywhere', () => {
  it('ends with each message in the outbox exactly once and in the log exactly once', async () => {
    const crash = fc.record({ onCall: fc.integer({ min: 1, max: 8 }), afterDelivering: fc.boolean() });
    const scenario = fc.record({
      messages: fc.integer({ min: 1, max: 30 }),
      chunkSize: fc.integer({ min: 1, max: 7 }),
      crashes: fc.array(crash, { maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ messages, chunkSize, crashes }) => {
        const { path, cleanup } = await temporaryDirectory();
        try {
          const lake = new FilesystemObjectStore(path);
          const publish = (sink: MessageSink) => publishCampaignAudience({ asOf: '2024-06-30', audience: audience(messages), sink, store: lake, chunkSize });
          // Each interrupted run may or may not get as far as its crash; then one run is left alone.
          for (const { onCall, afterDelivering } of crashes)
            await publish(new CrashingSink(new OutboxSink(lake), onCall, afterDelivering)).catch(() => undefined);
          await publish(new OutboxSink(lake));
          const messageIdsUnder = async (prefix: string) => {
            const ids: string[] = [];
            for (const key of await lake.list(prefix)) {
              for (const line of new TextDecoder()
                .decode(await lake.get(key))
                .trim()
                .split('\n'))
                ids.push(JSON.parse(line).message_id);
            }
            return ids.sort();
          };
          const expected = audience(messages)
            .map((row) => toCampaignMessage(row).message_id)
            .sort();
          expect(await messageIdsUnder('outbox/campaigns/as_of=2024-06-30/')).toEqual(expected);
          expect(await messageIdsUnder('published/campaigns/as_of=2024-06-30/')).toEqual(expected);
        } finally {
          await cleanup();
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

describe('two publishers at once', () => {
  /** A sink that takes a while per chunk, long enough for another publisher to read the log meanwhile, and remembers what it was given. */
  class SlowSink implements MessageSink {
    readonly name = 'outbox';
    readonly received: CampaignMessage[] = [];
    async send(messages: readonly CampaignMessage[]): Promise<SinkOutcome> {
      await new Promise((resolve) => setTimeout(resolve, 15));
      this.received.push(...messages);
      return { delivered: messages.map((message) => message.message_id), failed: [] };
    }
  }
  const waitForEachOther = { waitMs: 60_000, pollMs: 5 };
  const dated = (asOf: string) => audience(60).map((row) => ({ ...row, as_of: asOf }));

  it('never send a customer two messages for the same campaign and date, nor one inside a cooldown, however they overlap', async () => {
    const sink = new SlowSink();
    const publish = (asOf: string) =>
      publishCampaignAudience({
        asOf,
        audience: dated(asOf),
        sink,
        store,
        chunkSize: 7,
        cooldownDays: { service_recovery: 30, loyalty_upgrade: 30 },
        lease: waitForEachOther,
      });
    // The same date twice (two executions of one date) and the next day (a neighbouring run), all at once.
    const results = await Promise.all([publish('2024-07-10'), publish('2024-07-10'), publish('2024-07-11')]);
    expect(results.reduce((total, result) => total + result.sent, 0)).toBe(60);
    const perCustomer = new Map<string, number>();
    for (const message of sink.received) perCustomer.set(message.customer_id, (perCustomer.get(message.customer_id) ?? 0) + 1);
    expect([...perCustomer.values()].every((count) => count === 1)).toBe(true);
    expect(perCustomer.size).toBe(60);
    // One of them sent everything; the others read its log: the same date as already sent, the other day as in the cooldown.
    expect(results.map((result) => result.sent).sort()).toEqual([0, 0, 60]);
    const others = results.filter((result) => result.sent === 0);
    expect(others.reduce((total, result) => total + result.alreadySent + result.suppressed, 0)).toBe(120);
    expect(await store.list('locks/publish/')).toEqual(expect.arrayContaining([expect.stringMatching(/\.released$/)]));
  });

  it('without waiting, the second gives up naming the first and sends nothing', async () => {
    const sink = new SlowSink();
    const publish = (waitMs: number) =>
      publishCampaignAudience({ asOf: '2024-07-10', audience: dated('2024-07-10'), sink, store, chunkSize: 7, lease: { holder: `waits ${waitMs}`, waitMs } });
    // The second starts once the first holds the lease.
    const holding = async () => {
      const held = (keys: string[]) => keys.some((key) => key.endsWith('.json') && !keys.includes(key.replace(/\.json$/, '.released')));
      while (!held(await store.list('locks/publish/'))) await new Promise((resolve) => setTimeout(resolve, 1));
    };
    const [first, second] = await Promise.allSettled([publish(60_000), holding().then(() => publish(0))]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { sent: 60 } });
    expect(second).toMatchObject({
      status: 'rejected',
      reason: { name: 'LeaseBusyError', message: expect.stringMatching(/^publish is held by waits 60000 since /) },
    });
    expect(sink.received).toHaveLength(60);
  });
});
