import { logGamma } from './special.ts';
import { minimize } from './optimize.ts';

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

/** Log density of the mean spend given x (the likelihood of one customer). */
export function gammaGammaLogLikelihood({ p, q, v }: GammaGammaParameters, { x, meanSpend }: SpendHistory): number {
  return (
    logGamma(p * x + q) -
    logGamma(p * x) -
    logGamma(q) +
    q * Math.log(v) +
    (p * x - 1) * Math.log(meanSpend) +
    p * x * Math.log(x) -
    (p * x + q) * Math.log(x * meanSpend + v)
  );
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

/** Maximum-likelihood fit on the repeat buyers with positive mean spend. */
export function fitGammaGamma(histories: readonly SpendHistory[]): GammaGammaFit {
  const usable = histories.filter((history) => history.x > 0 && history.meanSpend > 0);
  const fromLog = ([p, q, v]: number[]): GammaGammaParameters => ({ p: Math.exp(p!), q: Math.exp(q!), v: Math.exp(v!) });
  // Terms that depend only on x are computed once per distinct x and evaluation; ln m and
  // x m once for all.
  const xs = usable.map((history) => history.x);
  const logSpend = usable.map((history) => Math.log(history.meanSpend));
  const totalSpend = usable.map((history) => history.x * history.meanSpend);
  const negative = (point: number[]) => {
    const { p, q, v } = fromLog(point);
    const byX = new Map<number, number>();
    const shared = -logGamma(q) + q * Math.log(v);
    let total = 0;
    for (let index = 0; index < xs.length; index += 1) {
      const x = xs[index]!;
      let head = byX.get(x);
      if (head === undefined) {
        head = logGamma(p * x + q) - logGamma(p * x) + p * x * Math.log(x) + shared;
        byX.set(x, head);
      }
      total += head + (p * x - 1) * logSpend[index]! - (p * x + q) * Math.log(totalSpend[index]! + v);
    }
    return -total;
  };
  const result = minimize(negative, [0, 0, 0]);
  return {
    parameters: fromLog(result.point),
    logLikelihood: -result.value,
    customers: usable.length,
    converged: result.converged,
    iterations: result.iterations,
    atBound: result.atBound ?? false,
  };
}
