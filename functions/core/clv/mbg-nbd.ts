import { fitBetaGeometric } from './bg-nbd.ts';
import type { HistoriesFit, HistoriesInput, PurchaseHistory } from './bg-nbd.ts';
import { hyp2f1, logAddExp, logBeta, logGamma } from './special.ts';

/**
 * MBG/NBD (Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison of models
 * for customer base analysis"; the formulation of R's BTYDplus). As BG/NBD, while alive a
 * customer buys at a Poisson rate λ ~ Gamma(r, α) and drops out with probability p ~ Beta(a, b)
 * at a purchase; but the first purchase counts too, so a customer can be gone right after it:
 * one-time buyers no longer all have P(alive) = 1.
 */
export interface MbgNbdParameters {
  readonly r: number;
  readonly alpha: number;
  readonly a: number;
  readonly b: number;
}

/**
 * The log-likelihood of one history: alive through T after x + 1 chances to drop out, or gone
 * at the last purchase (at t_x, which is 0 for a one-time buyer).
 */
export function mbgNbdLogLikelihood({ r, alpha, a, b }: MbgNbdParameters, { x, tx, T }: PurchaseHistory): number {
  const head = logGamma(r + x) - logGamma(r) + r * Math.log(alpha);
  const survived = logBeta(a, b + x + 1) - logBeta(a, b) - (r + x) * Math.log(alpha + T);
  const droppedOut = logBeta(a + 1, b + x) - logBeta(a, b) - (r + x) * Math.log(alpha + tx);
  return head + logAddExp(survived, droppedOut);
}

/** P(alive at T | x, t_x, T): below 1 for one-time buyers too. */
export function mbgNbdProbabilityAlive({ r, alpha, a, b }: MbgNbdParameters, { x, tx, T }: PurchaseHistory): number {
  return 1 / (1 + (a / (b + x)) * ((alpha + T) / (alpha + tx)) ** (r + x));
}

/**
 * E[Y(t) | x, T, alive]: purchases expected in the t after T from a customer still alive (as
 * for BG/NBD with one more chance to drop out per purchase). Near a = 1, where numerator and
 * denominator both vanish, it is averaged on both sides.
 */
export function mbgNbdExpectedPurchasesIfAlive(parameters: MbgNbdParameters, x: number, T: number, t: number): number {
  if (t <= 0) return 0;
  const evaluate = ({ r, alpha, a, b }: MbgNbdParameters) => {
    const z = t / (alpha + T + t);
    return ((a + b + x) / (a - 1)) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x + 1, a + b + x, z));
  };
  const epsilon = 1e-3;
  if (Math.abs(parameters.a - 1) >= epsilon) return evaluate(parameters);
  return (evaluate({ ...parameters, a: 1 - epsilon }) + evaluate({ ...parameters, a: 1 + epsilon })) / 2;
}

/**
 * A fit of MBG/NBD: the likelihood has BG/NBD's shape (see BetaGeometricVariant), so it is
 * fitted the same way, polished on every customer with the analytic gradient.
 */
export type MbgNbdFit = HistoriesFit<MbgNbdParameters>;

export function fitMbgNbd(histories: HistoriesInput): MbgNbdFit {
  return fitBetaGeometric(histories, 'mbg_nbd');
}
