import { asCompressed, prepareHistories, sampleCustomers } from './bg-nbd.ts';
import type { HistoriesFit, HistoriesInput, PreparedHistories, PurchaseHistory, WeightedHistory } from './bg-nbd.ts';
import { minimize, PURCHASE_MODEL_EDGE, WARM_START_SAMPLE } from './optimize.ts';
import { hyp2f1, integrate, logAddExp, logGamma } from './special.ts';

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
 * ln 2F1(a, b; a + 1; z), the form the likelihood needs, with w = 1 - z passed exactly (z comes
 * near 1 when α and β are far apart). By Euler's transformation it equals
 * w^(1 - b) 2F1(1, a + 1 - b; a + 1; z): the power, which overflows for large b near z = 1, is
 * kept in log space, and the series' terms are all positive and shrink from the first one (the
 * direct series first grows for about b z terms, thousands when a fit pushes the parameters
 * toward infinity). For small b it needs about 40 / w terms. hyp2f1's continuation from 1 - z
 * is quicker near z = 1, but cancels catastrophically once a w is large (measured: 2F1(401.1,
 * 1.05; 402.1; 0.892) came out -1.6e11 against about 82); with a w at most 2 it agrees with the
 * series to 1e-7 wherever it does not overflow (measured over a from 0.6 to 3,000 and z from
 * 0.76 to 0.9999), and it overflows only for a large b, where the series ends in a few hundred
 * terms. So the series runs to the end when a w > 2, and otherwise hands over after
 * CONTINUATION_AFTER terms.
 */
const CONTINUATION_AFTER = 2_000;

function logHyp2f1OneAbove(a: number, b: number, z: number, w: number): number {
  const second = a + 1 - b;
  const handOver = z <= 0.75 || a * w > 2 ? Infinity : CONTINUATION_AFTER;
  let term = 1;
  let sum = 1;
  for (let k = 0; term > 1e-17 * sum; k += 1) {
    if (k === handOver) return Math.log(hyp2f1(a, b, a + 1, z));
    term *= ((second + k) * z) / (a + 1 + k);
    sum += term;
  }
  return (1 - b) * Math.log(w) + Math.log(sum);
}

/**
 * One hypergeometric term of A0 in the note, at (x, t) for t = t_x or T, in log space so that
 * neither power underflows: A0 = e^term(x, t_x) - e^term(x, T).
 */
function logA0Term({ r, alpha, s, beta }: ParetoNbdParameters, x: number, time: number): number {
  const power = r + s + x;
  // Without an array per call: the fit evaluates this for thousands of pairs per pass.
  const larger = alpha >= beta ? alpha : beta;
  const other = alpha >= beta ? beta : alpha;
  const second = alpha >= beta ? s + 1 : r + x;
  const z = (larger - other) / (larger + time);
  return logHyp2f1OneAbove(power, second, z, (other + time) / (larger + time)) - power * Math.log(larger + time);
}

/** log A0: the difference of the two terms (the first is the larger, as t_x <= T). */
function logA0(parameters: ParetoNbdParameters, { x, tx, T }: PurchaseHistory): number {
  const atTx = logA0Term(parameters, x, tx);
  const atT = logA0Term(parameters, x, T);
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
  const horizon =
    Math.abs(s - 1) < 1e-9 ? (beta + T) * Math.log1p(t / (beta + T)) : ((beta + T) / (s - 1)) * -Math.expm1((s - 1) * Math.log((beta + T) / (beta + T + t)));
  return rate * horizon;
}

/**
 * Given alive at T, λ ~ Gamma(r + x, α + T) and μ ~ Gamma(s, β + T), independent. The next
 * purchase comes at u with density E[λ e^(-λu)] if the customer is still there, which they are
 * with chance E[e^(-μu)] = ((β + T) / (β + T + u))^s. Substituting v = ((α + T) / (α + T + u))^(r + x),
 * the chance that the wait exceeds u, turns the density into dv: the chance of a purchase within
 * t is the integral of that staying chance over v from v(t) to 1. This returns the integrand.
 */
function stayingChanceAtWait({ r, alpha, s, beta }: ParetoNbdParameters, x: number, T: number) {
  const shape = r + x;
  return (v: number) => ((beta + T) / (beta + T + (alpha + T) * (v ** (-1 / shape) - 1))) ** s;
}

/** P(a purchase within the t after T | x, T, alive at T): it must come before the customer leaves. */
export function paretoNbdPurchaseChanceIfAlive(parameters: ParetoNbdParameters, x: number, T: number, t: number): number {
  if (t <= 0) return 0;
  const v = ((parameters.alpha + T) / (parameters.alpha + T + t)) ** (parameters.r + x);
  return integrate(stayingChanceAtWait(parameters, x, T), v, 1);
}

/**
 * The t after T by which a customer alive at T has an even chance of having bought again;
 * Infinity when they more likely leave first. Newton's method in v (see stayingChanceAtWait):
 * the chance is concave and decreasing in v, so from v = 1/2 (the answer if nobody left) the
 * steps fall monotonically onto the root.
 */
export function paretoNbdMedianWaitIfAlive(parameters: ParetoNbdParameters, x: number, T: number): number {
  const staying = stayingChanceAtWait(parameters, x, T);
  if (integrate(staying, 0, 1) < 0.5) return Infinity;
  let v = 0.5;
  for (let step = 0; step < 100; step += 1) {
    const excess = integrate(staying, v, 1) - 0.5;
    if (Math.abs(excess) < 1e-9) break;
    v = Math.max(Number.MIN_VALUE, v + excess / staying(v));
  }
  return (parameters.alpha + T) * (v ** (-1 / (parameters.r + x)) - 1);
}

/**
 * Histories laid out for repeated likelihood evaluation. The costly part of each history is two
 * hypergeometric terms, one at (x, t_x) and one at (x, T); customers share those pairs far more
 * than whole histories (a million simulated customers: 470,000 distinct histories, 12,000
 * pairs), so each pair is evaluated once per call.
 */
export interface ParetoPreparedHistories extends PreparedHistories {
  readonly pairX: Float64Array;
  readonly pairTime: Float64Array;
  readonly txPair: Uint32Array;
  readonly TPair: Uint32Array;
  /** The pairs that are some history's (x, T), with the indexes of that x and T in xs and Ts. */
  readonly atTPairs: Uint32Array;
  readonly atTPairX: Uint32Array;
  readonly atTPairT: Uint32Array;
}

export function prepareParetoHistories(histories: readonly WeightedHistory[]): ParetoPreparedHistories {
  const prepared = prepareHistories(histories);
  const pairs = new Map<number, Map<number, number>>();
  const pairX: number[] = [];
  const pairTime: number[] = [];
  const pairOf = (x: number, time: number) => {
    let byTime = pairs.get(x);
    if (!byTime) pairs.set(x, (byTime = new Map()));
    let pair = byTime.get(time);
    if (pair === undefined) {
      pair = pairX.length;
      byTime.set(time, pair);
      pairX.push(x);
      pairTime.push(time);
    }
    return pair;
  };
  const txPair = new Uint32Array(histories.length);
  const TPair = new Uint32Array(histories.length);
  const atT = new Map<number, number>();
  histories.forEach(({ x, tx, T }, index) => {
    txPair[index] = pairOf(x, tx);
    TPair[index] = pairOf(x, T);
    atT.set(TPair[index]!, index);
  });
  const atTPairs = Uint32Array.from(atT.keys());
  const atTPairX = Uint32Array.from(atT.values(), (index) => prepared.xIndex[index]!);
  const atTPairT = Uint32Array.from(atT.values(), (index) => prepared.TIndex[index]!);
  return { ...prepared, pairX: Float64Array.from(pairX), pairTime: Float64Array.from(pairTime), txPair, TPair, atTPairs, atTPairX, atTPairT };
}

/**
 * Per prepared history, the log-likelihood and P(alive) (equations 12 and 18 of the note, as
 * paretoNbdLogLikelihood and paretoNbdProbabilityAlive compute them one history at a time),
 * weighted into a total.
 */
export function paretoNbdEvaluate(parameters: ParetoNbdParameters, prepared: ParetoPreparedHistories, withAlive = false) {
  const { r, alpha, s, beta } = parameters;
  const { xs, Ts, xIndex, TIndex, weight, pairX, pairTime, txPair, TPair } = prepared;
  const term = new Float64Array(pairX.length);
  for (let pair = 0; pair < pairX.length; pair += 1) term[pair] = logA0Term(parameters, pairX[pair]!, pairTime[pair]!);
  const logAlpha = Math.log(alpha);
  const logBeta = Math.log(beta);
  const head = xs.map((x) => logGamma(r + x) - logGamma(r) + r * logAlpha + s * logBeta);
  const share = xs.map((x) => Math.log(s / (r + s + x)));
  const logAlphaT = Ts.map((T) => Math.log(alpha + T));
  const logBetaT = Ts.map((T) => Math.log(beta + T));
  if (!withAlive) return { logLikelihood: summedLogLikelihood(parameters, prepared, term, head, share, logAlphaT, logBetaT), alive: undefined };
  const alive = new Float64Array(weight.length);
  let total = 0;
  for (let index = 0; index < weight.length; index += 1) {
    const xi = xIndex[index]!;
    const ti = TIndex[index]!;
    const aliveThroughT = -(r + xs[xi]!) * logAlphaT[ti]! - s * logBetaT[ti]!;
    const atTx = term[txPair[index]!]!;
    const atT = term[TPair[index]!]!;
    // A0 = e^atTx - e^atT, 0 when t_x = T (the same pair).
    const leftBetween = txPair[index] === TPair[index] ? -Infinity : share[xi]! + atTx + Math.log(-Math.expm1(atT - atTx));
    total += weight[index]! * (head[xi]! + logAddExp(aliveThroughT, leftBetween));
    alive[index] = 1 / (1 + Math.exp(leftBetween - aliveThroughT));
  }
  return { logLikelihood: total, alive };
}

/**
 * The summed log-likelihood alone, as the fit needs it, with two transcendental functions per
 * history instead of four. A history's likelihood (over its head) is
 *   e^A + e^S (e^P - e^Q) = (e^A - e^(S + Q)) + e^(S + P),
 * with A alive through T, S the share term, P and Q the hypergeometric terms at t_x and T. The
 * bracket depends on x and T only, so it is taken once per (x, T) pair: K = ln(e^A - e^(S + Q)).
 * It is positive: e^(S + Q) is (with the head's factors) the chance of buying nothing after t_x
 * and leaving after T, a part of e^A, the chance of buying nothing after t_x and being there at
 * T. The subtraction costs digits only where the two come within rounding of each other, as the
 * per-history e^P - e^Q does where t_x comes near T, and adding e^(S + P), positive, costs none
 * (measured: within 2e-14, relative, of the per-history sum at 1,150 random points of the box on
 * the CDNOW sample and on the 500k ordinary lake's sample).
 */
function summedLogLikelihood(
  { r, s }: ParetoNbdParameters,
  prepared: ParetoPreparedHistories,
  term: Float64Array,
  head: Float64Array,
  share: Float64Array,
  logAlphaT: Float64Array,
  logBetaT: Float64Array,
): number {
  const { xs, xIndex, weight, txPair, TPair, atTPairs, atTPairX, atTPairT } = prepared;
  const aliveAtT = new Float64Array(term.length);
  const notLaterAtT = new Float64Array(term.length);
  for (let index = 0; index < atTPairs.length; index += 1) {
    const pair = atTPairs[index]!;
    const xi = atTPairX[index]!;
    const ti = atTPairT[index]!;
    const aliveThroughT = -(r + xs[xi]!) * logAlphaT[ti]! - s * logBetaT[ti]!;
    const later = share[xi]! + term[pair]! - aliveThroughT;
    aliveAtT[pair] = aliveThroughT;
    // Below 0 but for rounding, where e^(S + Q) is all of e^A: the bracket is nothing next to e^(S + P).
    notLaterAtT[pair] = later < 0 ? aliveThroughT + Math.log(-Math.expm1(later)) : -Infinity;
  }
  let total = 0;
  for (let index = 0; index < weight.length; index += 1) {
    const xi = xIndex[index]!;
    const atT = TPair[index]!;
    const atTx = txPair[index]!;
    // t_x = T (the same pair): alive through T is the whole of it.
    const history = atTx === atT ? aliveAtT[atT]! : logAddExp(notLaterAtT[atT]!, share[xi]! + term[atTx]!);
    total += weight[index]! * (head[xi]! + history);
  }
  return total;
}

/** P(alive) of each history, its hypergeometric terms shared with the others'. */
export function paretoNbdProbabilitiesAlive(parameters: ParetoNbdParameters, histories: readonly PurchaseHistory[]): Float64Array {
  const prepared = prepareParetoHistories(histories.map(({ x, tx, T }) => ({ x, tx, T, weight: 1 })));
  return paretoNbdEvaluate(parameters, prepared, true).alive!;
}

export type ParetoNbdFit = HistoriesFit<ParetoNbdParameters>;

/**
 * Maximum-likelihood fit on the log-parameters, by Nelder-Mead from 1, 1, 1, 1 (there is no
 * analytic gradient). Above WARM_START_SAMPLE customers it fits an even sample of that many; the
 * log-likelihood is then that of the sample's parameters over every customer, so that it
 * compares with the other models' likelihoods (it lies a little below their maximum).
 */
export function fitParetoNbd(input: HistoriesInput): ParetoNbdFit {
  const fromLog = ([r, alpha, s, beta]: readonly number[]): ParetoNbdParameters => ({
    r: Math.exp(r!),
    alpha: Math.exp(alpha!),
    s: Math.exp(s!),
    beta: Math.exp(beta!),
  });
  const histories = asCompressed(input);
  const sampled = histories.customers > WARM_START_SAMPLE;
  const prepared = prepareParetoHistories((sampled ? sampleCustomers(histories, WARM_START_SAMPLE) : histories).compressed);
  const result = minimize((point) => -paretoNbdEvaluate(fromLog(point), prepared).logLikelihood, [0, 0, 0, 0], { edge: PURCHASE_MODEL_EDGE });
  const parameters = fromLog(result.point);
  return {
    parameters,
    logLikelihood: sampled ? paretoNbdEvaluate(parameters, prepareParetoHistories(histories.compressed)).logLikelihood : -result.value,
    customers: histories.customers,
    converged: result.converged,
    iterations: result.iterations,
    atBound: result.atBound ?? false,
    sampled,
  };
}
