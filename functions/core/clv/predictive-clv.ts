import { expectedPurchasesIfAlive, fitBgNbd } from './bg-nbd.ts';
import type { BgNbdFit, BgNbdParameters, PurchaseHistory } from './bg-nbd.ts';
import { fitGammaGamma } from './gamma-gamma.ts';
import type { GammaGammaFit } from './gamma-gamma.ts';

/** The models are fitted in weeks, as in the papers: day counts are divided by this. */
export const DAYS_PER_TIME_UNIT = 7;
export const TIME_UNIT = 'week';
const WEEKS_PER_MONTH = 365.25 / 12 / DAYS_PER_TIME_UNIT;

/** The CLV step's input: customer_summary's BG/NBD and Gamma-Gamma columns, one entry per customer. */
export interface ClvInput {
  /** Repeat purchase days. */
  readonly frequency: ArrayLike<number>;
  readonly recency_days: ArrayLike<number>;
  readonly tenure_days: ArrayLike<number>;
  /** Mean per-day net revenue over repeat days; null without a repeat. */
  readonly avg_repeat_day_net_revenue: ArrayLike<number | null>;
}

export interface ClvSettings {
  readonly horizonMonths: number;
  readonly monthlyDiscountRate: number;
}

export interface ClvModelRow {
  model: 'bg_nbd' | 'gamma_gamma';
  r: number | null;
  alpha: number | null;
  a: number | null;
  b: number | null;
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
 * Purchases over the horizon expected from a customer who is still alive, for one (frequency,
 * tenure): E[Y(t) | x, T, alive] does not depend on recency, so the per-customer prediction is
 * this times P(alive), a closed form that SQL computes (sql/customer_clv.sql).
 */
export interface PurchaseCurveRow {
  frequency: number;
  tenure_days: number;
  purchases_if_alive: number;
  /** The same purchases, each month discounted: sum over m of (E[Y(m)] - E[Y(m-1)]) / (1 + d)^m. */
  discounted_purchases_if_alive: number;
}

export interface ClvFit {
  readonly models: ClvModelRow[];
  readonly curves: PurchaseCurveRow[];
}

/** Below this many repeat buyers a fit says more about noise than about customers. */
export const MIN_REPEAT_BUYERS = 10;

/**
 * Fits BG/NBD and Gamma-Gamma to the customers of one as_of and computes the purchase curves
 * of every (frequency, tenure) present. The per-customer values (P(alive), expected
 * purchases, order value, discounted CLV) are closed forms of these and of the parameters,
 * left to SQL. Pure: no I/O, so the local runner and the AWS Lambda both call it.
 */
export function fitCustomerValue(input: ClvInput, settings: ClvSettings): ClvFit {
  const count = input.frequency.length;
  const histories: PurchaseHistory[] = new Array(count);
  const spend: { x: number; meanSpend: number }[] = [];
  for (let index = 0; index < count; index += 1) {
    const x = input.frequency[index]!;
    histories[index] = { x, tx: input.recency_days[index]! / DAYS_PER_TIME_UNIT, T: input.tenure_days[index]! / DAYS_PER_TIME_UNIT };
    if (x > 0) spend.push({ x, meanSpend: input.avg_repeat_day_net_revenue[index] ?? 0 });
  }
  const base = {
    time_unit: TIME_UNIT,
    horizon_months: settings.horizonMonths,
    monthly_discount_rate: settings.monthlyDiscountRate,
  };
  if (spend.length < MIN_REPEAT_BUYERS) {
    const note = `not fitted: ${spend.length} repeat buyers, at least ${MIN_REPEAT_BUYERS} needed`;
    const empty = { r: null, alpha: null, a: null, b: null, p: null, q: null, v: null, log_likelihood: null, converged: false, iterations: 0, note };
    return {
      models: [
        { model: 'bg_nbd', ...empty, customers: count, ...base },
        { model: 'gamma_gamma', ...empty, customers: spend.length, ...base },
      ],
      curves: [],
    };
  }
  const purchaseModel = fitBgNbd(histories);
  const spendModel = fitGammaGamma(spend);
  return {
    models: [modelRow(purchaseModel, null, base), modelRow(null, spendModel, base)],
    curves: purchaseCurves(purchaseModel.parameters, input, settings),
  };
}

/** One curve per distinct (frequency, tenure_days); 2F1, the costly part, runs only here. */
function purchaseCurves(parameters: BgNbdParameters, input: ClvInput, settings: ClvSettings): PurchaseCurveRow[] {
  const discount = Array.from({ length: settings.horizonMonths }, (_, month) => Math.pow(1 + settings.monthlyDiscountRate, -(month + 1)));
  const seen = new Map<number, Set<number>>();
  const curves: PurchaseCurveRow[] = [];
  for (let index = 0; index < input.frequency.length; index += 1) {
    const x = input.frequency[index]!;
    const tenureDays = input.tenure_days[index]!;
    let tenures = seen.get(x);
    if (!tenures) seen.set(x, (tenures = new Set()));
    if (tenures.has(tenureDays)) continue;
    tenures.add(tenureDays);
    const T = tenureDays / DAYS_PER_TIME_UNIT;
    let previous = 0;
    let discounted = 0;
    for (let month = 1; month <= settings.horizonMonths; month += 1) {
      const cumulative = expectedPurchasesIfAlive(parameters, x, T, month * WEEKS_PER_MONTH);
      discounted += (cumulative - previous) * discount[month - 1]!;
      previous = cumulative;
    }
    curves.push({ frequency: x, tenure_days: tenureDays, purchases_if_alive: previous, discounted_purchases_if_alive: discounted });
  }
  return curves;
}

function modelRow(
  purchases: BgNbdFit | null,
  spend: GammaGammaFit | null,
  base: Pick<ClvModelRow, 'time_unit' | 'horizon_months' | 'monthly_discount_rate'>,
): ClvModelRow {
  const fit = (purchases ?? spend)!;
  return {
    model: purchases ? 'bg_nbd' : 'gamma_gamma',
    r: purchases?.parameters.r ?? null,
    alpha: purchases?.parameters.alpha ?? null,
    a: purchases?.parameters.a ?? null,
    b: purchases?.parameters.b ?? null,
    p: spend?.parameters.p ?? null,
    q: spend?.parameters.q ?? null,
    v: spend?.parameters.v ?? null,
    log_likelihood: fit.logLikelihood,
    customers: fit.customers,
    converged: fit.converged,
    iterations: fit.iterations,
    note: fit.atBound
      ? 'a parameter reached the edge of the search: the data lacks the variation between customers (or the drop-out) the model assumes; predictions are rough'
      : spend && spend.parameters.q <= 1
        ? 'q <= 1: the population mean spend is infinite; one-time buyers get no order value'
        : null,
    ...base,
  };
}
