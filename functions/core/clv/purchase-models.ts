import { conditionalExpectedPurchases, fitBgNbd, probabilityAlive } from './bg-nbd.ts';
import type { PurchaseHistory } from './bg-nbd.ts';
import { fitMbgNbd, mbgNbdConditionalExpectedPurchases, mbgNbdProbabilityAlive } from './mbg-nbd.ts';
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

export interface FittedPurchaseModel {
  readonly model: PurchaseModelName;
  /** The model's own parameters: r, alpha, a, b (BG/NBD, MBG/NBD) or r, alpha, s, beta (Pareto/NBD). */
  readonly parameters: Readonly<Record<string, number>>;
  readonly logLikelihood: number;
  readonly customers: number;
  readonly converged: boolean;
  readonly iterations: number;
  readonly atBound: boolean;
  /** Fitted on an even sample of customers (MBG/NBD and Pareto/NBD above 50,000 customers). */
  readonly sampled: boolean;
  probabilityAlive(history: PurchaseHistory): number;
  /** Purchases expected in the t after T, in the histories' time unit. */
  conditionalExpectedPurchases(history: PurchaseHistory, t: number): number;
}

export function fitPurchaseModel(model: PurchaseModelName, histories: readonly PurchaseHistory[]): FittedPurchaseModel {
  switch (model) {
    case 'bg_nbd': {
      const fit = fitBgNbd(histories);
      return {
        ...fit,
        // BG/NBD starts from a sample too, then polishes on every customer with its gradient.
        sampled: false,
        model,
        parameters: { ...fit.parameters },
        probabilityAlive: (history) => probabilityAlive(fit.parameters, history),
        conditionalExpectedPurchases: (history, t) => conditionalExpectedPurchases(fit.parameters, history, t),
      };
    }
    case 'mbg_nbd': {
      const fit = fitMbgNbd(histories);
      return {
        ...fit,
        model,
        parameters: { ...fit.parameters },
        probabilityAlive: (history) => mbgNbdProbabilityAlive(fit.parameters, history),
        conditionalExpectedPurchases: (history, t) => mbgNbdConditionalExpectedPurchases(fit.parameters, history, t),
      };
    }
    case 'pareto_nbd': {
      const fit = fitParetoNbd(histories);
      return {
        ...fit,
        model,
        parameters: { ...fit.parameters },
        probabilityAlive: (history) => paretoNbdProbabilityAlive(fit.parameters, history),
        conditionalExpectedPurchases: (history, t) => paretoNbdConditionalExpectedPurchases(fit.parameters, history, t),
      };
    }
  }
}
