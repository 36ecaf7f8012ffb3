import { hyp2f1, logAddExp, logBeta, logGamma } from './special.ts';
import { minimize } from './optimize.ts';

/**
 * BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"). While alive a
 * customer buys at a Poisson rate λ ~ Gamma(r, α); after each purchase they drop out with
 * probability p ~ Beta(a, b). Time is in one unit throughout (weeks here, as in the paper).
 */
export interface BgNbdParameters {
  readonly r: number;
  readonly alpha: number;
  readonly a: number;
  readonly b: number;
}

/** A customer's history: x repeat purchases, the last at t_x, observed for T (same unit). */
export interface PurchaseHistory {
  readonly x: number;
  readonly tx: number;
  readonly T: number;
}

/** The log-likelihood of one history (equation 6 of the paper, in log space). */
export function bgNbdLogLikelihood({ r, alpha, a, b }: BgNbdParameters, { x, tx, T }: PurchaseHistory): number {
  const head = logGamma(r + x) - logGamma(r) + r * Math.log(alpha) + logBeta(a, b + x) - logBeta(a, b);
  const survived = -(r + x) * Math.log(alpha + T);
  if (x === 0) return head + survived;
  const droppedOut = Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx);
  return head + logAddExp(survived, droppedOut);
}

/** P(alive at T | x, t_x, T). */
export function probabilityAlive({ r, alpha, a, b }: BgNbdParameters, { x, tx, T }: PurchaseHistory): number {
  if (x === 0) return 1;
  return 1 / (1 + (a / (b + x - 1)) * Math.pow((alpha + T) / (alpha + tx), r + x));
}

/** E[X(t)]: purchases a new customer is expected to make in their first t. */
export function expectedPurchasesNewCustomer({ r, alpha, a, b }: BgNbdParameters, t: number): number {
  if (t <= 0) return 0;
  const z = t / (alpha + t);
  return ((a + b - 1) / (a - 1)) * (1 - Math.pow(alpha / (alpha + t), r) * hyp2f1(r, b, a + b - 1, z));
}

/** E[Y(t) | x, t_x, T]: purchases expected in the t after T (equation 10 of the paper). */
export function conditionalExpectedPurchases(parameters: BgNbdParameters, history: PurchaseHistory, t: number): number {
  if (t <= 0) return 0;
  const { r, alpha, a, b } = parameters;
  const { x, tx, T } = history;
  const z = t / (alpha + T + t);
  const hypergeometric = hyp2f1(r + x, b + x, a + b + x - 1, z);
  const numerator = ((a + b + x - 1) / (a - 1)) * (1 - Math.pow((alpha + T) / (alpha + T + t), r + x) * hypergeometric);
  const dropout = x > 0 ? (a / (b + x - 1)) * Math.pow((alpha + T) / (alpha + tx), r + x) : 0;
  return numerator / (1 + dropout);
}

/** Histories compressed to unique (x, t_x, T) with a count: a million customers fit in seconds. */
export interface WeightedHistory extends PurchaseHistory {
  readonly weight: number;
}

export function compressHistories(histories: readonly PurchaseHistory[]): WeightedHistory[] {
  const byKey = new Map<string, { x: number; tx: number; T: number; weight: number }>();
  for (const history of histories) {
    const key = `${history.x}|${history.tx}|${history.T}`;
    const found = byKey.get(key);
    if (found) found.weight += 1;
    else byKey.set(key, { ...history, weight: 1 });
  }
  return [...byKey.values()];
}

/**
 * The summed log-likelihood. The terms that depend only on x (the gamma and beta functions)
 * are computed once per distinct x, not once per history: the fit calls this hundreds of times.
 */
export function totalLogLikelihood(parameters: BgNbdParameters, histories: readonly WeightedHistory[]): number {
  const { r, alpha, a, b } = parameters;
  const logAlpha = Math.log(alpha);
  const logA = Math.log(a);
  const shared = logBeta(a, b) + logGamma(r);
  const byX = new Map<number, { head: number; dropout: number }>();
  let total = 0;
  for (const { x, tx, T, weight } of histories) {
    let terms = byX.get(x);
    if (!terms) {
      terms = { head: logGamma(r + x) + r * logAlpha + logBeta(a, b + x) - shared, dropout: x > 0 ? logA - Math.log(b + x - 1) : 0 };
      byX.set(x, terms);
    }
    const survived = -(r + x) * Math.log(alpha + T);
    const value = x === 0 ? terms.head + survived : terms.head + logAddExp(survived, terms.dropout - (r + x) * Math.log(alpha + tx));
    total += weight * value;
  }
  return total;
}

export interface BgNbdFit {
  readonly parameters: BgNbdParameters;
  readonly logLikelihood: number;
  readonly customers: number;
  readonly converged: boolean;
  readonly iterations: number;
}

/** Maximum-likelihood fit on log-parameters, from r = α = a = b = 1. */
export function fitBgNbd(histories: readonly PurchaseHistory[]): BgNbdFit {
  const compressed = compressHistories(histories);
  const fromLog = ([r, alpha, a, b]: number[]): BgNbdParameters => ({
    r: Math.exp(r!),
    alpha: Math.exp(alpha!),
    a: Math.exp(a!),
    b: Math.exp(b!),
  });
  const result = minimize((point) => -totalLogLikelihood(fromLog(point), compressed), [0, 0, 0, 0]);
  return {
    parameters: fromLog(result.point),
    logLikelihood: -result.value,
    customers: histories.length,
    converged: result.converged,
    iterations: result.iterations,
  };
}
