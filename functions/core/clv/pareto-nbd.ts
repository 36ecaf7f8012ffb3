import type { PurchaseHistory } from './bg-nbd.ts';
import { fitHistories } from './fit-histories.ts';
import type { HistoriesFit } from './fit-histories.ts';
import { hyp2f1, logAddExp, logGamma } from './special.ts';

/**
 * Pareto/NBD (Schmittlein, Morrison & Colombo 1987). While alive a customer buys at a Poisson
 * rate λ ~ Gamma(r, α); their lifetime is exponential with rate μ ~ Gamma(s, β), so they can
 * leave at any moment, a one-time buyer included. The likelihood is written as in Fader, Hardie
 * & Lee, "A note on implementing the Pareto/NBD model in MATLAB" (2005), equations (12)-(14),
 * with its two forms for α >= β and α < β.
 */
export interface ParetoNbdParameters {
  readonly r: number;
  readonly alpha: number;
  readonly s: number;
  readonly beta: number;
}

/**
 * log A0 of the note: the difference of two hypergeometric terms at t_x and at T (the first is
 * the larger, as t_x <= T), taken in log space so that neither power underflows.
 */
function logA0({ r, alpha, s, beta }: ParetoNbdParameters, { x, tx, T }: PurchaseHistory): number {
  const power = r + s + x;
  const [larger, other, secondArgument] = alpha >= beta ? [alpha, beta, s + 1] : [beta, alpha, r + x];
  const term = (time: number) => Math.log(hyp2f1(power, secondArgument, power + 1, (larger - other) / (larger + time))) - power * Math.log(larger + time);
  const atTx = term(tx);
  const atT = term(T);
  // A0 = e^atTx - e^atT, and atTx >= atT; equal only when t_x = T, where A0 is 0.
  return atTx + Math.log(-Math.expm1(atT - atTx));
}

/** The log-likelihood of one history (equation 12 of the note, in log space). */
export function paretoNbdLogLikelihood(parameters: ParetoNbdParameters, history: PurchaseHistory): number {
  const { r, alpha, s, beta } = parameters;
  const { x, T } = history;
  const head = logGamma(r + x) - logGamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  const aliveThroughT = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
  const a0 = logA0(parameters, history);
  if (a0 === -Infinity) return head + aliveThroughT;
  return head + logAddExp(aliveThroughT, Math.log(s / (r + s + x)) + a0);
}

/** P(alive at T | x, t_x, T) (equation 18 of the note). */
export function paretoNbdProbabilityAlive(parameters: ParetoNbdParameters, history: PurchaseHistory): number {
  const { r, alpha, s, beta } = parameters;
  const { x, T } = history;
  const a0 = logA0(parameters, history);
  if (a0 === -Infinity) return 1;
  const logRatio = Math.log(s / (r + s + x)) + (r + x) * Math.log(alpha + T) + s * Math.log(beta + T) + a0;
  return 1 / (1 + Math.exp(logRatio));
}

/** E[Y(t) | x, T, alive]: purchases expected in the t after T from a customer still alive (s != 1). */
export function paretoNbdExpectedPurchasesIfAlive({ r, alpha, s, beta }: ParetoNbdParameters, x: number, T: number, t: number): number {
  if (t <= 0) return 0;
  const rate = (r + x) / (alpha + T);
  // (β + T) / (s - 1) x (1 - ((β + T) / (β + T + t))^(s - 1)); at s = 1 its limit, (β + T) ln(1 + t / (β + T)).
  const horizon = Math.abs(s - 1) < 1e-9 ? (beta + T) * Math.log1p(t / (beta + T)) : ((beta + T) / (s - 1)) * -Math.expm1((s - 1) * Math.log((beta + T) / (beta + T + t)));
  return rate * horizon;
}

/** E[Y(t) | x, t_x, T] (equation 20 of the note). */
export function paretoNbdConditionalExpectedPurchases(parameters: ParetoNbdParameters, history: PurchaseHistory, t: number): number {
  return paretoNbdExpectedPurchasesIfAlive(parameters, history.x, history.T, t) * paretoNbdProbabilityAlive(parameters, history);
}

/** A fit of Pareto/NBD (see fitHistories: large data is fitted on a sample). */
export type ParetoNbdFit = HistoriesFit<ParetoNbdParameters>;

export function fitParetoNbd(histories: readonly PurchaseHistory[]): ParetoNbdFit {
  const fromLog = ([r, alpha, s, beta]: readonly number[]): ParetoNbdParameters => ({ r: Math.exp(r!), alpha: Math.exp(alpha!), s: Math.exp(s!), beta: Math.exp(beta!) });
  return fitHistories(histories, fromLog, paretoNbdLogLikelihood);
}
