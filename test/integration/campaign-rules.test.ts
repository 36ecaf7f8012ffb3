import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAMPAIGN_NAMES, CAMPAIGNS } from '../../functions/core/campaigns/campaigns.ts';
import { isHeldOut } from '../../functions/core/campaigns/holdout.ts';
import type { CampaignName } from '../../functions/core/campaigns/campaigns.ts';
import { orderEvent, surveyEvent } from '../support/events.ts';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * Each campaign rule on hand-made customers, as of 2024-06-30 with the default 90-day activity
 * window: one customer that qualifies, one that does not, and one exactly at each threshold.
 * Each rule is tested alone (the others switched off in config) so that priorities do not hide
 * what the rule itself decides.
 */

const AS_OF = '2024-06-30';
const purchase = (customer: string, date: string, total = 50) =>
  orderEvent({ order_id: `${customer}-${date}`, customer_id: customer, occurred_at: `${date}T12:00:00Z`, total });
const answer = (customer: string, date: string, score: number) => surveyEvent({ customer_id: customer, occurred_at: `${date}T12:00:00Z`, score });

const orders = [
  // win_back: lapsed (>= 90 days, <= 365) and in the top 40% by net revenue (the test config).
  purchase('wb_lapsed_rich', '2024-01-10', 900),
  purchase('wb_at_threshold', '2024-04-01', 800), // exactly 90 days: lapsed
  purchase('wb_not_lapsed', '2024-04-02', 700), // 89 days: still active
  purchase('wb_lapsed_poor', '2024-01-15', 10),
  purchase('wb_365_days', '2023-07-01', 850), // exactly 365 days: still worth it
  purchase('wb_too_old', '2023-05-01', 950),
  ...[20, 30, 40, 50, 60].map((total, index) => purchase(`filler_${index}`, '2024-06-25', total)),
  // churn_risk: active, a usual gap of 10 days, and more than 2 gaps since the last purchase.
  purchase('cr_overdue', '2024-05-01'),
  purchase('cr_overdue', '2024-05-11'), // 50 days since
  purchase('cr_at_threshold', '2024-05-31'),
  purchase('cr_at_threshold', '2024-06-10'), // 20 days since = exactly 2 gaps: not yet
  purchase('cr_just_over', '2024-05-30'),
  purchase('cr_just_over', '2024-06-09'), // 21 days since
  purchase('cr_lapsed', '2024-03-01'),
  purchase('cr_lapsed', '2024-03-05'), // 117 days since: lapsed, not at risk
  // referral_ask: latest score 9-10 within 60 days and a purchase within 60 days.
  purchase('ra_promoter', '2024-06-01'),
  purchase('ra_passive', '2024-06-01'),
  purchase('ra_answer_at_threshold', '2024-06-01'),
  purchase('ra_answer_too_old', '2024-06-01'),
  purchase('ra_no_recent_purchase', '2024-04-01'),
  // service_recovery: latest score 0-6 within 30 days.
  purchase('sr_detractor', '2024-06-01', 300),
  purchase('sr_at_threshold', '2024-06-01', 100),
  purchase('sr_too_old', '2024-06-01'),
  purchase('sr_now_promoter', '2024-06-01'),
  // second_purchase: one purchase day, 14 to 45 days ago.
  purchase('sp_14_days', '2024-06-16'),
  purchase('sp_13_days', '2024-06-17'),
  purchase('sp_45_days', '2024-05-16'),
  purchase('sp_46_days', '2024-05-15'),
  purchase('sp_two_days', '2024-06-01'),
  purchase('sp_two_days', '2024-06-02'),
];

const surveys = [
  answer('ra_promoter', '2024-06-05', 9),
  answer('ra_passive', '2024-06-05', 8),
  answer('ra_answer_at_threshold', '2024-05-01', 10), // exactly 60 days
  answer('ra_answer_too_old', '2024-04-30', 10), // 61 days
  answer('ra_no_recent_purchase', '2024-06-10', 10),
  answer('sr_detractor', '2024-06-20', 3),
  answer('sr_at_threshold', '2024-05-31', 6), // exactly 30 days
  answer('sr_too_old', '2024-05-30', 0), // 31 days
  answer('sr_now_promoter', '2024-06-01', 2),
  answer('sr_now_promoter', '2024-06-15', 10),
  // A second-purchase candidate who is also a detractor: service recovery outranks it.
  answer('sp_14_days', '2024-06-20', 2),
];

let directory: string;
let lake: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const temporary = await temporaryDirectory();
  directory = temporary.path;
  cleanup = temporary.cleanup;
  lake = join(directory, 'lake');
  const orderFile = await writeJsonLines(join(directory, 'orders.jsonl'), orders);
  const surveyFile = await writeJsonLines(join(directory, 'surveys.jsonl'), surveys);
  expect((await pipeline('ingest', 'orders', orderFile, '--lake', lake)).code).toBe(0);
  expect((await pipeline('ingest', 'surveys', surveyFile, '--lake', lake)).code).toBe(0);
});

afterAll(async () => cleanup?.());

/**
 * Runs as_of with only `campaign` switched on (plus extra settings) and returns its audience
 * among the customers made for that rule (their ids start with `prefix`).
 */
async function audienceWithOnly(campaign: CampaignName, prefix: string, settings: Record<string, unknown> = {}, asOf = AS_OF) {
  const campaigns = Object.fromEntries(CAMPAIGN_NAMES.map((name) => [CAMPAIGNS[name], { enabled: name === campaign }]));
  Object.assign(campaigns[CAMPAIGNS[campaign]]!, settings);
  const config = join(directory, `${campaign}.json`);
  await writeFile(config, JSON.stringify({ campaigns }));
  const run = await pipeline('run', '--as-of', asOf, '--config', config, '--lake', lake);
  expect(run.code, run.stderr).toBe(0);
  return queryCsv(lake, `select * from campaign_audience where as_of = date '${asOf}' and customer_id like '${prefix}%' order by customer_id`);
}

const customers = (rows: Record<string, string | null>[]) => rows.map((row) => row['customer_id']);

describe('campaign rules, one at a time', () => {
  it('win_back: lapsed, valuable, and not gone for more than a year', async () => {
    const rows = await audienceWithOnly('win_back', 'wb_', { topValueShare: 0.4 });
    expect(customers(rows)).toEqual(['wb_365_days', 'wb_at_threshold', 'wb_lapsed_rich']);
    expect(rows.find((row) => row['customer_id'] === 'wb_lapsed_rich')!['reason']).toBe('no purchase for 172 days; net revenue 900.00 is in the top 40%');
  });

  it('churn_risk: active customers more than two usual gaps past their last purchase', async () => {
    const rows = await audienceWithOnly('churn_risk', 'cr_');
    expect(customers(rows)).toEqual(['cr_just_over', 'cr_overdue']);
    expect(rows[1]!['reason']).toBe('last purchase 50 days ago; usually every 10 days');
  });

  it('loyalty_upgrade: exactly the customers in the configured RFM segments', async () => {
    const rows = await audienceWithOnly('loyalty_upgrade', '', { segments: ['hibernating', 'at_risk'] });
    const expected = await queryCsv(
      lake,
      `select customer_id from rfm_segments where as_of = date '${AS_OF}' and segment in ('hibernating', 'at_risk') order by customer_id`,
    );
    expect(customers(rows)).toEqual(customers(expected));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(orders.length);
  });

  it('referral_ask: recent promoters who purchased recently', async () => {
    const rows = await audienceWithOnly('referral_ask', 'ra_');
    expect(customers(rows)).toEqual(['ra_answer_at_threshold', 'ra_promoter']);
  });

  it('service_recovery: recent detractors, most valuable first', async () => {
    const rows = await audienceWithOnly('service_recovery', '');
    expect(customers(rows)).toEqual(['sp_14_days', 'sr_at_threshold', 'sr_detractor']);
    const ranks = Object.fromEntries(rows.map((row) => [row['customer_id'], row['rank_in_campaign']]));
    expect(ranks).toEqual({ sr_detractor: '1', sr_at_threshold: '2', sp_14_days: '3' });
  });

  it('second_purchase: one purchase day, 14 to 45 days ago', async () => {
    const rows = await audienceWithOnly('second_purchase', 'sp_');
    expect(customers(rows)).toEqual(['sp_14_days', 'sp_45_days']);
  });
});

describe('suppression and cooldown', () => {
  const runAll = async (asOf: string, config?: string) => {
    const args = ['run', '--as-of', asOf, '--lake', lake, ...(config ? ['--config', config] : [])];
    const run = await pipeline(...args);
    expect(run.code, run.stderr).toBe(0);
    return queryCsv(lake, `select campaign, customer_id from campaign_audience where as_of = date '${asOf}' order by customer_id`);
  };

  it('gives each customer one campaign per run: the highest priority', async () => {
    const rows = await runAll(AS_OF);
    const perCustomer = new Map<string, string[]>();
    for (const row of rows) perCustomer.set(row['customer_id']!, [...(perCustomer.get(row['customer_id']!) ?? []), row['campaign']!]);
    expect([...perCustomer.values()].every((campaigns) => campaigns.length === 1)).toBe(true);
    expect(perCustomer.get('sp_14_days')).toEqual(['service_recovery']);
  });

  it('does not send a campaign again within its cooldown, and does after it', async () => {
    const config = join(directory, 'cooldown.json');
    await writeFile(config, JSON.stringify({ campaigns: { serviceRecovery: { cooldownDays: 10, maxDaysSinceResponse: 40 } } }));
    await runAll(AS_OF, config);
    const published = await pipeline('publish', '--as-of', AS_OF, '--config', config, '--lake', lake);
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toMatch(/sent \d+ messages to outbox/);

    const nineDaysLater = await runAll('2024-07-09', config);
    expect(nineDaysLater.find((row) => row['customer_id'] === 'sr_detractor')).toBeUndefined();
    const tenDaysLater = await runAll('2024-07-10', config);
    expect(tenDaysLater.find((row) => row['customer_id'] === 'sr_detractor')).toEqual({ campaign: 'service_recovery', customer_id: 'sr_detractor' });
  });

  it('proposes the same audience when a published date is run again, so publish sends nothing new', async () => {
    const config = join(directory, 'cooldown.json');
    const before = await queryCsv(lake, `select * from campaign_audience where as_of = date '${AS_OF}' order by customer_id`);
    const rerun = await runAll(AS_OF, config);
    expect(rerun.length).toBe(before.length);
    const again = await pipeline('publish', '--as-of', AS_OF, '--config', config, '--lake', lake);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing new to send, all \d+ customers were already sent to outbox or held out/);
  });
});

describe('cooldowns and one campaign per customer hold at publish time too', () => {
  const outboxMessages = async (lakeRoot: string) => {
    const rows = await queryCsv(lakeRoot, 'select message_id, campaign, customer_id, as_of from published_messages order by as_of, campaign');
    return rows;
  };

  it('a backfill that runs every date and then publishes them sends a campaign once per cooldown', async () => {
    const temporary = await temporaryDirectory();
    try {
      const backfillLake = join(temporary.path, 'lake');
      const file = await writeJsonLines(join(temporary.path, 'orders.jsonl'), [purchase('solo', '2026-01-01')]);
      expect((await pipeline('ingest', 'orders', file, '--lake', backfillLake)).code).toBe(0);
      expect((await pipeline('run', '--from', '2026-01-15', '--to', '2026-01-17', '--lake', backfillLake)).code).toBe(0);
      const published = await pipeline('publish', '--from', '2026-01-15', '--to', '2026-01-17', '--lake', backfillLake);
      expect(published.code, published.stderr).toBe(0);
      expect(published.stdout).toContain('1 held back');
      const sent = await outboxMessages(backfillLake);
      expect(sent.map((row) => [row['campaign'], row['customer_id'], row['as_of']])).toEqual([['second_purchase', 'solo', '2026-01-15']]);
    } finally {
      await temporary.cleanup();
    }
  });

  it('a re-run after late data does not send a customer a second campaign for the same date', async () => {
    const temporary = await temporaryDirectory();
    try {
      const rerunLake = join(temporary.path, 'lake');
      const file = await writeJsonLines(join(temporary.path, 'orders.jsonl'), [purchase('late', '2026-01-01')]);
      expect((await pipeline('ingest', 'orders', file, '--lake', rerunLake)).code).toBe(0);
      expect((await pipeline('run', '--as-of', '2026-01-20', '--lake', rerunLake)).code).toBe(0);
      expect((await pipeline('publish', '--as-of', '2026-01-20', '--lake', rerunLake)).code).toBe(0);
      // A detractor answer dated 01-19 arrives late: the re-run now picks service_recovery.
      const survey = await writeJsonLines(join(temporary.path, 'surveys.jsonl'), [answer('late', '2026-01-19', 2)]);
      expect((await pipeline('ingest', 'surveys', survey, '--lake', rerunLake)).code).toBe(0);
      expect((await pipeline('run', '--as-of', '2026-01-20', '--lake', rerunLake)).code).toBe(0);
      const audience = await queryCsv(rerunLake, "select campaign from campaign_audience where as_of = date '2026-01-20'");
      expect(audience).toEqual([{ campaign: 'service_recovery' }]);
      const again = await pipeline('publish', '--as-of', '2026-01-20', '--lake', rerunLake);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('1 held back');
      expect((await outboxMessages(rerunLake)).map((row) => row['campaign'])).toEqual(['second_purchase']);
    } finally {
      await temporary.cleanup();
    }
  });

  it('a held-out customer waits out the cooldown like a messaged one, in the SQL audience and at publish', async () => {
    const temporary = await temporaryDirectory();
    try {
      const heldLake = join(temporary.path, 'lake');
      // A salt under which the detractor falls in service_recovery's holdout.
      const salt = Array.from({ length: 50 }, (_, index) => `salt-${index}`).find((candidate) => isHeldOut(candidate, 'service_recovery', 'held', 0.5))!;
      const config = join(temporary.path, 'config.json');
      await writeFile(config, JSON.stringify({ campaigns: { holdout: { salt }, serviceRecovery: { cooldownDays: 10, holdoutShare: 0.5 } } }));
      const orders = await writeJsonLines(join(temporary.path, 'orders.jsonl'), [purchase('held', '2024-06-01')]);
      const surveys = await writeJsonLines(join(temporary.path, 'surveys.jsonl'), [answer('held', '2024-06-28', 2)]);
      expect((await pipeline('ingest', 'orders', orders, '--lake', heldLake)).code).toBe(0);
      expect((await pipeline('ingest', 'surveys', surveys, '--lake', heldLake)).code).toBe(0);
      const audienceOn = async (asOf: string) => {
        expect((await pipeline('run', '--as-of', asOf, '--config', config, '--lake', heldLake)).code).toBe(0);
        return queryCsv(heldLake, `select campaign, customer_id from campaign_audience where as_of = date '${asOf}'`);
      };
      expect(await audienceOn(AS_OF)).toEqual([{ campaign: 'service_recovery', customer_id: 'held' }]);
      const published = await pipeline('publish', '--as-of', AS_OF, '--config', config, '--lake', heldLake);
      expect(published.stdout).toContain('sent 0 messages to outbox, held out 1 customer as a control');
      expect(await queryCsv(heldLake, 'select customer_id, is_holdout from published_messages')).toEqual([{ customer_id: 'held', is_holdout: 'true' }]);
      expect(await audienceOn('2024-07-09')).toEqual([]);
      expect(await audienceOn('2024-07-10')).toEqual([{ campaign: 'service_recovery', customer_id: 'held' }]);
      // Still in the holdout: the same draw, so the second send is logged, not sent, too.
      const again = await pipeline('publish', '--as-of', '2024-07-10', '--config', config, '--lake', heldLake);
      expect(again.stdout).toContain('held out 1 customer as a control');
      expect(await queryCsv(heldLake, 'select count(*) as logged, count(case when not is_holdout then 1 end) as sent from published_messages')).toEqual([
        { logged: '2', sent: '0' },
      ]);
    } finally {
      await temporary.cleanup();
    }
  });
});
