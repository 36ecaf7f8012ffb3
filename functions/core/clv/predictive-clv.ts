import type { CompressedHistories } from './bg-nbd.ts';
import { finalizedHash } from '../hash-mix.ts';
import { fitGammaGamma } from './gamma-gamma.ts';
import type { GammaGammaFit } from './gamma-gamma.ts';
import { WARM_START_SAMPLE } from './optimize.ts';
import { convergedInside, fitPurchaseModel, PURCHASE_MODELS, reachedEdge } from './purchase-models.ts';
import type { FittedPurchaseModel, PurchaseModelName } from './purchase-models.ts';

/** The models are fitted in weeks, as in the papers: day counts are divided by this. */
export const DAYS_PER_TIME_UNIT = 7;
export const TIME_UNIT = 'week';
const DAYS_PER_MONTH = 365.25 / 12;

/** The horizons of customer_clv's expected_purchases_<n>d columns, in days. */
export const PURCHASE_HORIZON_DAYS = [30, 90, 365] as const;

/** The CLV step's input: the customer_summary columns the models read, one entry per customer. */
export interface ClvInput {
  /** Repeat purchase days. */
  readonly frequency: ArrayLike<number>;
  readonly recency_days: ArrayLike<number>;
  readonly tenure_days: ArrayLike<number>;
  /** Mean per-day net revenue over repeat days; null without a repeat. */
  readonly avg_repeat_day_net_revenue: ArrayLike<number | null>;
}

/** `auto`: the converged purchase model with the highest log-likelihood. */
export type PurchaseModelChoice = 'auto' | PurchaseModelName;

export interface ClvSettings {
  readonly horizonMonths: number;
  readonly monthlyDiscountRate: number;
  readonly purchaseModel: PurchaseModelChoice;
}

export interface ClvModelRow {
  model: PurchaseModelName | 'gamma_gamma';
  /** The purchase model behind customer_clv; false on the Gamma-Gamma row, which is always used. */
  selected: boolean;
  r: number | null;
  alpha: number | null;
  a: number | null;
  b: number | null;
  s: number | null;
  beta: number | null;
  p: number | null;
  q: number | null;
  v: number | null;
  time_unit: string;
  log_likelihood: number | null;
  customers: number;
  converged: boolean;
  iterations: number;
  horizon_months: number;
  monthly_discount_rate: number;
  note: string | null;
}

/**
 * What the selected model expects of a customer who is still alive, for one (frequency,
 * tenure): none of it depends on recency, so customers share it, and times P(alive) it is the
 * per-customer prediction (sql/customer_clv.sql).
 */
export interface PurchaseCurveRow {
  frequency: number;
  tenure_days: number;
  /** Purchase days expected over the horizon (clv.horizonMonths). */
  purchases_if_alive: number | null;
  /** The same purchases, each month discounted: sum over m of (E[Y(m)] - E[Y(m-1)]) / (1 + d)^m. */
  discounted_purchases_if_alive: number | null;
  purchases_if_alive_30d: number | null;
  purchases_if_alive_90d: number | null;
  purchases_if_alive_365d: number | null;
  /** Days after as_of by which a purchase has become as likely as not; null beyond the horizon. */
  next_purchase_days_if_alive: number | null;
}

/** P(alive at as_of) under the selected model, for one (frequency, recency, tenure). */
export interface ProbabilityAliveRow {
  frequency: number;
  recency_days: number;
  tenure_days: number;
  p_alive: number | null;
}

export interface ClvFit {
  readonly models: ClvModelRow[];
  readonly curves: PurchaseCurveRow[];
  readonly alive: ProbabilityAliveRow[];
}

/** Below this many repeat buyers a fit says more about noise than about customers. */
export const MIN_REPEAT_BUYERS = 10;

const EMPTY_PARAMETERS = { r: null, alpha: null, a: null, b: null, s: null, beta: null, p: null, q: null, v: null };

/**
 * Fits the three purchase models and Gamma-Gamma to the customers of one as_of, picks the
 * purchase model that drives the predictions (settings.purchaseModel), and computes what it
 * gives per distinct history: P(alive) per (frequency, recency, tenure) and the curves per
 * (frequency, tenure). The per-customer values are products of these, left to SQL. Pure: no
 * I/O, so the local runner and the AWS Lambda both call it.
 */
export function fitCustomerValue(input: ClvInput, settings: ClvSettings): ClvFit {
  const count = input.frequency.length;
  const spend: { x: number; meanSpend: number }[] = [];
  for (let index = 0; index < count; index += 1) {
    const x = input.frequency[index]!;
    if (x > 0) spend.push({ x, meanSpend: input.avg_repeat_day_net_revenue[index] ?? 0 });
  }
  const base = {
    time_unit: TIME_UNIT,
    horizon_months: settings.horizonMonths,
    monthly_discount_rate: settings.monthlyDiscountRate,
  };
  if (spend.length < MIN_REPEAT_BUYERS) {
    const note = `not fitted: ${spend.length} repeat buyers, at least ${MIN_REPEAT_BUYERS} needed`;
    const empty = { ...EMPTY_PARAMETERS, selected: false, log_likelihood: null, converged: false, iterations: 0, note, ...base };
    return {
      models: [
        ...PURCHASE_MODELS.map((model) => ({ model, ...empty, customers: count })),
        { model: 'gamma_gamma' as const, ...empty, customers: spend.length },
      ],
      curves: [],
      alive: [],
    };
  }
  // Compressed once for the three fits: a million customers have about half a million distinct histories.
  const { histories, days } = compressDays(input);
  const fits = PURCHASE_MODELS.map((model) => fitPurchaseModel(model, histories));
  const selected = selectPurchaseModel(fits, settings.purchaseModel);
  const spendModel = fitGammaGamma(spend);
  return {
    models: [...fits.map((fit) => purchaseModelRow(fit, fit === selected, settings.purchaseModel, base)), spendModelRow(spendModel, base)],
    curves: selected ? purchaseCurves(selected, days, settings) : [],
    alive: selected ? probabilitiesAlive(selected, histories, days) : [],
  };
}

/** A distinct history in days, as customer_summary has it. */
interface DayHistory {
  readonly x: number;
  readonly recencyDays: number;
  readonly tenureDays: number;
}

/**
 * The distinct (frequency, recency, tenure) of the input, in order of first appearance, as
 * weighted histories in weeks and in days. Found with an open-addressing table of typed arrays:
 * a Map keyed by one number per history (too large for V8's small integers) took 1.1 s for a
 * million customers, nested maps or string keys more (bench/HISTORY.md).
 */
function compressDays(input: ClvInput): { histories: CompressedHistories; days: DayHistory[] } {
  const count = input.frequency.length;
  // A power of two at least twice the rows: the table is never more than half full.
  const slots = 2 ** Math.ceil(Math.log2(2 * count + 2));
  const mask = slots - 1;
  // Per slot, 1 + the index of the distinct history it holds; 0 for an empty slot.
  const occupant = new Int32Array(slots);
  const compressed: { x: number; tx: number; T: number; weight: number }[] = [];
  const days: DayHistory[] = [];
  for (let index = 0; index < count; index += 1) {
    const x = input.frequency[index]!;
    const recencyDays = input.recency_days[index]!;
    const tenureDays = input.tenure_days[index]!;
    let slot = finalizedHash(Math.imul(x | 0, 0x9e3779b1) ^ Math.imul(recencyDays | 0, 0x85ebca77) ^ Math.imul(tenureDays | 0, 0xc2b2ae3d)) & mask;
    for (;;) {
      const held = occupant[slot]! - 1;
      if (held < 0) {
        occupant[slot] = compressed.length + 1;
        compressed.push({ x, tx: recencyDays / DAYS_PER_TIME_UNIT, T: tenureDays / DAYS_PER_TIME_UNIT, weight: 1 });
        days.push({ x, recencyDays, tenureDays });
        break;
      }
      const seen = days[held]!;
      if (sameValue(seen.x, x) && sameValue(seen.recencyDays, recencyDays) && sameValue(seen.tenureDays, tenureDays)) {
        compressed[held]!.weight += 1;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return { histories: { compressed, customers: count }, days };
}

/** Equal as a Map's keys are: NaN equals NaN. */
const sameValue = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

/**
 * The named model, or under `auto` the fit with the highest log-likelihood among those that
 * converged inside the search (the three have four parameters each, so no penalty for size is
 * needed). Null when none did.
 */
export function selectPurchaseModel(fits: readonly FittedPurchaseModel[], choice: PurchaseModelChoice): FittedPurchaseModel | null {
  if (choice !== 'auto') return fits.find((fit) => fit.model === choice) ?? null;
  let best: FittedPurchaseModel | null = null;
  for (const fit of fits) if (convergedInside(fit) && (!best || fit.logLikelihood > best.logLikelihood)) best = fit;
  return best;
}

/** One row per distinct (frequency, tenure); the 2F1 evaluations, the costly part, run only here. */
function purchaseCurves(model: FittedPurchaseModel, histories: readonly DayHistory[], settings: ClvSettings): PurchaseCurveRow[] {
  const discount = Array.from({ length: settings.horizonMonths }, (_, month) => (1 + settings.monthlyDiscountRate) ** -(month + 1));
  const horizonDays = settings.horizonMonths * DAYS_PER_MONTH;
  const weeks = (days: number) => days / DAYS_PER_TIME_UNIT;
  const seen = new Set<number>();
  const curves: PurchaseCurveRow[] = [];
  for (const { x, tenureDays } of histories) {
    const key = x * 2 ** 20 + tenureDays;
    if (seen.has(key)) continue;
    seen.add(key);
    const T = weeks(tenureDays);
    let previous = 0;
    let discounted = 0;
    let monotone = true;
    for (let month = 1; month <= settings.horizonMonths; month += 1) {
      const cumulative = model.purchasesIfAlive(x, T, weeks(month * DAYS_PER_MONTH));
      monotone &&= cumulative >= previous;
      discounted += (cumulative - previous) * discount[month - 1]!;
      previous = cumulative;
    }
    const windows = PURCHASE_HORIZON_DAYS.map((days) => model.purchasesIfAlive(x, T, weeks(days)));
    const [in30, in90, in365] = countsOrNull(windows);
    const nextPurchaseDays = model.medianWaitIfAlive(x, T) * DAYS_PER_TIME_UNIT;
    curves.push({
      frequency: x,
      tenure_days: tenureDays,
      purchases_if_alive: monotone ? finiteOrNull(previous) : null,
      discounted_purchases_if_alive: monotone ? finiteOrNull(discounted) : null,
      purchases_if_alive_30d: in30!,
      purchases_if_alive_90d: in90!,
      purchases_if_alive_365d: in365!,
      next_purchase_days_if_alive: nextPurchaseDays <= horizonDays ? nextPurchaseDays : null,
    });
  }
  return curves;
}

/** P(alive) of each distinct history: histories[i] is days[i] in weeks. */
function probabilitiesAlive(model: FittedPurchaseModel, histories: CompressedHistories, days: readonly DayHistory[]): ProbabilityAliveRow[] {
  const alive = model.probabilitiesAlive(histories.compressed);
  return days.map(({ x, recencyDays, tenureDays }, index) => ({
    frequency: x,
    recency_days: recencyDays,
    tenure_days: tenureDays,
    p_alive: probabilityOrNull(alive[index]!),
  }));
}

/**
 * A value the formulas could not give (a hypergeometric series beyond double range, at
 * parameters far out toward the edge, or a horizon of years for a very frequent buyer) is
 * stored as null: DuckDB and the Lambda's Parquet writer would otherwise disagree (null against
 * NaN), and a null prediction says "unknown" where NaN breaks comparisons.
 */
const finiteOrNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

/**
 * Expected purchases over growing windows can only be non-negative and grow with the window.
 * Where the formulas break down (a fit at the edge of its search, named in config whatever its
 * fit), they give negative or shrinking counts: those are unknown too, null.
 */
function countsOrNull(counts: readonly number[]): (number | null)[] {
  const sound = counts.every((value, index) => Number.isFinite(value) && value >= (index === 0 ? 0 : counts[index - 1]!));
  return counts.map((value) => (sound ? value : null));
}

/** A probability outside [0, 1] is a formula that broke down: unknown, null. */
const probabilityOrNull = (value: number): number | null => (Number.isFinite(value) && value >= 0 && value <= 1 ? value : null);

type BaseColumns = Pick<ClvModelRow, 'time_unit' | 'horizon_months' | 'monthly_discount_rate'>;

const AT_BOUND_NOTE = 'a parameter reached the edge of the search: the data lacks the variation between customers (or the drop-out) the model assumes';

function purchaseModelRow(fit: FittedPurchaseModel, selected: boolean, choice: PurchaseModelChoice, base: BaseColumns): ClvModelRow {
  const parameter = (name: string) => fit.parameters[name] ?? null;
  const notes: string[] = [];
  if (reachedEdge(fit)) notes.push(AT_BOUND_NOTE);
  else if (!fit.converged) notes.push(`the search stopped after ${fit.iterations} iterations without converging`);
  if (fit.sampled) notes.push(`fitted on an even sample of ${WARM_START_SAMPLE.toLocaleString('en-US')} customers; log_likelihood is over all of them`);
  if (selected) {
    notes.push(
      choice === 'auto'
        ? 'selected: the highest log-likelihood of the converged purchase models'
        : `selected by clv.purchaseModel${convergedInside(fit) ? '' : ' although the fit is not converged: predictions are rough'}`,
    );
  }
  return {
    model: fit.model,
    selected,
    r: parameter('r'),
    alpha: parameter('alpha'),
    a: parameter('a'),
    b: parameter('b'),
    s: parameter('s'),
    beta: parameter('beta'),
    p: null,
    q: null,
    v: null,
    log_likelihood: fit.logLikelihood,
    customers: fit.customers,
    converged: convergedInside(fit),
    iterations: fit.iterations,
    note: notes.length > 0 ? notes.join('; ') : null,
    ...base,
  };
}

function spendModelRow(fit: GammaGammaFit, base: BaseColumns): ClvModelRow {
  return {
    model: 'gamma_gamma',
    selected: false,
    ...EMPTY_PARAMETERS,
    p: fit.parameters.p,
    q: fit.parameters.q,
    v: fit.parameters.v,
    log_likelihood: fit.logLikelihood,
    customers: fit.customers,
    converged: fit.converged && !fit.atBound,
    iterations: fit.iterations,
    note: fit.atBound
      ? `${AT_BOUND_NOTE}; order values are rough`
      : fit.parameters.q <= 1
        ? 'q <= 1: the population mean spend is infinite; one-time buyers get no order value'
        : null,
    ...base,
  };
}
