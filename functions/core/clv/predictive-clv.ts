import { conditionalExpectedPurchases, fitBgNbd, probabilityAlive } from './bg-nbd.ts';
import type { BgNbdFit, PurchaseHistory } from './bg-nbd.ts';
import { conditionalExpectedSpend, fitGammaGamma } from './gamma-gamma.ts';
import type { GammaGammaFit } from './gamma-gamma.ts';

/** The models are fitted in weeks, as in the papers: day counts are divided by this. */
export const DAYS_PER_TIME_UNIT = 7;
export const TIME_UNIT = 'week';
const WEEKS_PER_MONTH = 365.25 / 12 / DAYS_PER_TIME_UNIT;

/** A customer as the CLV step reads them from customer_summary. */
export interface ClvCustomer {
  readonly customer_id: string;
  /** Repeat purchase days. */
  readonly frequency: number;
  readonly recency_days: number;
  readonly tenure_days: number;
  /** Mean per-day net revenue over repeat days; null without a repeat. */
  readonly avg_repeat_day_net_revenue: number | null;
  readonly net_revenue: number;
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

export interface CustomerClvRow {
  customer_id: string;
  historical_net_revenue: number;
  frequency: number;
  recency_weeks: number;
  tenure_weeks: number;
  p_alive: number | null;
  expected_purchases: number | null;
  expected_order_value: number | null;
  predicted_clv: number | null;
}

export interface ClvResult {
  readonly models: ClvModelRow[];
  readonly customers: CustomerClvRow[];
}

/** Below this many repeat buyers a fit says more about noise than about customers. */
export const MIN_REPEAT_BUYERS = 10;

/**
 * Fits BG/NBD and Gamma-Gamma to the customers of one as_of and predicts, per customer,
 * P(alive), purchases over the horizon, the expected order value and the discounted CLV:
 * the sum over months m of E[order value] x E[purchases in month m] / (1 + d)^m.
 * Pure: no I/O, so the local runner and the AWS Lambda both call it.
 */
export function predictCustomerValue(customers: readonly ClvCustomer[], settings: ClvSettings): ClvResult {
  const histories = customers.map(
    (customer): PurchaseHistory => ({
      x: customer.frequency,
      tx: customer.recency_days / DAYS_PER_TIME_UNIT,
      T: customer.tenure_days / DAYS_PER_TIME_UNIT,
    }),
  );
  const repeatBuyers = customers.filter((customer) => customer.frequency > 0).length;
  const base = {
    time_unit: TIME_UNIT,
    horizon_months: settings.horizonMonths,
    monthly_discount_rate: settings.monthlyDiscountRate,
  };
  if (repeatBuyers < MIN_REPEAT_BUYERS) {
    const note = `not fitted: ${repeatBuyers} repeat buyers, at least ${MIN_REPEAT_BUYERS} needed`;
    const empty = { r: null, alpha: null, a: null, b: null, p: null, q: null, v: null, log_likelihood: null, converged: false, iterations: 0, note };
    return {
      models: [
        { model: 'bg_nbd', ...empty, customers: customers.length, ...base },
        { model: 'gamma_gamma', ...empty, customers: repeatBuyers, ...base },
      ],
      customers: customers.map((customer, index) => ({
        ...describe(customer, histories[index]!),
        p_alive: null,
        expected_purchases: null,
        expected_order_value: null,
        predicted_clv: null,
      })),
    };
  }

  const purchaseModel = fitBgNbd(histories);
  const spendModel = fitGammaGamma(
    customers.map((customer) => ({ x: customer.frequency, meanSpend: customer.avg_repeat_day_net_revenue ?? 0 })),
  );
  const predictions = new Map<string, { pAlive: number; perMonth: number[] }>();
  const discount = Array.from({ length: settings.horizonMonths }, (_, month) => Math.pow(1 + settings.monthlyDiscountRate, -(month + 1)));

  return {
    models: [modelRow(purchaseModel, null, base), modelRow(null, spendModel, base)],
    customers: customers.map((customer, index) => {
      const history = histories[index]!;
      // Customers with the same history share one computation: 2F1 is the costly part.
      const key = `${history.x}|${history.tx}|${history.T}`;
      let prediction = predictions.get(key);
      if (!prediction) {
        const cumulative = [0];
        for (let month = 1; month <= settings.horizonMonths; month += 1) {
          cumulative.push(conditionalExpectedPurchases(purchaseModel.parameters, history, month * WEEKS_PER_MONTH));
        }
        prediction = {
          pAlive: probabilityAlive(purchaseModel.parameters, history),
          perMonth: cumulative.slice(1).map((value, month) => value - cumulative[month]!),
        };
        predictions.set(key, prediction);
      }
      const orderValue = conditionalExpectedSpend(spendModel.parameters, { x: customer.frequency, meanSpend: customer.avg_repeat_day_net_revenue ?? 0 });
      const expectedPurchases = prediction.perMonth.reduce((sum, value) => sum + value, 0);
      const predictedClv =
        orderValue === null ? null : prediction.perMonth.reduce((sum, purchases, month) => sum + orderValue * purchases * discount[month]!, 0);
      return {
        ...describe(customer, history),
        p_alive: prediction.pAlive,
        expected_purchases: expectedPurchases,
        expected_order_value: orderValue,
        predicted_clv: predictedClv,
      };
    }),
  };
}

function describe(customer: ClvCustomer, history: PurchaseHistory) {
  return {
    customer_id: customer.customer_id,
    historical_net_revenue: customer.net_revenue,
    frequency: customer.frequency,
    recency_weeks: history.tx,
    tenure_weeks: history.T,
  };
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
