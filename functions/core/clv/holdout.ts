import { conditionalExpectedPurchases, fitBgNbd } from './bg-nbd.ts';
import type { BgNbdFit } from './bg-nbd.ts';
import { DAYS_PER_TIME_UNIT } from './predictive-clv.ts';

/** A calibration-period customer and the purchase days they actually made in the holdout. */
export interface HoldoutCustomer {
  /** Calibration-period repeat purchase days, recency and tenure, as customer_summary has them. */
  readonly frequency: number;
  readonly recency_days: number;
  readonly tenure_days: number;
  readonly holdout_purchase_days: number;
}

export interface HoldoutGroup {
  /** Calibration frequency (repeat purchase days): "0" ... "6", then "7+". */
  frequency: string;
  customers: number;
  actual_mean: number;
  predicted_mean: number;
  actual_total: number;
  predicted_total: number;
}

export interface HoldoutValidation {
  readonly fit: BgNbdFit;
  readonly holdoutDays: number;
  readonly groups: HoldoutGroup[];
  readonly customers: number;
  readonly actualTotal: number;
  readonly predictedTotal: number;
  /** (predicted - actual) / actual over all customers. */
  readonly totalError: number | null;
  /** Mean absolute error per customer, in purchases. */
  readonly meanAbsoluteError: number;
  readonly rootMeanSquaredError: number;
}

const TOP_BUCKET = 7;

/**
 * Fits BG/NBD on the calibration period and compares, by calibration frequency, the purchases
 * it predicts for the holdout period with those that happened: how a data team learns to
 * trust the model (Fader, Hardie & Lee 2005, figure 4).
 */
export function validateHoldout(customers: readonly HoldoutCustomer[], holdoutDays: number): HoldoutValidation {
  const histories = customers.map((customer) => ({
    x: customer.frequency,
    tx: customer.recency_days / DAYS_PER_TIME_UNIT,
    T: customer.tenure_days / DAYS_PER_TIME_UNIT,
  }));
  const fit = fitBgNbd(histories);
  const groups = new Map<number, HoldoutGroup>();
  let absolute = 0;
  let squared = 0;
  let actualTotal = 0;
  let predictedTotal = 0;
  customers.forEach((customer, index) => {
    const predicted = conditionalExpectedPurchases(fit.parameters, histories[index]!, holdoutDays / DAYS_PER_TIME_UNIT);
    const actual = customer.holdout_purchase_days;
    const bucket = Math.min(customer.frequency, TOP_BUCKET);
    const group = groups.get(bucket) ?? {
      frequency: bucket === TOP_BUCKET ? `${TOP_BUCKET}+` : String(bucket),
      customers: 0,
      actual_mean: 0,
      predicted_mean: 0,
      actual_total: 0,
      predicted_total: 0,
    };
    group.customers += 1;
    group.actual_total += actual;
    group.predicted_total += predicted;
    groups.set(bucket, group);
    absolute += Math.abs(predicted - actual);
    squared += (predicted - actual) ** 2;
    actualTotal += actual;
    predictedTotal += predicted;
  });
  const ordered = [...groups.entries()].sort(([a], [b]) => a - b).map(([, group]) => ({
    ...group,
    actual_mean: group.actual_total / group.customers,
    predicted_mean: group.predicted_total / group.customers,
  }));
  const count = Math.max(1, customers.length);
  return {
    fit,
    holdoutDays,
    groups: ordered,
    customers: customers.length,
    actualTotal,
    predictedTotal,
    totalError: actualTotal === 0 ? null : (predictedTotal - actualTotal) / actualTotal,
    meanAbsoluteError: absolute / count,
    rootMeanSquaredError: Math.sqrt(squared / count),
  };
}
