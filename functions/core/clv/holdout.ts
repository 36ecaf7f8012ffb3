import type { PurchaseHistory } from './bg-nbd.ts';
import { DAYS_PER_TIME_UNIT } from './predictive-clv.ts';
import { fitPurchaseModel, PURCHASE_MODELS } from './purchase-models.ts';
import type { FittedPurchaseModel, PurchaseModelName } from './purchase-models.ts';

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

/** One model fitted on the calibration period, against what happened in the holdout. */
export interface ModelValidation {
  readonly fit: FittedPurchaseModel;
  readonly groups: HoldoutGroup[];
  readonly predictedTotal: number;
  /** (predicted - actual) / actual over all customers. */
  readonly totalError: number | null;
  /** Mean absolute error per customer, in purchases. */
  readonly meanAbsoluteError: number;
  readonly rootMeanSquaredError: number;
}

export interface HoldoutValidation {
  readonly holdoutDays: number;
  readonly customers: number;
  readonly actualTotal: number;
  /** In the order of PURCHASE_MODELS. */
  readonly models: ModelValidation[];
}

const TOP_BUCKET = 7;

function validateModel(
  fit: FittedPurchaseModel,
  customers: readonly HoldoutCustomer[],
  histories: readonly PurchaseHistory[],
  holdoutDays: number,
): ModelValidation {
  const groups = new Map<number, HoldoutGroup>();
  let absolute = 0;
  let squared = 0;
  let actualTotal = 0;
  let predictedTotal = 0;
  customers.forEach((customer, index) => {
    const predicted = fit.conditionalExpectedPurchases(histories[index]!, holdoutDays / DAYS_PER_TIME_UNIT);
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
  const count = Math.max(1, customers.length);
  return {
    fit,
    groups: [...groups.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, group]) => ({
        ...group,
        actual_mean: group.actual_total / group.customers,
        predicted_mean: group.predicted_total / group.customers,
      })),
    predictedTotal,
    totalError: actualTotal === 0 ? null : (predictedTotal - actualTotal) / actualTotal,
    meanAbsoluteError: absolute / count,
    rootMeanSquaredError: Math.sqrt(squared / count),
  };
}

/**
 * Fits every purchase model on the calibration period and compares, by calibration frequency,
 * the purchases each predicts for the holdout period with those that happened (Fader, Hardie &
 * Lee 2005, figure 4): how a data team sees which model describes its own shop best.
 */
export function validateHoldout(
  customers: readonly HoldoutCustomer[],
  holdoutDays: number,
  models: readonly PurchaseModelName[] = PURCHASE_MODELS,
): HoldoutValidation {
  const histories = customers.map((customer) => ({
    x: customer.frequency,
    tx: customer.recency_days / DAYS_PER_TIME_UNIT,
    T: customer.tenure_days / DAYS_PER_TIME_UNIT,
  }));
  return {
    holdoutDays,
    customers: customers.length,
    actualTotal: customers.reduce((sum, customer) => sum + customer.holdout_purchase_days, 0),
    models: models.map((model) => validateModel(fitPurchaseModel(model, histories), customers, histories, holdoutDays)),
  };
}
