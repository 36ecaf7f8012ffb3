import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../functions/core/demo/random.ts';
import { customerOrders } from '../reference/commerce.ts';
import { addDays, purchasesAsOf } from '../reference/metrics.ts';
import type { RefOrderEvent } from '../reference/metrics.ts';
import { campaignOutcomes, campaignResults, compareGroups } from '../reference/uplift.ts';
import type { LoggedMember } from '../reference/uplift.ts';
import { orderEvent } from '../support/events.ts';
import { pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * campaign_outcomes and campaign_results through the command line: hand-worked cases whose
 * intervals are published, the edges of the conversion window, empty groups, log lines written
 * before holdouts existed, who counts as a referrer, and generated data compared row by row
 * with the reference in test/reference/uplift.ts.
 */

interface Member {
  send_date: string;
  campaign: string;
  customer_id: string;
  is_holdout?: boolean;
}

/** Writes published-log lines as the publisher does (one file per send date). */
async function writeLog(lake: string, members: readonly Member[]): Promise<void> {
  const byDate = new Map<string, Member[]>();
  for (const member of members) byDate.set(member.send_date, [...(byDate.get(member.send_date) ?? []), member]);
  for (const [date, group] of byDate) {
    const directory = join(lake, 'published', 'campaigns', `as_of=${date}`);
    await mkdir(directory, { recursive: true });
    const lines = group.map((member) => {
      const line: Record<string, unknown> = {
        message_id: `${member.campaign}-${member.customer_id}-${date}`,
        campaign: member.campaign,
        customer_id: member.customer_id,
        as_of: date,
        priority: 50,
        sink: 'outbox',
        published_at: `${date}T06:00:00.000Z`,
      };
      if (member.is_holdout !== undefined) line['is_holdout'] = member.is_holdout;
      return JSON.stringify(line);
    });
    await writeFile(join(directory, 'sent-test.jsonl'), `${lines.join('\n')}\n`);
  }
}

const numberOrNull = (value: string | null | undefined) => (value === null || value === undefined ? null : Number(value));

/**
 * Newcombe, "Interval estimation for the difference between independent proportions:
 * comparison of eleven methods", Statistics in Medicine 17 (1998) 873-890, table II, method 10
 * (the score interval from Wilson's intervals, without continuity correction).
 */
const NEWCOMBE_TABLE_II: readonly { treated: [number, number]; held: [number, number]; interval: [number, number] }[] = [
  { treated: [56, 70], held: [48, 80], interval: [0.0524, 0.3339] },
  { treated: [9, 10], held: [3, 10], interval: [0.1705, 0.809] },
  { treated: [6, 7], held: [2, 7], interval: [0.0582, 0.8062] },
  { treated: [5, 56], held: [0, 29], interval: [-0.0381, 0.1926] },
  { treated: [0, 10], held: [0, 20], interval: [-0.1611, 0.2775] },
  { treated: [0, 10], held: [0, 10], interval: [-0.2775, 0.2775] },
  { treated: [10, 10], held: [0, 20], interval: [0.6791, 1] },
  { treated: [10, 10], held: [0, 10], interval: [0.6075, 1] },
];

/** Send date of hand-worked case k (win_back, one send a day from Jan 1). */
const caseDate = (k: number) => addDays('2026-01-01', k);

let lake: string;
let cleanup: () => Promise<void>;
const members: Member[] = [];
const orders: Record<string, unknown>[] = [];

beforeAll(async () => {
  const directory = await temporaryDirectory();
  cleanup = directory.cleanup;
  lake = join(directory.path, 'lake');

  // The published cases: converters buy 5 days after the send, for 10 each.
  NEWCOMBE_TABLE_II.forEach(({ treated, held }, k) => {
    for (const [isHoldout, [converters, customers]] of [
      [false, treated],
      [true, held],
    ] as const) {
      for (let i = 0; i < customers; i += 1) {
        const customer = `case${k}-${isHoldout ? 'h' : 't'}${i}`;
        members.push({ send_date: caseDate(k), campaign: 'win_back', customer_id: customer, is_holdout: isHoldout });
        if (i < converters) orders.push(orderEvent({ order_id: `o-${customer}`, customer_id: customer, occurred_at: `${addDays(caseDate(k), 5)}T12:00:00Z` }));
      }
    }
  });
  // Empty groups: a send with no holdout, and one with nobody messaged.
  for (let i = 0; i < 8; i += 1) {
    members.push({ send_date: '2026-01-09', campaign: 'churn_risk', customer_id: `all-sent-${i}`, is_holdout: false });
    if (i < 5) orders.push(orderEvent({ order_id: `o-all-sent-${i}`, customer_id: `all-sent-${i}`, occurred_at: '2026-01-20T12:00:00Z' }));
  }
  for (let i = 0; i < 4; i += 1) {
    members.push({ send_date: '2026-01-10', campaign: 'referral_ask', customer_id: `all-held-${i}`, is_holdout: true });
    if (i < 2) orders.push(orderEvent({ order_id: `o-all-held-${i}`, customer_id: `all-held-${i}`, occurred_at: '2026-01-20T12:00:00Z' }));
  }
  // Lines logged before holdouts existed carry no is_holdout: they were sent.
  for (let i = 0; i < 3; i += 1) members.push({ send_date: '2026-01-11', campaign: 'loyalty_upgrade', customer_id: `legacy-${i}` });
  // An earlier win_back send logged before holdouts existed, every customer converting: it has
  // nothing to compare with, so it must not weigh on win_back's pooled figures.
  for (let i = 0; i < 10; i += 1) {
    members.push({ send_date: '2025-12-20', campaign: 'win_back', customer_id: `legacy-wb-${i}` });
    orders.push(orderEvent({ order_id: `o-legacy-wb-${i}`, customer_id: `legacy-wb-${i}`, occurred_at: '2025-12-28T12:00:00Z' }));
  }

  // The edges of a 30-day window after a send on Feb 1 (window end Mar 3).
  const edge = (customer: string, isHoldout: boolean) =>
    members.push({ send_date: '2026-02-01', campaign: 'second_purchase', customer_id: customer, is_holdout: isHoldout });
  edge('on-send-day', false);
  orders.push(orderEvent({ order_id: 'e1', customer_id: 'on-send-day', occurred_at: '2026-02-01T18:00:00Z', total: 99 })); // the send's own day: not after it
  edge('on-window-end', false);
  orders.push(orderEvent({ order_id: 'e2', customer_id: 'on-window-end', occurred_at: '2026-03-03T23:00:00Z', total: 20 })); // last day in
  edge('after-window', false);
  orders.push(orderEvent({ order_id: 'e3', customer_id: 'after-window', occurred_at: '2026-03-04T00:30:00Z', total: 99 })); // a day late
  edge('cancelled', false);
  orders.push(orderEvent({ order_id: 'e4', customer_id: 'cancelled', occurred_at: '2026-02-10T10:00:00Z', total: 99 }));
  orders.push(orderEvent({ order_id: 'e4', customer_id: 'cancelled', occurred_at: '2026-02-10T11:00:00Z', status: 'cancelled', total: 99 }));
  edge('partly-refunded', false);
  orders.push(orderEvent({ order_id: 'e5', customer_id: 'partly-refunded', occurred_at: '2026-02-10T10:00:00Z', total: 50 }));
  orders.push(
    orderEvent({ order_id: 'e5', customer_id: 'partly-refunded', occurred_at: '2026-02-12T10:00:00Z', status: 'refunded', total: 50, refunded_amount: 20 }),
  );
  edge('twice', false);
  orders.push(orderEvent({ order_id: 'e6a', customer_id: 'twice', occurred_at: '2026-02-05T10:00:00Z', total: 10.1 }));
  orders.push(orderEvent({ order_id: 'e6b', customer_id: 'twice', occurred_at: '2026-02-06T10:00:00Z', total: 14.9 }));
  edge('held-buyer', true);
  orders.push(orderEvent({ order_id: 'e7', customer_id: 'held-buyer', occurred_at: '2026-02-15T10:00:00Z', total: 40 }));
  edge('held-idle', true);

  // Referrals after a referral_ask send on Feb 10 (window end Mar 12): each member's referred
  // customers, by the date of their orders.
  const referralMember = (customer: string, isHoldout = false) =>
    members.push({ send_date: '2026-02-10', campaign: 'referral_ask', customer_id: customer, is_holdout: isHoldout });
  const referredOrder = (order: string, customer: string, day: string, referrer: string, status?: 'cancelled') => {
    orders.push(orderEvent({ order_id: order, customer_id: customer, occurred_at: `${day}T12:00:00Z`, referred_by: referrer }));
    if (status) orders.push(orderEvent({ order_id: order, customer_id: customer, occurred_at: `${day}T13:00:00Z`, status }));
  };
  referralMember('ra-two');
  referredOrder('r1', 'new-1', '2026-02-12', 'ra-two');
  referredOrder('r2', 'new-2', '2026-02-20', 'ra-two');
  referralMember('ra-send-day');
  referredOrder('r3', 'new-3', '2026-02-10', 'ra-send-day'); // the send's own day: not after it
  referralMember('ra-late');
  referredOrder('r4', 'new-4', '2026-03-13', 'ra-late'); // a day after the window
  referralMember('ra-before');
  referredOrder('r5', 'new-5', '2026-02-05', 'ra-before'); // before the send
  referralMember('ra-existing');
  orders.push(orderEvent({ order_id: 'r6a', customer_id: 'old-6', occurred_at: '2026-01-05T12:00:00Z' }));
  referredOrder('r6b', 'old-6', '2026-02-15', 'ra-existing'); // not a new customer: their first purchase came before
  referralMember('ra-cancelled-first');
  referredOrder('r7a', 'new-7', '2026-02-12', 'ra-cancelled-first', 'cancelled');
  referredOrder('r7b', 'new-7', '2026-02-14', 'ra-cancelled-first'); // the first purchase, after a cancelled order
  referralMember('ra-cancelled-only');
  referredOrder('r8', 'new-8', '2026-02-13', 'ra-cancelled-only', 'cancelled'); // never a purchase
  referralMember('ra-held', true);
  referredOrder('r9', 'new-9', '2026-02-20', 'ra-held');
  referralMember('ra-held-idle', true);

  await writeLog(lake, members);
  const file = await writeJsonLines(join(directory.path, 'orders.jsonl'), orders);
  expect((await pipeline('ingest', 'orders', file, '--lake', lake)).code).toBe(0);
  for (const asOf of ['2026-01-11', '2026-02-13', '2026-03-31']) {
    const run = await pipeline('run', '--as-of', asOf, '--lake', lake);
    expect(run.code, run.stderr).toBe(0);
  }
});

afterAll(async () => cleanup?.());

const outcome = async (asOf: string, sendDate: string) => {
  const [row] = await queryCsv(lake, `select * from campaign_outcomes where as_of = date '${asOf}' and send_date = date '${sendDate}'`);
  return row!;
};

describe('campaign_outcomes', () => {
  it("reproduces Newcombe's published intervals for a difference of proportions", async () => {
    for (const [k, { treated, held, interval }] of NEWCOMBE_TABLE_II.entries()) {
      const row = await outcome('2026-03-31', caseDate(k));
      expect([row['treatment_converters'], row['treatment_customers'], row['holdout_converters'], row['holdout_customers']].map(Number)).toEqual([
        ...treated,
        ...held,
      ]);
      expect(Number(row['uplift'])).toBeCloseTo(treated[0] / treated[1] - held[0] / held[1], 12);
      expect(Number(row['uplift_ci_low']), `case ${k}`).toBeCloseTo(interval[0], 4);
      expect(Number(row['uplift_ci_high']), `case ${k}`).toBeCloseTo(interval[1], 4);
    }
  });

  it('gives the pooled z-test p-value, 1 when both groups converted at 0 %, and the revenue arithmetic', async () => {
    const first = await outcome('2026-03-31', caseDate(0));
    // 56/70 against 48/80: pooled 104/150, z = 0.2 / sqrt(104/150 x 46/150 x (1/70 + 1/80)) = 2.6502.
    expect(Number(first['p_value'])).toBeCloseTo(0.0080451, 6);
    const groups = {
      treatment: { customers: 70, converters: 56, revenue: 0, referrers: 0, referred: 0 },
      holdout: { customers: 80, converters: 48, revenue: 0, referrers: 0, referred: 0 },
    };
    expect(numberOrNull(first['p_value'])).toBeCloseTo(compareGroups(groups).p_value!, 10);
    // 10 per converter: 560 and 480; 8 and 6 per customer; (8 - 6) x 70 = 140 more revenue; 0.2 x 70 = 14 more converters.
    expect(
      [first['treatment_net_revenue'], first['holdout_net_revenue'], first['revenue_per_treatment_customer'], first['revenue_per_holdout_customer']].map(
        Number,
      ),
    ).toEqual([560, 480, 8, 6]);
    expect(Number(first['incremental_revenue'])).toBeCloseTo(140, 9);
    expect(Number(first['incremental_converters'])).toBeCloseTo(14, 9);
    expect(Number((await outcome('2026-03-31', caseDate(4)))['p_value'])).toBe(1);
    expect(Number((await outcome('2026-03-31', caseDate(6)))['p_value'])).toBeLessThan(1e-6);
  });

  it('is null, never NaN or an error, where a group is empty', async () => {
    const noHoldout = await outcome('2026-03-31', '2026-01-09');
    expect(noHoldout).toMatchObject({
      treatment_customers: '8',
      treatment_converters: '5',
      treatment_conversion_rate: '0.625',
      holdout_customers: '0',
      holdout_conversion_rate: null,
    });
    for (const column of [
      'uplift',
      'uplift_ci_low',
      'uplift_ci_high',
      'p_value',
      'revenue_per_holdout_customer',
      'incremental_converters',
      'incremental_revenue',
    ]) {
      expect(noHoldout[column], column).toBeNull();
    }
    const nobodySent = await outcome('2026-03-31', '2026-01-10');
    expect(nobodySent).toMatchObject({
      treatment_customers: '0',
      treatment_conversion_rate: null,
      holdout_customers: '4',
      holdout_conversion_rate: '0.5',
      uplift: null,
      p_value: null,
      treatment_net_revenue: '0',
    });
  });

  it('reads log lines written before holdouts existed as treatment', async () => {
    expect(await outcome('2026-03-31', '2026-01-11')).toMatchObject({ campaign: 'loyalty_upgrade', treatment_customers: '3', holdout_customers: '0' });
  });

  it('counts a purchase after the send day up to the window end, at the as_of state of the order', async () => {
    // Converters: on-window-end (20), partly-refunded (50 - 20), twice (10.1 + 14.9); held-buyer (40).
    expect(await outcome('2026-03-31', '2026-02-01')).toMatchObject({
      window_end: '2026-03-03',
      window_complete: 'true',
      conversion_window_days: '30',
      treatment_customers: '6',
      treatment_converters: '3',
      treatment_net_revenue: '75',
      holdout_customers: '2',
      holdout_converters: '1',
      holdout_net_revenue: '40',
    });
  });

  it("counts a referrer: a member named by a new customer's first purchase in the window", async () => {
    // Treatment: ra-two referred two (new-1, new-2), ra-cancelled-first one (new-7, whose first
    // order was cancelled and whose next one named the referrer again); the others' referred
    // customers bought on the send day, after the window, before the send, were not new, or never
    // bought. Holdout: ra-held referred new-9.
    const row = await outcome('2026-03-31', '2026-02-10');
    expect(row).toMatchObject({
      campaign: 'referral_ask',
      asks_for: 'referral',
      treatment_customers: '7',
      holdout_customers: '2',
      treatment_converters: '0',
      treatment_referrers: '2',
      treatment_referred_customers: '3',
      holdout_referrers: '1',
      holdout_referred_customers: '1',
    });
    const expected = compareGroups({
      treatment: { customers: 7, converters: 0, revenue: 0, referrers: 2, referred: 3 },
      holdout: { customers: 2, converters: 0, revenue: 0, referrers: 1, referred: 1 },
    });
    for (const column of [
      'treatment_referral_rate',
      'holdout_referral_rate',
      'referral_uplift',
      'referral_uplift_ci_low',
      'referral_uplift_ci_high',
      'referral_p_value',
      'incremental_referred_customers',
    ] as const) {
      expect(numberOrNull(row[column]), column).toBeCloseTo(expected[column]!, 10);
    }
    expect(Number(row['incremental_referred_customers'])).toBeCloseTo((3 / 7 - 1 / 2) * 7, 10);
    // Before the window closed only new-1 (Feb 12) had been referred.
    expect(await outcome('2026-02-13', '2026-02-10')).toMatchObject({
      window_complete: 'false',
      treatment_referrers: '1',
      treatment_referred_customers: '1',
      holdout_referrers: '0',
    });
  });

  it('counts an open window up to as_of and leaves out the sends of as_of and after it', async () => {
    // At 01-11 the window of case 7 (sent 01-08, converters buying on 01-13) is open and has no converter yet.
    const open = await outcome('2026-01-11', caseDate(7));
    expect(open).toMatchObject({ window_end: '2026-02-07', window_complete: 'false', treatment_customers: '10', treatment_converters: '0' });
    // The legacy send is dated 01-11: a run of 01-11 gives the same tables before and after it is published.
    expect(await queryCsv(lake, "select count(*) as n from campaign_outcomes where as_of = date '2026-01-11' and send_date >= date '2026-01-11'")).toEqual([
      { n: '0' },
    ]);
    // Before it: the eight published cases, the two sends with an empty group, the legacy win_back send.
    expect(await queryCsv(lake, "select count(*) as n from campaign_outcomes where as_of = date '2026-01-11'")).toEqual([{ n: '11' }]);
    expect(await queryCsv(lake, "select count(*) as n from campaign_results where as_of = date '2026-01-11'")).toEqual([{ n: '0' }]);
  });
});

describe('campaign_results', () => {
  it('pools every send of a campaign whose window ended in the trailing 90 days and that held customers out', async () => {
    const [row] = await queryCsv(lake, "select * from campaign_results where as_of = date '2026-03-31' and campaign = 'win_back'");
    const sum = (pick: (entry: (typeof NEWCOMBE_TABLE_II)[number]) => number) => NEWCOMBE_TABLE_II.reduce((total, entry) => total + pick(entry), 0);
    const expected = compareGroups({
      treatment: {
        customers: sum((c) => c.treated[1]),
        converters: sum((c) => c.treated[0]),
        revenue: 10 * sum((c) => c.treated[0]),
        referrers: 0,
        referred: 0,
      },
      holdout: { customers: sum((c) => c.held[1]), converters: sum((c) => c.held[0]), revenue: 10 * sum((c) => c.held[0]), referrers: 0, referred: 0 },
    });
    // The legacy send of 2025-12-20 (window ended 01-19, inside the 90 days) has no holdout: left out.
    expect(await outcome('2026-03-31', '2025-12-20')).toMatchObject({ treatment_customers: '10', treatment_converters: '10', holdout_customers: '0' });
    expect(row).toMatchObject({
      sends: '8',
      first_send_date: '2026-01-01',
      last_send_date: '2026-01-08',
      results_trailing_days: '90',
      treatment_customers: '183',
      holdout_customers: '186',
      distinct_customers: '369',
    });
    for (const [column, value] of Object.entries(expected)) expect(numberOrNull(row![column]), column).toBeCloseTo(value as number, 10);
    // Campaigns whose sends all lack a group have no results; the window-edges send has both.
    const campaigns = await queryCsv(lake, "select campaign from campaign_results where as_of = date '2026-03-31' order by campaign");
    expect(campaigns.map((result) => result['campaign'])).toEqual(['referral_ask', 'second_purchase', 'win_back']);
    // Each is read on what it asks for.
    const asks = await queryCsv(lake, "select campaign, asks_for from campaign_results where as_of = date '2026-03-31' order by campaign");
    expect(asks.map((result) => result['asks_for'])).toEqual(['referral', 'purchase', 'purchase']);
  });
});

describe('campaign outcomes on generated data', () => {
  it('match the reference implementation row by row, for every send and every pooled campaign', async () => {
    const directory = await temporaryDirectory();
    try {
      const generatedLake = join(directory.path, 'lake');
      const random = new Random(7);
      const campaigns = ['win_back', 'churn_risk', 'second_purchase'];
      const sendDates = ['2026-03-31', '2026-04-20', '2026-05-15', '2026-06-10', '2026-06-25'];
      const logged: LoggedMember[] = [];
      const events: RefOrderEvent[] = [];
      for (let c = 0; c < 600; c += 1) {
        const customer = `g${c}`;
        // Each customer is in about half the sends of their campaign, a fifth of the time held out.
        const campaign = campaigns[c % 3]!;
        for (const send of sendDates) {
          if (random.chance(0.5)) logged.push({ send_date: send, campaign, customer_id: customer, is_holdout: random.chance(0.2) });
        }
        const orderCount = random.integer(0, 4);
        for (let o = 0; o < orderCount; o += 1) {
          const day = addDays('2026-03-15', random.integer(0, 120));
          const order = { order_id: `${customer}-o${o}`, customer_id: customer, total: Math.round(random.next() * 20000) / 100 };
          events.push({
            event_id: `${customer}-o${o}-p`,
            ...order,
            occurred_at: `${day}T${String(random.integer(0, 23)).padStart(2, '0')}:15:00Z`,
            status: 'placed',
          });
          if (random.chance(0.1)) events.push({ event_id: `${customer}-o${o}-c`, ...order, occurred_at: `${addDays(day, 1)}T08:00:00Z`, status: 'cancelled' });
          // biome-ignore lint/suspicious/noDuplicateElseIf: a second draw of the random stream, not the same condition
          else if (random.chance(0.1)) {
            events.push({
              event_id: `${customer}-o${o}-r`,
              ...order,
              occurred_at: `${addDays(day, 3)}T08:00:00Z`,
              status: 'refunded',
              refunded_amount: Math.round(order.total * 40) / 100,
            });
          }
        }
      }
      // 400 customers new to the lake, referred by one of the 600 (some first orders cancelled,
      // some referred before the first send), 1 to 2 orders each.
      for (let n = 0; n < 400; n += 1) {
        const customer = `n${n}`;
        const referrer = `g${random.integer(0, 599)}`;
        const orderCount = random.integer(1, 2);
        for (let o = 0; o < orderCount; o += 1) {
          const day = addDays('2026-03-20', random.integer(0, 110) + 5 * o);
          const order = { order_id: `${customer}-o${o}`, customer_id: customer, total: 25, referred_by: referrer };
          events.push({ event_id: `${customer}-o${o}-p`, ...order, occurred_at: `${day}T10:00:00Z`, status: 'placed' });
          if (random.chance(0.15)) events.push({ event_id: `${customer}-o${o}-c`, ...order, occurred_at: `${day}T11:00:00Z`, status: 'cancelled' });
        }
      }
      await writeLog(generatedLake, logged);
      const file = await writeJsonLines(
        join(directory.path, 'orders.jsonl'),
        events.map((event) => ({ ...event, currency: 'EUR' })),
      );
      expect((await pipeline('ingest', 'orders', file, '--lake', generatedLake)).code).toBe(0);
      const asOf = '2026-07-05';
      expect((await pipeline('run', '--as-of', asOf, '--lake', generatedLake)).code).toBe(0);

      const config = { businessTimezone: 'UTC', period: 'month' as const, activityWindowDays: 90, npsTrailingWindowDays: 90 };
      const purchases = purchasesAsOf(events, config, asOf).map((p) => ({ customer_id: p.customer_id, date: p.date, net: p.net }));
      const referrals = customerOrders(events, config, asOf)
        .filter((order) => order.is_first_purchase && order.referred_by !== null)
        .map((order) => ({ referred_by: order.referred_by!, date: order.order_date }));
      const aftermath = { purchases, referrals };
      const compare = (actual: Record<string, string | null>, expected: Record<string, unknown>, label: string) => {
        for (const [column, value] of Object.entries(expected)) {
          if (typeof value === 'number') expect(Number(actual[column]), `${label} ${column}`).toBeCloseTo(value, 9);
          else if (value === null) expect(actual[column], `${label} ${column}`).toBeNull();
          else expect(actual[column], `${label} ${column}`).toBe(String(value));
        }
      };
      const outcomes = await queryCsv(generatedLake, `select * from campaign_outcomes where as_of = date '${asOf}'`);
      const expectedOutcomes = campaignOutcomes(logged, aftermath, 30, asOf);
      expect(outcomes).toHaveLength(expectedOutcomes.length);
      for (const expected of expectedOutcomes) {
        const actual = outcomes.find((row) => row['send_date'] === expected.send_date && row['campaign'] === expected.campaign)!;
        compare(actual, expected, `${expected.send_date} ${expected.campaign}`);
      }
      // Windows ending in (04-06, 07-05]: the sends of 03-31, 04-20 and 05-15; the later two are still open.
      const results = await queryCsv(generatedLake, `select * from campaign_results where as_of = date '${asOf}'`);
      const expectedResults = campaignResults(logged, aftermath, 30, 90, asOf);
      expect(results).toHaveLength(3);
      for (const expected of expectedResults) {
        expect(expected.sends).toBe(3);
        expect(expected.distinct_customers).toBeLessThan(expected.treatment_customers + expected.holdout_customers);
        expect(expected.treatment_referrers).toBeGreaterThan(0);
        expect(expected.treatment_referred_customers).toBeGreaterThan(expected.treatment_referrers);
        compare(results.find((row) => row['campaign'] === expected.campaign)!, expected, expected.campaign);
      }
    } finally {
      await directory.cleanup();
    }
  });
});

describe('the uplift interval on many randomised experiments', () => {
  it('covers the true uplift about 95 % of the time, and finds an effect where there is none about 5 % of the time', async () => {
    // 240 experiments (6 campaigns x 40 send dates), each with its own conversion rate without
    // the message and a true uplift of 0, 5 or 10 points; converters buy 3 days after the send.
    const directory = await temporaryDirectory();
    try {
      const experimentLake = join(directory.path, 'lake');
      const random = new Random(2026);
      const campaigns = ['win_back', 'churn_risk', 'loyalty_upgrade', 'referral_ask', 'service_recovery', 'second_purchase'];
      const truth = new Map<string, number>();
      const logged: Member[] = [];
      const events: Record<string, unknown>[] = [];
      for (let day = 0; day < 40; day += 1) {
        const send = addDays('2026-01-01', day);
        for (const campaign of campaigns) {
          const base = 0.05 + 0.45 * random.next();
          const uplift = [0, 0.05, 0.1][random.integer(0, 2)]!;
          truth.set(`${send}|${campaign}`, uplift);
          for (let i = 0; i < 160; i += 1) {
            const customer = `x-${send}-${campaign}-${i}`;
            const isHoldout = i < 40;
            logged.push({ send_date: send, campaign, customer_id: customer, is_holdout: isHoldout });
            if (random.chance(isHoldout ? base : base + uplift)) {
              events.push(orderEvent({ order_id: `o-${customer}`, customer_id: customer, occurred_at: `${addDays(send, 3)}T12:00:00Z` }));
            }
          }
        }
      }
      await writeLog(experimentLake, logged);
      const file = await writeJsonLines(join(directory.path, 'orders.jsonl'), events);
      expect((await pipeline('ingest', 'orders', file, '--lake', experimentLake)).code).toBe(0);
      expect((await pipeline('run', '--as-of', '2026-03-31', '--lake', experimentLake)).code).toBe(0);
      const rows = await queryCsv(
        experimentLake,
        "select send_date, campaign, uplift_ci_low, uplift_ci_high, p_value from campaign_outcomes where as_of = date '2026-03-31'",
      );
      expect(rows).toHaveLength(240);
      const covered = rows.filter((row) => {
        const uplift = truth.get(`${row['send_date']}|${row['campaign']}`)!;
        return Number(row['uplift_ci_low']) <= uplift && uplift <= Number(row['uplift_ci_high']);
      }).length;
      // Binomial(240, 0.95) lies in [216, 237] with probability about 0.997.
      expect(covered).toBeGreaterThanOrEqual(216);
      expect(covered).toBeLessThanOrEqual(237);
      const nulls = rows.filter((row) => truth.get(`${row['send_date']}|${row['campaign']}`) === 0);
      const falsePositives = nulls.filter((row) => Number(row['p_value']) < 0.05).length;
      expect(falsePositives / nulls.length).toBeLessThan(0.12);
    } finally {
      await directory.cleanup();
    }
  });
});
