/**
 * An independent reference implementation of every metric table, written directly from the
 * definitions in docs/data-teams.md ("The tables", "Definitions") in plain TypeScript: no SQL and
 * no code shared with the pipeline. Integration tests compare the pipeline's tables with it.
 */

export interface ReferenceConfig {
  businessTimezone: string;
  period: 'week' | 'month' | 'quarter';
  activityWindowDays: number;
  npsTrailingWindowDays: number;
  rfm?: { frequencyThresholds: readonly number[] };
  grossMarginRate?: number;
}

export interface RefOrderEvent {
  event_id: string;
  order_id: string;
  customer_id: string;
  occurred_at: string;
  status?: string;
  total: number;
  refunded_amount?: number | null;
  currency?: string;
  channel?: string | number | null;
  items?: readonly RefLine[] | null;
  referred_by?: string | null;
}

export interface RefLine {
  sku: string;
  category?: string | null;
  name?: string | null;
  quantity: number;
  unit_price: number;
  discount_amount?: number | null;
}

export interface RefSurveyEvent {
  event_id: string;
  customer_id: string;
  occurred_at: string;
  score: number;
}

const DAY = 86_400_000;

/** Calendar date of an instant in a zone, YYYY-MM-DD. */
export function localDate(iso: string, timeZone: string): string {
  const instant = new Date(iso);
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

const toDay = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY;
const fromDay = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);
export const addDays = (date: string, days: number) => fromDay(toDay(date) + days);
const daysBetween = (from: string, to: string) => toDay(to) - toDay(from);

export function periodStart(date: string, period: ReferenceConfig['period']): string {
  const [year, month] = date.split('-').map(Number) as [number, number];
  if (period === 'month') return `${year}-${String(month).padStart(2, '0')}-01`;
  if (period === 'quarter') return `${year}-${String(Math.floor((month - 1) / 3) * 3 + 1).padStart(2, '0')}-01`;
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(date, -((weekday + 6) % 7));
}

export function nextPeriodStart(start: string, period: ReferenceConfig['period']): string {
  if (period === 'week') return addDays(start, 7);
  const [year, month] = start.split('-').map(Number) as [number, number];
  const months = period === 'month' ? 1 : 3;
  const next = new Date(Date.UTC(year, month - 1 + months, 1));
  return next.toISOString().slice(0, 10);
}

interface Purchase {
  order_id: string;
  customer_id: string;
  placed_at_ms: number;
  date: string;
  net: number;
}

interface Response {
  event_id: string;
  customer_id: string;
  at_ms: number;
  date: string;
  score: number;
}

export function firstDeliveries<T extends { event_id: string }>(events: readonly T[]): T[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    if (seen.has(event.event_id)) return false;
    seen.add(event.event_id);
    return true;
  });
}

export function purchasesAsOf(orders: readonly RefOrderEvent[], config: ReferenceConfig, asOf: string): Purchase[] {
  const events = firstDeliveries(orders)
    .map((event) => ({
      ...event,
      status: event.status ?? 'placed',
      date: localDate(event.occurred_at, config.businessTimezone),
      ms: Date.parse(event.occurred_at),
    }))
    .filter((event) => event.date <= asOf);
  const byOrder = new Map<string, typeof events>();
  for (const event of events) byOrder.set(event.order_id, [...(byOrder.get(event.order_id) ?? []), event]);
  const purchases: Purchase[] = [];
  for (const [orderId, orderEvents] of byOrder) {
    const placed = orderEvents.filter((event) => event.status === 'placed').sort((a, b) => a.ms - b.ms || (a.event_id < b.event_id ? -1 : 1))[0];
    if (!placed) continue;
    if (orderEvents.some((event) => event.status === 'cancelled')) continue;
    const refunds = orderEvents.filter((event) => event.status === 'refunded');
    const fullRefund = refunds.some((event) => event.refunded_amount === undefined || event.refunded_amount === null);
    const refunded = fullRefund
      ? placed.total
      : Math.min(
          placed.total,
          refunds.reduce((sum, event) => sum + (event.refunded_amount ?? 0), 0),
        );
    if (refunds.length > 0 && refunded >= placed.total - 1e-6) continue;
    purchases.push({ order_id: orderId, customer_id: placed.customer_id, placed_at_ms: placed.ms, date: placed.date, net: placed.total - refunded });
  }
  return purchases;
}

export function responsesAsOf(surveys: readonly RefSurveyEvent[], config: ReferenceConfig, asOf: string): Response[] {
  return firstDeliveries(surveys)
    .map((event) => ({
      event_id: event.event_id,
      customer_id: event.customer_id,
      at_ms: Date.parse(event.occurred_at),
      date: localDate(event.occurred_at, config.businessTimezone),
      score: event.score,
    }))
    .filter((response) => response.date <= asOf);
}

const latestFirst = (a: Response, b: Response) => b.at_ms - a.at_ms || (a.event_id < b.event_id ? 1 : -1);

export function customerSummary(purchases: readonly Purchase[], responses: readonly Response[], asOf: string) {
  const byCustomer = new Map<string, Purchase[]>();
  for (const purchase of purchases) byCustomer.set(purchase.customer_id, [...(byCustomer.get(purchase.customer_id) ?? []), purchase]);
  const rows = [];
  for (const [customerId, list] of byCustomer) {
    const dayTotals = new Map<string, number>();
    for (const purchase of list) dayTotals.set(purchase.date, (dayTotals.get(purchase.date) ?? 0) + purchase.net);
    const days = [...dayTotals.keys()].sort();
    const repeatDays = days.slice(1);
    const net = list.reduce((sum, purchase) => sum + purchase.net, 0);
    const latest = responses.filter((response) => response.customer_id === customerId).sort(latestFirst)[0];
    rows.push({
      customer_id: customerId,
      first_purchase_at: Math.min(...list.map((purchase) => purchase.placed_at_ms)),
      last_purchase_at: Math.max(...list.map((purchase) => purchase.placed_at_ms)),
      purchases: list.length,
      purchase_days: days.length,
      net_revenue: net,
      aov: net / list.length,
      frequency: days.length - 1,
      recency_days: daysBetween(days[0]!, days[days.length - 1]!),
      tenure_days: daysBetween(days[0]!, asOf),
      days_since_last_purchase: daysBetween(days[days.length - 1]!, asOf),
      avg_repeat_day_net_revenue: repeatDays.length === 0 ? null : repeatDays.reduce((sum, day) => sum + dayTotals.get(day)!, 0) / repeatDays.length,
      last_nps_score: latest ? latest.score : null,
    });
  }
  return rows;
}

/** Periods from `first` (a period start) to the period holding asOf. */
export function periodsFrom(first: string, asOf: string, period: ReferenceConfig['period']): { start: string; end: string; index: number }[] {
  const last = periodStart(asOf, period);
  const periods = [];
  for (let start = first, index = 0; start <= last; start = nextPeriodStart(start, period), index += 1) {
    periods.push({ start, end: addDays(nextPeriodStart(start, period), -1), index });
  }
  return periods;
}

export function cohortRetention(purchases: readonly Purchase[], config: ReferenceConfig, asOf: string) {
  const cohortOf = new Map<string, string>();
  const activeIn = new Map<string, Set<string>>();
  for (const purchase of purchases) {
    const start = periodStart(purchase.date, config.period);
    const current = cohortOf.get(purchase.customer_id);
    if (current === undefined || start < current) cohortOf.set(purchase.customer_id, start);
    const set = activeIn.get(start) ?? new Set<string>();
    set.add(purchase.customer_id);
    activeIn.set(start, set);
  }
  const cohorts = [...new Set(cohortOf.values())].sort();
  const rows = [];
  for (const cohort of cohorts) {
    const members = [...cohortOf].filter(([, start]) => start === cohort).map(([customer]) => customer);
    for (const period of periodsFrom(cohort, asOf, config.period)) {
      const active = members.filter((customer) => activeIn.get(period.start)?.has(customer)).length;
      rows.push({
        cohort_start: cohort,
        period_offset: period.index,
        cohort_size: members.length,
        active_customers: active,
        retention_rate: active / members.length,
      });
    }
  }
  return rows;
}

/** Customers with a purchase dated in [day - window + 1, day]. */
function baseAsOf(purchases: readonly Purchase[], day: string, window: number): Set<string> {
  const from = addDays(day, -window + 1);
  return new Set(purchases.filter((purchase) => purchase.date >= from && purchase.date <= day).map((purchase) => purchase.customer_id));
}

const ratio = (numerator: number, denominator: number) => (denominator === 0 ? null : numerator / denominator);

export function periodMetrics(purchases: readonly Purchase[], config: ReferenceConfig, asOf: string) {
  if (purchases.length === 0) return [];
  const firstDate = purchases.map((purchase) => purchase.date).sort()[0]!;
  const firstPurchaseOf = new Map<string, string>();
  for (const purchase of purchases) {
    const current = firstPurchaseOf.get(purchase.customer_id);
    if (current === undefined || purchase.date < current) firstPurchaseOf.set(purchase.customer_id, purchase.date);
  }
  return periodsFrom(periodStart(firstDate, config.period), asOf, config.period).map((period) => {
    const start = baseAsOf(purchases, addDays(period.start, -1), config.activityWindowDays);
    const end = baseAsOf(purchases, period.end < asOf ? period.end : asOf, config.activityWindowDays);
    const isNew = new Set([...firstPurchaseOf].filter(([, date]) => date >= period.start && date <= period.end).map(([customer]) => customer));
    const retained = [...start].filter((customer) => end.has(customer)).length;
    const churned = start.size - retained;
    const reactivated = [...end].filter((customer) => !start.has(customer) && !isNew.has(customer)).length;
    const inPeriod = purchases.filter((purchase) => purchase.date >= period.start && purchase.date <= period.end);
    const revenue = inPeriod.reduce((sum, purchase) => sum + purchase.net, 0);
    const buyers = new Set(inPeriod.map((purchase) => purchase.customer_id));
    const returning = [...buyers].filter((customer) => firstPurchaseOf.get(customer)! < period.start).length;
    const newRevenue = inPeriod.filter((purchase) => isNew.has(purchase.customer_id)).reduce((sum, purchase) => sum + purchase.net, 0);
    return {
      period_start: period.start,
      customers_start: start.size,
      customers_end: end.size,
      new_customers: isNew.size,
      retained_customers: retained,
      churned_customers: churned,
      reactivated_customers: reactivated,
      retention_rate: ratio(retained, start.size),
      churn_rate: ratio(churned, start.size),
      retention_rate_classic: ratio(end.size - isNew.size, start.size),
      churn_rate_classic: ratio(start.size - end.size, start.size),
      orders: inPeriod.length,
      net_revenue: revenue,
      aov: ratio(revenue, inPeriod.length),
      purchasing_customers: buyers.size,
      repeat_purchase_rate: ratio(returning, buyers.size),
      new_customer_revenue: newRevenue,
      returning_customer_revenue: revenue - newRevenue,
    };
  });
}

export function clvSummary(purchases: readonly Purchase[], config: ReferenceConfig, asOf: string) {
  const customers = new Set(purchases.map((purchase) => purchase.customer_id)).size;
  const revenue = purchases.reduce((sum, purchase) => sum + purchase.net, 0);
  const firstDate = purchases.map((purchase) => purchase.date).sort()[0];
  const aov = ratio(revenue, purchases.length);
  const years = firstDate === undefined ? null : (daysBetween(firstDate, asOf) + 1) / 365.25;
  const frequency = years === null || customers === 0 ? null : purchases.length / customers / years;
  const yearAgo = baseAsOf(purchases, addDays(asOf, -365), config.activityWindowDays);
  const now = baseAsOf(purchases, asOf, config.activityWindowDays);
  const churn = ratio([...yearAgo].filter((customer) => !now.has(customer)).length, yearAgo.size);
  const lifespan = churn === null || churn === 0 ? null : 1 / churn;
  return {
    aov,
    purchase_frequency_per_year: frequency,
    annual_churn_rate: churn,
    expected_lifespan_years: lifespan,
    clv_simple: aov === null || frequency === null || lifespan === null ? null : aov * frequency * lifespan,
  };
}

function npsCounts(latest: readonly Response[]) {
  const promoters = latest.filter((response) => response.score >= 9).length;
  const detractors = latest.filter((response) => response.score <= 6).length;
  return {
    responses: latest.length,
    promoters,
    passives: latest.length - promoters - detractors,
    detractors,
    nps: latest.length === 0 ? null : (100 * (promoters - detractors)) / latest.length,
  };
}

function latestPerCustomer(responses: readonly Response[]): Response[] {
  const latest = new Map<string, Response>();
  for (const response of [...responses].sort(latestFirst)) if (!latest.has(response.customer_id)) latest.set(response.customer_id, response);
  return [...latest.values()];
}

export function nps(responses: readonly Response[], config: ReferenceConfig, asOf: string) {
  if (responses.length === 0) return [];
  const firstDate = responses.map((response) => response.date).sort()[0]!;
  return periodsFrom(periodStart(firstDate, config.period), asOf, config.period).map((period) => {
    const inPeriod = responses.filter((response) => response.date >= period.start && response.date <= period.end);
    const windowEnd = period.end < asOf ? period.end : asOf;
    const windowStart = addDays(windowEnd, -config.npsTrailingWindowDays + 1);
    const inWindow = responses.filter((response) => response.date >= windowStart && response.date <= windowEnd);
    const current = npsCounts(latestPerCustomer(inPeriod));
    const trailing = npsCounts(latestPerCustomer(inWindow));
    return {
      period_start: period.start,
      ...current,
      trailing_responses: trailing.responses,
      trailing_promoters: trailing.promoters,
      trailing_passives: trailing.passives,
      trailing_detractors: trailing.detractors,
      trailing_nps: trailing.nps,
    };
  });
}

/** Quintile score from the share of customers ranked strictly below (ties share a score). */
function quintileScores(values: readonly number[], higherIsBetter: boolean): number[] {
  const n = values.length;
  return values.map((value) => {
    const below = values.filter((other) => (higherIsBetter ? other < value : other > value)).length;
    const percentRank = n === 1 ? 0 : below / (n - 1);
    return Math.min(5, 1 + Math.floor(5 * percentRank));
  });
}

/** Frequency score: 1 below the first threshold, then one more per threshold reached. */
const frequencyScore = (purchases: number, thresholds: readonly number[]) => 1 + thresholds.filter((threshold) => purchases >= threshold).length;

export function rfmScores(summary: ReturnType<typeof customerSummary>, frequencyThresholds: readonly number[] = [2, 3, 4, 6]) {
  const r = quintileScores(
    summary.map((row) => row.days_since_last_purchase),
    false,
  );
  const f = summary.map((row) => frequencyScore(row.purchases, frequencyThresholds));
  const m = quintileScores(
    summary.map((row) => Math.round(row.net_revenue * 100)),
    true,
  );
  return summary.map((row, index) => ({
    customer_id: row.customer_id,
    r_score: r[index]!,
    f_score: f[index]!,
    m_score: m[index]!,
    segment: SEGMENT_GRID[r[index]! - 1]![f[index]! - 1]!,
  }));
}

/** Segment by R score (rows, 1-5) and F score (columns, 1-5), as the rfm_segments definition (docs/data-teams.md) states it. */
const SEGMENT_GRID: readonly (readonly string[])[] = [
  ['hibernating', 'hibernating', 'at_risk', 'at_risk', 'cannot_lose_them'],
  ['hibernating', 'hibernating', 'at_risk', 'at_risk', 'cannot_lose_them'],
  ['about_to_sleep', 'about_to_sleep', 'need_attention', 'loyal_customers', 'loyal_customers'],
  ['promising', 'potential_loyalists', 'potential_loyalists', 'loyal_customers', 'loyal_customers'],
  ['new_customers', 'potential_loyalists', 'potential_loyalists', 'champions', 'champions'],
];
