import { digamma, logGamma } from './special.ts';
import { edgeSidesOf, GRADIENT_WARM_START_SAMPLE, minimize, polish, strideSample } from './optimize.ts';

/**
 * Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013):
 * a customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers.
 * Fitted on repeat buyers only (x > 0) with their mean repeat-transaction value.
 */
export interface GammaGammaParameters {
  readonly p: number;
  readonly q: number;
  readonly v: number;
}

export interface SpendHistory {
  /** Number of repeat transactions averaged. */
  readonly x: number;
  /** Their mean value. */
  readonly meanSpend: number;
}

/**
 * E[M | x, mean spend]: for x = 0 this is the population mean p·γ / (q - 1). Null where the
 * posterior mean does not exist (p·x + q <= 1), rather than a negative or infinite value.
 */
export function conditionalExpectedSpend({ p, q, v }: GammaGammaParameters, { x, meanSpend }: SpendHistory): number | null {
  const denominator = p * x + q - 1;
  return denominator > 0 ? (p * (v + x * meanSpend)) / denominator : null;
}

export interface GammaGammaFit {
  readonly parameters: GammaGammaParameters;
  readonly logLikelihood: number;
  readonly customers: number;
  readonly converged: boolean;
  readonly iterations: number;
  /** A parameter went to the edge of the search box: spend does not vary the way the model assumes. */
  readonly atBound: boolean;
}

/**
 * Maximum-likelihood fit on the repeat buyers with positive mean spend; on large data, a fit
 * on a sample first, then BFGS from there (see fitBgNbd).
 */
export function fitGammaGamma(histories: readonly SpendHistory[]): GammaGammaFit {
  const usable = histories.filter((history) => history.x > 0 && history.meanSpend > 0);
  const fromLog = ([p, q, v]: number[]): GammaGammaParameters => ({ p: Math.exp(p!), q: Math.exp(q!), v: Math.exp(v!) });
  // Terms that depend only on x are computed once per distinct x and evaluation (x is a whole
  // number of days, so an array indexes them); ln m and x m once for all.
  const xs = Int32Array.from(usable, (history) => history.x);
  const logSpend = Float64Array.from(usable, (history) => Math.log(history.meanSpend));
  const totalSpend = Float64Array.from(usable, (history) => history.x * history.meanSpend);
  const distinctXs = [...new Set(xs)];
  const headByX = new Float64Array(distinctXs.reduce((high, x) => Math.max(high, x), 0) + 1);
  // Per distinct x, what the gradient needs besides the per-customer sums: ln x, and the sums of
  // ln m over that x's customers.
  const logSpendByX = new Float64Array(headByX.length);
  const countByX = new Float64Array(headByX.length);
  for (let index = 0; index < xs.length; index += 1) {
    logSpendByX[xs[index]!]! += logSpend[index]!;
    countByX[xs[index]!]! += 1;
  }
  // The negative log-likelihood and its gradient in (ln p, ln q, ln v), in one pass.
  const negative = (point: number[]) => {
    const { p, q, v } = fromLog(point);
    const shared = -logGamma(q) + q * Math.log(v);
    for (const x of distinctXs) headByX[x] = logGamma(p * x + q) - logGamma(p * x) + p * x * Math.log(x) + shared;
    let total = 0;
    // Per customer: x ln(x m + v), ln(x m + v) and (p x + q) / (x m + v).
    let dpCustomers = 0;
    let dqCustomers = 0;
    let dv = 0;
    for (let index = 0; index < xs.length; index += 1) {
      const x = xs[index]!;
      const logTotal = Math.log(totalSpend[index]! + v);
      total += headByX[x]! + (p * x - 1) * logSpend[index]! - (p * x + q) * logTotal;
      dpCustomers -= x * logTotal;
      dqCustomers -= logTotal;
      dv -= (p * x + q) / (totalSpend[index]! + v);
    }
    let dp = dpCustomers;
    let dq = dqCustomers;
    const psiQ = digamma(q);
    for (const x of distinctXs) {
      const count = countByX[x]!;
      const psiPxQ = digamma(p * x + q);
      dp += count * x * (psiPxQ - digamma(p * x) + Math.log(x)) + x * logSpendByX[x]!;
      dq += count * (psiPxQ - psiQ + Math.log(v));
      dv += (count * q) / v;
    }
    return { value: -total, gradient: [-dp * p, -dq * q, -dv * v] };
  };
  const sample = usable.length > 2 * GRADIENT_WARM_START_SAMPLE ? fitGammaGamma(strideSample(usable, GRADIENT_WARM_START_SAMPLE)) : undefined;
  const warm = sample?.parameters;
  const start = warm ? [warm.p, warm.q, warm.v].map(Math.log) : [0, 0, 0];
  // Only a sample's fit on the box's bound counts as gone to the edge here: v is in money, and
  // e^9 is not past every shop's spend.
  const result = sample
    ? polish(negative, start, sample.atBound ? edgeSidesOf(start, sample, Infinity) : undefined)
    : minimize((point) => negative(point).value, start);
  return {
    parameters: fromLog(result.point),
    logLikelihood: -result.value,
    customers: usable.length,
    converged: result.converged,
    iterations: result.iterations,
    atBound: result.atBound ?? false,
  };
}
