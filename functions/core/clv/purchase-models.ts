import { conditionalExpectedPurchases, fitBgNbd, probabilityAlive } from './bg-nbd.ts';
import type { PurchaseHistory } from './bg-nbd.ts';
import { fitMbgNbd, mbgNbdConditionalExpectedPurchases, mbgNbdProbabilityAlive } from './mbg-nbd.ts';
import type { HistoriesFit } from './fit-histories.ts';
import { fitParetoNbd, paretoNbdConditionalExpectedPurchases, paretoNbdProbabilityAlive } from './pareto-nbd.ts';

/**
 * The purchase models behind predictive CLV, behind one interface: each is fitted by maximum
 * likelihood on the same histories (x repeat purchases, the last at t_x, observed for T) and
 * gives P(alive) and the purchases expected over a horizon.
 *
 * - bg_nbd: BG/NBD; a customer can drop out only after a repeat purchase, so every one-time
 *   buyer is alive.
 * - mbg_nbd: MBG/NBD; the first purchase is a chance to drop out too.
 * - pareto_nbd: Pareto/NBD; a customer can leave at any moment.
 */
export const PURCHASE_MODELS = ['bg_nbd', 'mbg_nbd', 'pareto_nbd'] as const;
export type PurchaseModelName = (typeof PURCHASE_MODELS)[number];

/** How people name them. */
export const PURCHASE_MODEL_TITLES: Readonly<Record<PurchaseModelName, string>> = {
  bg_nbd: 'BG/NBD',
  mbg_nbd: 'MBG/NBD',
  pareto_nbd: 'Pareto/NBD',
};

export interface FittedPurchaseModel extends HistoriesFit<Readonly<Record<string, number>>> {
  readonly model: PurchaseModelName;
  probabilityAlive(history: PurchaseHistory): number;
  /** Purchases expected in the t after T, in the histories' time unit. */
  conditionalExpectedPurchases(history: PurchaseHistory, t: number): number;
}

/** A model's fit and formulas, tied to its own parameter type. */
function purchaseModel<Parameters extends object>(
  model: PurchaseModelName,
  fit: (histories: readonly PurchaseHistory[]) => HistoriesFit<Parameters>,
  alive: (parameters: Parameters, history: PurchaseHistory) => number,
  expected: (parameters: Parameters, history: PurchaseHistory, t: number) => number,
) {
  return (histories: readonly PurchaseHistory[]): FittedPurchaseModel => {
    const fitted = fit(histories);
    return {
      ...fitted,
      model,
      parameters: { ...fitted.parameters } as Record<string, number>,
      probabilityAlive: (history) => alive(fitted.parameters, history),
      conditionalExpectedPurchases: (history, t) => expected(fitted.parameters, history, t),
    };
  };
}

const FITS: Readonly<Record<PurchaseModelName, (histories: readonly PurchaseHistory[]) => FittedPurchaseModel>> = {
  // BG/NBD starts from a sample too on large data, then polishes on every customer with its gradient.
  bg_nbd: purchaseModel('bg_nbd', (histories) => ({ ...fitBgNbd(histories), sampled: false }), probabilityAlive, conditionalExpectedPurchases),
  mbg_nbd: purchaseModel('mbg_nbd', fitMbgNbd, mbgNbdProbabilityAlive, mbgNbdConditionalExpectedPurchases),
  pareto_nbd: purchaseModel('pareto_nbd', fitParetoNbd, paretoNbdProbabilityAlive, paretoNbdConditionalExpectedPurchases),
};

export function fitPurchaseModel(model: PurchaseModelName, histories: readonly PurchaseHistory[]): FittedPurchaseModel {
  return FITS[model](histories);
}
