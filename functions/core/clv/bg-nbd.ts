import { digamma, hyp2f1, logAddExp, logBeta, logGamma } from './special.ts';
import { edgeSidesOf, GRADIENT_WARM_START_SAMPLE, minimize, polish, PURCHASE_MODEL_EDGE } from './optimize.ts';

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
  return 1 / (1 + (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x));
}

/**
 * The formulas below divide by a - 1, and at a = 1 their numerators vanish too: near it they
 * are averaged on both sides, which is exact to O(ε²) for these smooth functions.
 */
function aroundAEqualsOne(parameters: BgNbdParameters, evaluate: (parameters: BgNbdParameters) => number): number {
  const epsilon = 1e-3;
  if (Math.abs(parameters.a - 1) >= epsilon) return evaluate(parameters);
  return (evaluate({ ...parameters, a: 1 - epsilon }) + evaluate({ ...parameters, a: 1 + epsilon })) / 2;
}

/** E[X(t)]: purchases a new customer is expected to make in their first t. */
export function expectedPurchasesNewCustomer(parameters: BgNbdParameters, t: number): number {
  if (t <= 0) return 0;
  return aroundAEqualsOne(parameters, ({ r, alpha, a, b }) => {
    const z = t / (alpha + t);
    return ((a + b - 1) / (a - 1)) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z));
  });
}

/**
 * E[Y(t) | x, T, alive]: purchases expected in the t after T from a customer still alive. It
 * does not depend on t_x, so customers with the same x and T share it; times P(alive) it is
 * E[Y(t) | x, t_x, T] (equation 10 of the paper).
 */
export function expectedPurchasesIfAlive(parameters: BgNbdParameters, x: number, T: number, t: number): number {
  if (t <= 0) return 0;
  return aroundAEqualsOne(parameters, ({ r, alpha, a, b }) => {
    const z = t / (alpha + T + t);
    const hypergeometric = hyp2f1(r + x, b + x, a + b + x - 1, z);
    return ((a + b + x - 1) / (a - 1)) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hypergeometric);
  });
}

/** E[Y(t) | x, t_x, T]: purchases expected in the t after T (equation 10 of the paper). */
export function conditionalExpectedPurchases(parameters: BgNbdParameters, history: PurchaseHistory, t: number): number {
  if (t <= 0) return 0;
  return expectedPurchasesIfAlive(parameters, history.x, history.T, t) * probabilityAlive(parameters, history);
}

/** Histories compressed to unique (x, t_x, T) with a count: a million customers fit in seconds. */
export interface WeightedHistory extends PurchaseHistory {
  readonly weight: number;
}

export function compressHistories(histories: readonly PurchaseHistory[]): WeightedHistory[] {
  // Nested maps on the numbers themselves: string keys for a million histories cost seconds.
  const byX = new Map<number, Map<number, Map<number, { x: number; tx: number; T: number; weight: number }>>>();
  const compressed: { x: number; tx: number; T: number; weight: number }[] = [];
  for (const { x, tx, T } of histories) {
    let byT = byX.get(x);
    if (!byT) byX.set(x, (byT = new Map()));
    let byTx = byT.get(T);
    if (!byTx) byT.set(T, (byTx = new Map()));
    const found = byTx.get(tx);
    if (found) found.weight += 1;
    else {
      const entry = { x, tx, T, weight: 1 };
      byTx.set(tx, entry);
      compressed.push(entry);
    }
  }
  return compressed;
}

/** Histories counted once per distinct (x, t_x, T), and how many customers they stand for. */
export interface CompressedHistories {
  readonly compressed: readonly WeightedHistory[];
  readonly customers: number;
}

/** What the fits take: one history per customer, or histories already compressed (by the caller, once for every model). */
export type HistoriesInput = readonly PurchaseHistory[] | CompressedHistories;

export function asCompressed(input: HistoriesInput): CompressedHistories {
  return Array.isArray(input) ? { compressed: compressHistories(input), customers: input.length } : (input as CompressedHistories);
}

/**
 * An even sample of `size` customers (all of them when there are no more): customer k of n is
 * picked when floor((k + 1) * size / n) steps up past floor(k * size / n), counted through the compressed histories in their
 * order (for one history per customer, strideSample's sample).
 */
export function sampleCustomers(histories: CompressedHistories, size: number): CompressedHistories {
  if (histories.customers <= size) return histories;
  const picksBefore = (customer: number) => Math.floor((customer * size) / histories.customers);
  const sample: WeightedHistory[] = [];
  let before = 0;
  let customers = 0;
  for (const { x, tx, T, weight } of histories.compressed) {
    // Customers before .. before + weight - 1 are these.
    const picked = picksBefore(before + weight) - picksBefore(before);
    if (picked > 0) {
      sample.push({ x, tx, T, weight: picked });
      customers += picked;
    }
    before += weight;
  }
  return { compressed: sample, customers };
}

/**
 * Histories laid out for repeated likelihood evaluation: each distinct x, t_x and T once, and
 * per history only indexes into those lists. Purchase times come in whole days, so a million
 * customers have at most a few thousand distinct times.
 */
export interface PreparedHistories {
  readonly xs: Float64Array;
  readonly txs: Float64Array;
  readonly Ts: Float64Array;
  readonly xIndex: Uint32Array;
  readonly txIndex: Uint32Array;
  readonly TIndex: Uint32Array;
  readonly weight: Float64Array;
}

export function prepareHistories(histories: readonly WeightedHistory[]): PreparedHistories {
  const indexer = () => {
    const positions = new Map<number, number>();
    const values: number[] = [];
    return {
      values,
      of(value: number) {
        let position = positions.get(value);
        if (position === undefined) {
          position = values.length;
          positions.set(value, position);
          values.push(value);
        }
        return position;
      },
    };
  };
  const x = indexer();
  const tx = indexer();
  const T = indexer();
  const xIndex = new Uint32Array(histories.length);
  const txIndex = new Uint32Array(histories.length);
  const TIndex = new Uint32Array(histories.length);
  const weight = new Float64Array(histories.length);
  histories.forEach((history, index) => {
    xIndex[index] = x.of(history.x);
    txIndex[index] = tx.of(history.tx);
    TIndex[index] = T.of(history.T);
    weight[index] = history.weight;
  });
  return { xs: Float64Array.from(x.values), txs: Float64Array.from(tx.values), Ts: Float64Array.from(T.values), xIndex, txIndex, TIndex, weight };
}

/**
 * BG/NBD and MBG/NBD share the shape of their likelihood: per history,
 *   H(x) + ln(e^(-(r + x) ln(α + T)) + e^(K(x) - (r + x) ln(α + t_x)))
 * alive through T, or gone at the last purchase. For BG/NBD, H(x) = ln Γ(r + x) - ln Γ(r) +
 * r ln α + ln B(a, b + x) - ln B(a, b) and K(x) = ln a - ln(b + x - 1), with no drop-out term at
 * x = 0 (the first purchase is no chance to leave). MBG/NBD adds ln(b + x) - ln(a + b + x) to
 * H(x) and has K(x) = ln a - ln(b + x) for every x, the first purchase included.
 */
export type BetaGeometricVariant = 'bg_nbd' | 'mbg_nbd';

/**
 * The summed log-likelihood (the value of logLikelihoodWithGradient: one implementation, the
 * gradient's few divisions per history are cheap next to its exp and log1p).
 */
export function totalLogLikelihood(
  parameters: BgNbdParameters,
  histories: readonly WeightedHistory[] | PreparedHistories,
  variant: BetaGeometricVariant = 'bg_nbd',
): number {
  const prepared = Array.isArray(histories) ? prepareHistories(histories as readonly WeightedHistory[]) : (histories as PreparedHistories);
  return logLikelihoodWithGradient(parameters, prepared, variant).value;
}

/**
 * The summed log-likelihood and its gradient with respect to the log-parameters (ln r, ln α,
 * ln a, ln b), in one pass. Terms that depend only on x (the gamma and beta functions) and the
 * logarithms of alpha + t are computed once per distinct value, not once per history: the fits
 * call this hundreds of times.
 */
export function logLikelihoodWithGradient(
  parameters: BgNbdParameters,
  prepared: PreparedHistories,
  variant: BetaGeometricVariant = 'bg_nbd',
): { value: number; gradient: number[] } {
  const { r, alpha, a, b } = parameters;
  const { xs, txs, Ts, xIndex, TIndex, txIndex, weight } = prepared;
  const modified = variant === 'mbg_nbd';
  // BG/NBD: no drop-out at x = 0, and K(x) divides by b + x - 1; MBG/NBD: by b + x.
  const canDropOut = (x: number) => modified || x > 0;
  const dropoutShift = modified ? 0 : -1;
  const logAlpha = Math.log(alpha);
  const shared = logBeta(a, b) + logGamma(r);
  const head = xs.map((x) => logGamma(r + x) + r * logAlpha + logBeta(a, b + x) - shared + (modified ? Math.log(b + x) - Math.log(a + b + x) : 0));
  const dropout = xs.map((x) => (canDropOut(x) ? Math.log(a) - Math.log(b + x + dropoutShift) : 0));
  const logT = Ts.map((T) => Math.log(alpha + T));
  const inverseT = Ts.map((T) => 1 / (alpha + T));
  const logTx = txs.map((tx) => Math.log(alpha + tx));
  const inverseTx = txs.map((tx) => 1 / (alpha + tx));
  // Per distinct x: total weight and, of the drop-out share w, its weighted sum (for a and b).
  const weightByX = new Float64Array(xs.length);
  const dropoutByX = new Float64Array(xs.length);
  let value = 0;
  let dr = 0;
  let dAlpha = 0;
  for (let index = 0; index < weight.length; index += 1) {
    const xi = xIndex[index]!;
    const x = xs[xi]!;
    const w = weight[index]!;
    const ti = TIndex[index]!;
    const survived = -(r + x) * logT[ti]!;
    weightByX[xi]! += w;
    if (!canDropOut(x)) {
      value += w * (head[xi]! + survived);
      dr -= w * logT[ti]!;
      dAlpha -= w * (r + x) * inverseT[ti]!;
      continue;
    }
    const txi = txIndex[index]!;
    const droppedOut = dropout[xi]! - (r + x) * logTx[txi]!;
    let share: number;
    if (survived >= droppedOut) {
      const ratio = Math.exp(droppedOut - survived);
      value += w * (head[xi]! + survived + Math.log1p(ratio));
      share = ratio / (1 + ratio);
    } else {
      const ratio = Math.exp(survived - droppedOut);
      value += w * (head[xi]! + droppedOut + Math.log1p(ratio));
      share = 1 / (1 + ratio);
    }
    dr -= w * ((1 - share) * logT[ti]! + share * logTx[txi]!);
    dAlpha -= w * (r + x) * ((1 - share) * inverseT[ti]! + share * inverseTx[txi]!);
    dropoutByX[xi]! += w * share;
  }
  let da = 0;
  let db = 0;
  const psiR = digamma(r);
  const psiAB = digamma(a + b);
  const psiB = digamma(b);
  for (let xi = 0; xi < xs.length; xi += 1) {
    const x = xs[xi]!;
    const total = weightByX[xi]!;
    if (total === 0) continue;
    const psiABX = digamma(a + b + x);
    dr += total * (digamma(r + x) - psiR + logAlpha);
    dAlpha += (total * r) / alpha;
    da += total * (psiAB - psiABX);
    db += total * (digamma(b + x) - psiABX - psiB + psiAB);
    if (modified) {
      da -= total / (a + b + x);
      db += total * (1 / (b + x) - 1 / (a + b + x));
    }
    if (canDropOut(x)) {
      da += dropoutByX[xi]! / a;
      db -= dropoutByX[xi]! / (b + x + dropoutShift);
    }
  }
  return { value, gradient: [dr * r, dAlpha * alpha, da * a, db * b] };
}

/** A purchase model fitted by maximum likelihood on customer histories. */
export interface HistoriesFit<Parameters> {
  readonly parameters: Parameters;
  readonly logLikelihood: number;
  readonly customers: number;
  readonly converged: boolean;
  readonly iterations: number;
  /** A parameter went to the edge of the search box: the data lacks the heterogeneity or drop-out the model assumes. */
  readonly atBound: boolean;
  /** The fit is that of a sample (Pareto/NBD on many customers); false for the models polished on every customer. */
  readonly sampled: boolean;
}

export type BgNbdFit = HistoriesFit<BgNbdParameters>;

/**
 * Maximum-likelihood fit on log-parameters: Nelder-Mead from r = α = a = b = 1; on large data,
 * a fit on a sample first, then BFGS with the analytic gradient from there on all histories.
 */
export function fitBgNbd(histories: HistoriesInput): BgNbdFit {
  return fitBetaGeometric(histories, 'bg_nbd');
}

/** The fit of fitBgNbd, for either model of the shared likelihood. */
export function fitBetaGeometric(input: HistoriesInput, variant: BetaGeometricVariant): BgNbdFit {
  const histories = asCompressed(input);
  const compressed = prepareHistories(histories.compressed);
  const fromLog = ([r, alpha, a, b]: number[]): BgNbdParameters => ({
    r: Math.exp(r!),
    alpha: Math.exp(alpha!),
    a: Math.exp(a!),
    b: Math.exp(b!),
  });
  const sample =
    histories.customers > 2 * GRADIENT_WARM_START_SAMPLE ? fitBetaGeometric(sampleCustomers(histories, GRADIENT_WARM_START_SAMPLE), variant) : undefined;
  const warm = sample?.parameters;
  const start = warm ? [warm.r, warm.alpha, warm.a, warm.b].map(Math.log) : [0, 0, 0, 0];
  const negative = (point: number[]) => {
    const { value, gradient } = logLikelihoodWithGradient(fromLog(point), compressed, variant);
    return { value: -value, gradient: gradient.map((component) => -component) };
  };
  const result = sample
    ? polish(negative, start, edgeSidesOf(start, sample, PURCHASE_MODEL_EDGE), { edge: PURCHASE_MODEL_EDGE })
    : minimize((point) => -totalLogLikelihood(fromLog(point), compressed, variant), start, { edge: PURCHASE_MODEL_EDGE });
  return {
    parameters: fromLog(result.point),
    logLikelihood: -result.value,
    customers: histories.customers,
    converged: result.converged,
    iterations: result.iterations,
    atBound: result.atBound ?? false,
    // A sample only gives the starting point: the fit is polished on every customer.
    sampled: false,
  };
}
