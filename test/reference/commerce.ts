/**
 * The reference for the commerce fact tables (customer_orders, order_lines) and the metrics
 * built on them, written from the definitions in docs/data-teams.md in plain TypeScript, sharing no code
 * with the pipeline.
 */
import { firstDeliveries, localDate, periodsFrom, periodStart } from './metrics.ts';
import type { purchasesAsOf } from './metrics.ts';
import type { RefLine, RefOrderEvent, ReferenceConfig } from './metrics.ts';

const DAY = 86_400_000;
const daysBetween = (from: string, to: string) => (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY;

export interface RefCustomerOrder {
  order_id: string;
  customer_id: string;
  order_date: string;
  placed_at_ms: number;
  first_event_at_ms: number;
  status: 'placed' | 'partially_refunded' | 'refunded' | 'cancelled';
  is_purchase: boolean;
  gross_amount: number;
  refunded_amount: number;
  net_amount: number;
  customer_order_number: number | null;
  is_first_purchase: boolean;
  days_since_previous_purchase: number | null;
  channel: string | null;
  acquisition_channel: string | null;
  referred_by: string | null;
  original_currency: string;
  original_gross_amount: number;
  fx_rate: number;
  items: readonly RefLine[];
}

/** Rates to a reporting currency, in the order they were received (a later one for a day wins). */
export interface RefFx {
  reportingCurrency: string;
  rates: readonly { date: string; currency: string; rate: number }[];
}

/** The rate of the order date, or the latest one up to 7 days before it; undefined without one. */
function rateFor(fx: RefFx | undefined, currency: string, orderDate: string, asOf: string): number | undefined {
  if (fx === undefined || currency === fx.reportingCurrency) return 1;
  const byDate = new Map<string, number>();
  for (const rate of fx.rates) if (rate.currency === currency && rate.date <= asOf) byDate.set(rate.date, rate.rate);
  for (let back = 0; back <= 7; back += 1) {
    const date = new Date(Date.parse(`${orderDate}T00:00:00Z`) - back * DAY).toISOString().slice(0, 10);
    if (byDate.has(date)) return byDate.get(date);
  }
  return undefined;
}

/** Every order with a placed event up to asOf, in its state at asOf, its money converted by `fx`. */
export function customerOrders(events: readonly RefOrderEvent[], config: ReferenceConfig, asOf: string, fx?: RefFx): RefCustomerOrder[] {
  const known = firstDeliveries(events)
    .map((event) => ({
      ...event,
      status: event.status ?? 'placed',
      ms: Date.parse(event.occurred_at),
      date: localDate(event.occurred_at, config.businessTimezone),
    }))
    .filter((event) => event.date <= asOf);
  const byOrder = new Map<string, typeof known>();
  for (const event of known) byOrder.set(event.order_id, [...(byOrder.get(event.order_id) ?? []), event]);

  const orders: RefCustomerOrder[] = [];
  for (const [orderId, orderEvents] of byOrder) {
    const placed = orderEvents.filter((event) => event.status === 'placed').sort((a, b) => a.ms - b.ms || (a.event_id < b.event_id ? -1 : 1))[0];
    if (!placed) continue;
    const cancelled = orderEvents.some((event) => event.status === 'cancelled');
    const refunds = orderEvents.filter((event) => event.status === 'refunded');
    const wholeOrder = refunds.some((event) => event.refunded_amount === undefined || event.refunded_amount === null);
    const refunded = wholeOrder
      ? placed.total
      : Math.min(
          placed.total,
          refunds.reduce((sum, event) => sum + (event.refunded_amount ?? 0), 0),
        );
    const fullyRefunded = refunds.length > 0 && refunded >= placed.total - 1e-6;
    const isPurchase = !cancelled && !fullyRefunded;
    const rate = rateFor(fx, placed.currency ?? 'EUR', placed.date, asOf);
    if (rate === undefined) throw new Error(`reference: no ${placed.currency} rate for ${placed.date}`);
    orders.push({
      order_id: orderId,
      customer_id: placed.customer_id,
      order_date: placed.date,
      placed_at_ms: placed.ms,
      first_event_at_ms: Math.min(...orderEvents.map((event) => event.ms)),
      status: cancelled ? 'cancelled' : fullyRefunded ? 'refunded' : refunded > 0 ? 'partially_refunded' : 'placed',
      is_purchase: isPurchase,
      gross_amount: placed.total * rate,
      refunded_amount: refunded * rate,
      net_amount: isPurchase ? (placed.total - refunded) * rate : 0,
      customer_order_number: null,
      is_first_purchase: false,
      days_since_previous_purchase: null,
      channel: placed.channel === undefined || placed.channel === null ? null : String(placed.channel),
      acquisition_channel: null,
      referred_by: placed.referred_by ?? null,
      original_currency: placed.currency ?? 'EUR',
      original_gross_amount: placed.total,
      fx_rate: rate,
      items: (placed.items ?? []).map((item) => ({ ...item, unit_price: item.unit_price * rate, discount_amount: (item.discount_amount ?? 0) * rate })),
    });
  }

  // Number each customer's purchases and find their first purchase's channel.
  const purchasesOf = new Map<string, RefCustomerOrder[]>();
  for (const order of orders.filter((candidate) => candidate.is_purchase)) {
    purchasesOf.set(order.customer_id, [...(purchasesOf.get(order.customer_id) ?? []), order]);
  }
  for (const purchases of purchasesOf.values()) {
    purchases.sort((a, b) => a.placed_at_ms - b.placed_at_ms || (a.order_id < b.order_id ? -1 : 1));
    purchases.forEach((purchase, index) => {
      purchase.customer_order_number = index + 1;
      purchase.is_first_purchase = index === 0;
      purchase.days_since_previous_purchase = index === 0 ? null : daysBetween(purchases[index - 1]!.order_date, purchase.order_date);
    });
  }
  for (const order of orders) order.acquisition_channel = purchasesOf.get(order.customer_id)?.[0]?.channel ?? null;
  return orders;
}

export interface RefOrderLine {
  order_id: string;
  line_number: number;
  customer_id: string;
  order_date: string;
  customer_order_number: number;
  sku: string;
  category: string | null;
  product_name: string | null;
  quantity: number;
  unit_price: number;
  discount_amount: number;
  line_amount: number;
  is_new_category_for_customer: boolean | null;
}

/** The lines of the purchases among `orders`. */
export function orderLines(orders: readonly RefCustomerOrder[]): RefOrderLine[] {
  const lines: RefOrderLine[] = [];
  for (const order of orders) {
    if (!order.is_purchase) continue;
    order.items.forEach((item, index) => {
      const category = item.category === undefined || item.category === null || item.category.trim() === '' ? null : item.category.trim();
      const discount = item.discount_amount ?? 0;
      lines.push({
        order_id: order.order_id,
        line_number: index + 1,
        customer_id: order.customer_id,
        order_date: order.order_date,
        customer_order_number: order.customer_order_number!,
        sku: item.sku,
        category,
        product_name: item.name ?? null,
        quantity: item.quantity,
        unit_price: item.unit_price,
        discount_amount: discount,
        line_amount: item.quantity * item.unit_price - discount,
        is_new_category_for_customer: null,
      });
    });
  }
  // The customer's first purchase with a line in each category.
  const firstInCategory = new Map<string, number>();
  for (const line of lines) {
    if (line.category === null) continue;
    const key = JSON.stringify([line.customer_id, line.category]);
    firstInCategory.set(key, Math.min(firstInCategory.get(key) ?? Infinity, line.customer_order_number));
  }
  for (const line of lines) {
    if (line.category !== null)
      line.is_new_category_for_customer = firstInCategory.get(JSON.stringify([line.customer_id, line.category])) === line.customer_order_number;
  }
  return lines;
}

type Purchase = ReturnType<typeof purchasesAsOf>[number];

const sumNet = (purchases: readonly Purchase[]) => purchases.reduce((sum, purchase) => sum + purchase.net, 0);

/** Per cohort and offset: the cohort's net revenue in the period and cumulated per customer. */
export function cohortRevenue(purchases: readonly Purchase[], config: ReferenceConfig, asOf: string) {
  const cohortOf = new Map<string, string>();
  for (const purchase of purchases) {
    const start = periodStart(purchase.date, config.period);
    if (!cohortOf.has(purchase.customer_id) || start < cohortOf.get(purchase.customer_id)!) cohortOf.set(purchase.customer_id, start);
  }
  const rows = [];
  for (const cohort of [...new Set(cohortOf.values())].sort()) {
    const members = new Set([...cohortOf].filter(([, start]) => start === cohort).map(([customer]) => customer));
    let cumulative = 0;
    for (const period of periodsFrom(cohort, asOf, config.period)) {
      const inPeriod = purchases.filter((purchase) => members.has(purchase.customer_id) && purchase.date >= period.start && purchase.date <= period.end);
      const revenue = sumNet(inPeriod);
      cumulative += revenue;
      rows.push({
        cohort_start: cohort,
        period_offset: period.index,
        period_start: period.start,
        is_complete: String(period.end <= asOf),
        cohort_size: members.size,
        purchasing_customers: new Set(inPeriod.map((purchase) => purchase.customer_id)).size,
        orders: inPeriod.length,
        net_revenue: revenue,
        cumulative_net_revenue: cumulative,
        cumulative_revenue_per_customer: cumulative / members.size,
      });
    }
  }
  return rows;
}

/** Per period after the first with a purchase: the previous period's buyers' revenue, then and now. */
export function revenueRetention(purchases: readonly Purchase[], config: ReferenceConfig, asOf: string) {
  if (purchases.length === 0) return [];
  const first = periodStart(purchases.map((purchase) => purchase.date).sort()[0]!, config.period);
  const revenueIn = (period: { start: string; end: string }) => {
    const byCustomer = new Map<string, number>();
    for (const purchase of purchases) {
      if (purchase.date >= period.start && purchase.date <= period.end)
        byCustomer.set(purchase.customer_id, (byCustomer.get(purchase.customer_id) ?? 0) + purchase.net);
    }
    return byCustomer;
  };
  const periods = periodsFrom(first, asOf, config.period);
  return periods.slice(1).map((period, index) => {
    const previous = periods[index]!;
    const before = revenueIn(previous);
    const now = revenueIn(period);
    let starting = 0;
    let base = 0;
    let expansion = 0;
    let contraction = 0;
    let churned = 0;
    let returning = 0;
    for (const [customer, r0] of before) {
      const r1 = now.get(customer);
      starting += r0;
      if (r1 === undefined) {
        churned += r0;
        continue;
      }
      returning += 1;
      base += r1;
      if (r1 > r0) expansion += r1 - r0;
      else contraction += r0 - r1;
    }
    return {
      period_start: period.start,
      is_complete: String(period.end <= asOf),
      previous_period_start: previous.start,
      base_customers: before.size,
      returning_customers: returning,
      starting_revenue: starting,
      base_revenue: base,
      expansion_revenue: expansion,
      contraction_revenue: contraction,
      churned_revenue: churned,
      net_revenue_retention: starting === 0 ? null : base / starting,
      gross_revenue_retention: starting === 0 ? null : (starting - contraction - churned) / starting,
    };
  });
}

/** Per period and category (lines with a category): buyers, orders, units, revenue, repeat and cross-sell. */
export function categoryMetrics(lines: readonly RefOrderLine[], config: ReferenceConfig) {
  const categorised = lines.filter((line) => line.category !== null);
  // Each customer's first purchase (number and date) in each category, and with any category.
  const adoption = new Map<string, { number: number; date: string }>();
  const firstCategorised = new Map<string, number>();
  for (const line of categorised) {
    const key = JSON.stringify([line.customer_id, line.category]);
    const current = adoption.get(key);
    if (!current || line.customer_order_number < current.number) adoption.set(key, { number: line.customer_order_number, date: line.order_date });
    firstCategorised.set(line.customer_id, Math.min(firstCategorised.get(line.customer_id) ?? Infinity, line.customer_order_number));
  }
  const groups = new Map<string, RefOrderLine[]>();
  for (const line of categorised) {
    const key = JSON.stringify([periodStart(line.order_date, config.period), line.category]);
    groups.set(key, [...(groups.get(key) ?? []), line]);
  }
  return [...groups].map(([key, group]) => {
    const [period, category] = JSON.parse(key) as [string, string];
    const customers = [...new Set(group.map((line) => line.customer_id))];
    const adoptionOf = (customer: string) => adoption.get(JSON.stringify([customer, category]))!;
    const repeat = customers.filter((customer) => adoptionOf(customer).date < period).length;
    const newcomers = customers.filter((customer) => periodStart(adoptionOf(customer).date, config.period) === period);
    const crossSell = newcomers.filter((customer) => adoptionOf(customer).number > firstCategorised.get(customer)!).length;
    return {
      period_start: period,
      category,
      customers: customers.length,
      orders: new Set(group.map((line) => line.order_id)).size,
      units: group.reduce((sum, line) => sum + line.quantity, 0),
      line_revenue: group.reduce((sum, line) => sum + line.line_amount, 0),
      repeat_customers: repeat,
      repeat_rate: repeat / customers.length,
      new_to_category_customers: newcomers.length,
      cross_sell_customers: crossSell,
      cross_sell_rate: newcomers.length === 0 ? null : crossSell / newcomers.length,
    };
  });
}

/** Per acquisition channel: customers, repeat rate, revenue per customer N days on, mean predicted CLV. */
export function channelMetrics(orders: readonly RefCustomerOrder[], predictedClv: ReadonlyMap<string, number | null>, asOf: string) {
  const purchasesOf = new Map<string, RefCustomerOrder[]>();
  for (const order of orders.filter((candidate) => candidate.is_purchase))
    purchasesOf.set(order.customer_id, [...(purchasesOf.get(order.customer_id) ?? []), order]);
  const byChannel = new Map<string, RefCustomerOrder[][]>();
  for (const purchases of purchasesOf.values()) {
    const channel = purchases[0]!.acquisition_channel ?? '(none)';
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), purchases]);
  }
  const revenueAfter = (customers: RefCustomerOrder[][], days: number) => {
    const observed = customers.filter((purchases) => daysBetween(firstDate(purchases), asOf) >= days - 1);
    const revenue = observed.map((purchases) =>
      purchases.filter((purchase) => daysBetween(firstDate(purchases), purchase.order_date) < days).reduce((sum, purchase) => sum + purchase.net_amount, 0),
    );
    return { observed: observed.length, perCustomer: observed.length === 0 ? null : revenue.reduce((sum, value) => sum + value, 0) / observed.length };
  };
  return [...byChannel].map(([channel, customers]) => {
    const repeat = customers.filter((purchases) => purchases.length >= 2).length;
    const [d90, d180, d365] = [90, 180, 365].map((days) => revenueAfter(customers, days)) as [
      ReturnType<typeof revenueAfter>,
      ReturnType<typeof revenueAfter>,
      ReturnType<typeof revenueAfter>,
    ];
    const predictions = customers.map((purchases) => predictedClv.get(purchases[0]!.customer_id) ?? null).filter((value): value is number => value !== null);
    return {
      acquisition_channel: channel,
      customers_acquired: customers.length,
      repeat_customers: repeat,
      repeat_purchase_rate: repeat / customers.length,
      net_revenue_per_customer: customers.flat().reduce((sum, purchase) => sum + purchase.net_amount, 0) / customers.length,
      customers_observed_90d: d90.observed,
      net_revenue_per_customer_90d: d90.perCustomer,
      customers_observed_180d: d180.observed,
      net_revenue_per_customer_180d: d180.perCustomer,
      customers_observed_365d: d365.observed,
      net_revenue_per_customer_365d: d365.perCustomer,
      mean_predicted_clv: predictions.length === 0 ? null : predictions.reduce((sum, value) => sum + value, 0) / predictions.length,
    };
  });
}

const firstDate = (purchases: readonly RefCustomerOrder[]) => purchases.map((purchase) => purchase.order_date).sort()[0]!;

/** Per period from the first purchase: customers acquired, referred ones, referrers, and referred against the others. */
export function referralMetrics(orders: readonly RefCustomerOrder[], predictedClv: ReadonlyMap<string, number | null>, config: ReferenceConfig, asOf: string) {
  const purchases = orders.filter((order) => order.is_purchase);
  if (purchases.length === 0) return [];
  const count = new Map<string, number>();
  for (const purchase of purchases) count.set(purchase.customer_id, (count.get(purchase.customer_id) ?? 0) + 1);
  const firsts = purchases.filter((purchase) => purchase.customer_order_number === 1);
  const first = periodStart(purchases.map((purchase) => purchase.order_date).sort()[0]!, config.period);
  const mean = (values: readonly (number | null | undefined)[]) => {
    const known = values.filter((value): value is number => value !== null && value !== undefined);
    return known.length === 0 ? null : known.reduce((sum, value) => sum + value, 0) / known.length;
  };
  const share = (group: readonly RefCustomerOrder[]) =>
    group.length === 0 ? null : group.filter((order) => count.get(order.customer_id)! >= 2).length / group.length;
  return periodsFrom(first, asOf, config.period).map((period) => {
    const acquired = firsts.filter((order) => periodStart(order.order_date, config.period) === period.start);
    const referred = acquired.filter((order) => order.referred_by !== null);
    const others = acquired.filter((order) => order.referred_by === null);
    return {
      period_start: period.start,
      new_customers: acquired.length,
      referred_new_customers: referred.length,
      referral_rate: acquired.length === 0 ? null : referred.length / acquired.length,
      active_referrers: new Set(referred.map((order) => order.referred_by)).size,
      referred_repeat_purchase_rate: share(referred),
      other_repeat_purchase_rate: share(others),
      referred_mean_predicted_clv: mean(referred.map((order) => predictedClv.get(order.customer_id))),
      other_mean_predicted_clv: mean(others.map((order) => predictedClv.get(order.customer_id))),
    };
  });
}

export interface RefSpendEvent {
  event_id: string;
  spend_date: string;
  channel: string;
  amount: number;
  replaces?: string | null;
}

/** The spend that counts at asOf: first deliveries, less the events restated by one dated up to asOf. */
export function countedSpend(events: readonly RefSpendEvent[], asOf: string): RefSpendEvent[] {
  const firsts = firstDeliveries(events);
  const restated = new Set(firsts.flatMap((event) => (event.replaces && event.spend_date <= asOf ? [event.replaces] : [])));
  return firsts.filter((event) => !restated.has(event.event_id) && event.spend_date <= asOf);
}

/** Per period and acquisition channel (and 'all'): spend, CAC, revenue, CLV over CAC, payback. */
export function acquisitionMetrics(
  orders: readonly RefCustomerOrder[],
  spend: readonly RefSpendEvent[],
  predictedClv: ReadonlyMap<string, number | null>,
  classic: { frequency: number | null; lifespan: number | null },
  config: ReferenceConfig,
  asOf: string,
  grossMarginRate = 1,
) {
  const purchases = orders.filter((order) => order.is_purchase);
  if (purchases.length === 0) return [];
  const firstPeriod = periodStart(purchases.map((purchase) => purchase.order_date).sort()[0]!, config.period);
  const purchasesOf = new Map<string, RefCustomerOrder[]>();
  for (const purchase of purchases) purchasesOf.set(purchase.customer_id, [...(purchasesOf.get(purchase.customer_id) ?? []), purchase]);
  const acquired = purchases
    .filter((purchase) => purchase.customer_order_number === 1)
    .map((first) => ({ first, period: periodStart(first.order_date, config.period), channel: first.acquisition_channel ?? '(none)' }));
  const keys = new Set<string>();
  for (const period of periodsFrom(firstPeriod, asOf, config.period)) keys.add(JSON.stringify([period.start, 'all']));
  for (const customer of acquired) keys.add(JSON.stringify([customer.period, customer.channel]));
  for (const event of spend) keys.add(JSON.stringify([periodStart(event.spend_date, config.period), event.channel]));
  const rows = [];
  for (const key of keys) {
    const [period, channel] = JSON.parse(key) as [string, string];
    if (period < firstPeriod) continue;
    const inGroup = (eventChannel: string) => channel === 'all' || eventChannel === channel;
    const spent = spend.filter((event) => periodStart(event.spend_date, config.period) === period && inGroup(event.channel));
    const amount = spent.length === 0 ? null : spent.reduce((sum, event) => sum + event.amount, 0);
    const customers = acquired.filter((customer) => customer.period === period && inGroup(customer.channel));
    const theirPurchases = customers.flatMap((customer) => purchasesOf.get(customer.first.customer_id)!);
    const revenue = theirPurchases.reduce((sum, purchase) => sum + purchase.net_amount, 0);
    const cac = amount === null || customers.length === 0 ? null : amount / customers.length;
    const clvs = customers
      .map((customer) => predictedClv.get(customer.first.customer_id))
      .filter((value): value is number => value !== null && value !== undefined);
    const meanPredicted = clvs.length === 0 ? null : clvs.reduce((sum, value) => sum + value, 0) / clvs.length;
    const meanClassic =
      customers.length === 0 || classic.frequency === null || classic.lifespan === null
        ? null
        : (revenue / theirPurchases.length) * classic.frequency * classic.lifespan;
    let payback: number | null = null;
    if (amount === 0) payback = 0;
    else if (amount !== null) {
      let cumulative = 0;
      for (const purchase of [...theirPurchases].sort((a, b) => (a.order_date < b.order_date ? -1 : a.order_date > b.order_date ? 1 : 0))) {
        cumulative += purchase.net_amount;
        if (cumulative * grossMarginRate >= amount - 1e-9) {
          payback = daysBetween(period, purchase.order_date);
          break;
        }
      }
    }
    rows.push({
      period_start: period,
      acquisition_channel: channel,
      spend: amount,
      new_customers: customers.length,
      cac,
      first_purchase_revenue: customers.reduce((sum, customer) => sum + customer.first.net_amount, 0),
      net_revenue_per_customer: customers.length === 0 ? null : revenue / customers.length,
      mean_classic_clv: meanClassic,
      mean_predicted_clv: meanPredicted,
      ltv_cac_classic: meanClassic === null || cac === null || cac === 0 ? null : meanClassic / cac,
      ltv_cac_predicted: meanPredicted === null || cac === null || cac === 0 ? null : meanPredicted / cac,
      payback_days: payback,
    });
  }
  return rows;
}
