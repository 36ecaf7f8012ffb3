/**
 * An independent reference for campaign_outcomes and campaign_results, written from the
 * definitions in docs/data-teams.md ("Holdouts and campaign results") and docs/campaign-results.md in plain TypeScript: group counts from the
 * published log, the purchases and the referred first purchases, the Wilson and Newcombe
 * intervals, the pooled z-test. Its
 * normal distribution function integrates the density numerically, so it shares no
 * approximation with the engines (Trino's normal_cdf, the DuckDB macro).
 */

/** The 97.5th percentile of the standard normal distribution. */
export const Z_975 = 1.959963984540054;

/**
 * Phi(x) from the upper tail: the integral of the density from |x| to |x| + 12 (beyond it
 * nothing a double holds remains) by Simpson's rule, with steps short enough for the density's
 * decay at |x| (relative error below 1e-12), so that small tails keep their precision.
 */
export function normalCdf(x: number): number {
  const a = Math.abs(x);
  const steps = 2 * Math.ceil(10_000 * Math.max(1, a));
  const h = 12 / steps;
  const density = (t: number) => Math.exp((-t * t) / 2) / Math.sqrt(2 * Math.PI);
  let sum = density(a) + density(a + 12);
  for (let i = 1; i < steps; i += 1) sum += (i % 2 === 1 ? 4 : 2) * density(a + i * h);
  const tail = (sum * h) / 3;
  return x > 0 ? 1 - tail : tail;
}

/** Wilson's score interval for x successes in n trials, at 95 % unless z says otherwise. */
export function wilsonInterval(x: number, n: number, z = Z_975): [number, number] {
  const p = x / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denominator = 1 + z2 / n;
  return [Math.max(0, (centre - spread) / denominator), Math.min(1, (centre + spread) / denominator)];
}

export interface Comparison {
  treatment_customers: number;
  holdout_customers: number;
  treatment_converters: number;
  holdout_converters: number;
  treatment_conversion_rate: number | null;
  holdout_conversion_rate: number | null;
  uplift: number | null;
  uplift_ci_low: number | null;
  uplift_ci_high: number | null;
  p_value: number | null;
  treatment_net_revenue: number;
  holdout_net_revenue: number;
  revenue_per_treatment_customer: number | null;
  revenue_per_holdout_customer: number | null;
  incremental_converters: number | null;
  incremental_revenue: number | null;
  treatment_referrers: number;
  holdout_referrers: number;
  treatment_referral_rate: number | null;
  holdout_referral_rate: number | null;
  referral_uplift: number | null;
  referral_uplift_ci_low: number | null;
  referral_uplift_ci_high: number | null;
  referral_p_value: number | null;
  treatment_referred_customers: number;
  holdout_referred_customers: number;
  incremental_referred_customers: number | null;
}

interface Group {
  readonly customers: number;
  readonly converters: number;
}

/** Newcombe's (1998) method 10 for the difference of two rates, at 95 % unless z says otherwise. */
export function newcombeInterval(treatment: Group, holdout: Group, z = Z_975): [number, number] {
  const p1 = treatment.converters / treatment.customers;
  const p2 = holdout.converters / holdout.customers;
  const [l1, u1] = wilsonInterval(treatment.converters, treatment.customers, z);
  const [l2, u2] = wilsonInterval(holdout.converters, holdout.customers, z);
  return [p1 - p2 - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), p1 - p2 + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)];
}

/** Two rates of successes (in `converters`) compared: the rates, their difference, its interval and p-value. */
function compareRates(treatment: Group, holdout: Group) {
  const rate = (group: Group) => (group.customers > 0 ? group.converters / group.customers : null);
  const p1 = rate(treatment);
  const p2 = rate(holdout);
  if (p1 === null || p2 === null) return { treatment: p1, holdout: p2, uplift: null, low: null, high: null, pValue: null };
  const [low, high] = newcombeInterval(treatment, holdout);
  const pooled = (treatment.converters + holdout.converters) / (treatment.customers + holdout.customers);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / treatment.customers + 1 / holdout.customers));
  return { treatment: p1, holdout: p2, uplift: p1 - p2, low, high, pValue: se === 0 ? 1 : 2 * normalCdf(-Math.abs(p1 - p2) / se) };
}

export interface GroupCounts {
  customers: number;
  converters: number;
  revenue: number;
  /** Customers of the group who referred a new customer in the window, and how many they referred. */
  referrers: number;
  referred: number;
}

/** Treatment against holdout from the two groups' counts and revenue. */
export function compareGroups(groups: { treatment: GroupCounts; holdout: GroupCounts }): Comparison {
  const { treatment, holdout } = groups;
  const perCustomer = (group: GroupCounts, amount: number) => (group.customers > 0 ? amount / group.customers : null);
  const conversion = compareRates(treatment, holdout);
  const referral = compareRates(
    { customers: treatment.customers, converters: treatment.referrers },
    { customers: holdout.customers, converters: holdout.referrers },
  );
  const r1 = perCustomer(treatment, treatment.revenue);
  const r2 = perCustomer(holdout, holdout.revenue);
  const n1 = perCustomer(treatment, treatment.referred);
  const n2 = perCustomer(holdout, holdout.referred);
  return {
    treatment_customers: treatment.customers,
    holdout_customers: holdout.customers,
    treatment_converters: treatment.converters,
    holdout_converters: holdout.converters,
    treatment_conversion_rate: conversion.treatment,
    holdout_conversion_rate: conversion.holdout,
    uplift: conversion.uplift,
    uplift_ci_low: conversion.low,
    uplift_ci_high: conversion.high,
    p_value: conversion.pValue,
    treatment_net_revenue: treatment.revenue,
    holdout_net_revenue: holdout.revenue,
    revenue_per_treatment_customer: r1,
    revenue_per_holdout_customer: r2,
    incremental_converters: conversion.uplift === null ? null : conversion.uplift * treatment.customers,
    incremental_revenue: r1 !== null && r2 !== null ? (r1 - r2) * treatment.customers : null,
    treatment_referrers: treatment.referrers,
    holdout_referrers: holdout.referrers,
    treatment_referral_rate: referral.treatment,
    holdout_referral_rate: referral.holdout,
    referral_uplift: referral.uplift,
    referral_uplift_ci_low: referral.low,
    referral_uplift_ci_high: referral.high,
    referral_p_value: referral.pValue,
    treatment_referred_customers: treatment.referred,
    holdout_referred_customers: holdout.referred,
    incremental_referred_customers: n1 !== null && n2 !== null ? (n1 - n2) * treatment.customers : null,
  };
}

export interface LoggedMember {
  send_date: string;
  campaign: string;
  customer_id: string;
  is_holdout: boolean;
}

export interface DatedPurchase {
  customer_id: string;
  date: string;
  net: number;
}

/** A new customer's first purchase that named a referrer: who referred, and its date. */
export interface DatedReferral {
  referred_by: string;
  date: string;
}

const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** What happened after the sends: purchases, and new customers' first purchases naming a referrer. */
export interface Aftermath {
  purchases: readonly DatedPurchase[];
  referrals: readonly DatedReferral[];
}

/** Counts of one send's (or one pooled set of sends') members: converters, revenue and referrers in each window. */
function groupCounts(members: readonly LoggedMember[], aftermath: Aftermath, windowDays: number, asOf: string) {
  const byCustomer = new Map<string, DatedPurchase[]>();
  for (const purchase of aftermath.purchases) byCustomer.set(purchase.customer_id, [...(byCustomer.get(purchase.customer_id) ?? []), purchase]);
  const empty = (): GroupCounts => ({ customers: 0, converters: 0, revenue: 0, referrers: 0, referred: 0 });
  const groups = { treatment: empty(), holdout: empty() };
  for (const member of members) {
    const end = addDays(member.send_date, windowDays);
    const inWindow = (date: string) => date > member.send_date && date <= end && date <= asOf;
    const bought = (byCustomer.get(member.customer_id) ?? []).filter((p) => inWindow(p.date));
    const referred = aftermath.referrals.filter((r) => r.referred_by === member.customer_id && inWindow(r.date)).length;
    const group = member.is_holdout ? groups.holdout : groups.treatment;
    group.customers += 1;
    if (bought.length > 0) group.converters += 1;
    group.revenue += bought.reduce((sum, p) => sum + p.net, 0);
    if (referred > 0) group.referrers += 1;
    group.referred += referred;
  }
  return groups;
}

/** campaign_outcomes: one comparison per (send_date, campaign) logged before as_of. */
export function campaignOutcomes(members: readonly LoggedMember[], aftermath: Aftermath, windowDays: number, asOf: string) {
  const sends = new Map<string, LoggedMember[]>();
  for (const member of members.filter((m) => m.send_date < asOf)) {
    const key = `${member.send_date}|${member.campaign}`;
    sends.set(key, [...(sends.get(key) ?? []), member]);
  }
  return [...sends].map(([key, group]) => {
    const [send_date, campaign] = key.split('|') as [string, string];
    const window_end = addDays(send_date, windowDays);
    return { send_date, campaign, window_end, window_complete: window_end <= asOf, ...compareGroups(groupCounts(group, aftermath, windowDays, asOf)) };
  });
}

/**
 * campaign_results: per campaign, pooled over the sends (before as_of) whose window ended in
 * (as_of - trailing, as_of] and that have both a treatment and a holdout group.
 */
export function campaignResults(members: readonly LoggedMember[], aftermath: Aftermath, windowDays: number, trailingDays: number, asOf: string) {
  const from = addDays(asOf, -trailingDays);
  const sendKey = (m: LoggedMember) => `${m.send_date}|${m.campaign}`;
  const inSend = (key: string, holdout: boolean) => members.some((m) => sendKey(m) === key && m.is_holdout === holdout);
  const counted = members.filter((m) => {
    const end = addDays(m.send_date, windowDays);
    return m.send_date < asOf && end <= asOf && end > from && inSend(sendKey(m), true) && inSend(sendKey(m), false);
  });
  const campaigns = [...new Set(counted.map((m) => m.campaign))];
  return campaigns.map((campaign) => {
    const group = counted.filter((m) => m.campaign === campaign);
    return {
      campaign,
      sends: new Set(group.map((m) => m.send_date)).size,
      distinct_customers: new Set(group.map((m) => m.customer_id)).size,
      ...compareGroups(groupCounts(group, aftermath, windowDays, asOf)),
    };
  });
}
