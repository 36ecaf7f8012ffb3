/**
 * Nelder-Mead minimization. The CLV likelihoods have four (BG/NBD) or three (Gamma-Gamma)
 * parameters, fitted on their logarithms so the simplex never leaves the valid region; a
 * derivative-free method is robust there and needs no gradient code. Restarted from the best
 * point until a restart no longer improves, which guards against a collapsed simplex.
 */
export interface MinimizeResult {
  readonly point: number[];
  readonly value: number;
  readonly iterations: number;
  /** The simplex shrank to a point inside the box. */
  readonly converged: boolean;
  /** The best point lies on the box: the data pushes a parameter to zero or infinity. */
  readonly atBound?: boolean;
}

export interface MinimizeOptions {
  readonly maxIterations?: number;
  /**
   * Coordinates are kept within ±bound (the fits use log-parameters, so ±10 spans 4.5e-5 to
   * 22,026). Data that the model does not describe (no heterogeneity, no drop-out) pushes the
   * optimum to infinity; the box stops the search there instead of crawling along a ridge.
   */
  readonly bound?: number;
  /** Stop when the simplex's values differ by less than this (relative)... */
  readonly tolerance?: number;
  /** ...and its points by less than this, in each coordinate (log-parameters: 1e-5 relative). */
  readonly pointTolerance?: number;
  readonly initialStep?: number;
  readonly maxRestarts?: number;
  /**
   * A search whose best point lies beyond this in some coordinate, and that improves by less
   * than 1e-6 (relative) in 100 iterations, is crawling after an optimum at infinity: it stops
   * there, unconverged, instead of crawling on to the box. Off by default (the box itself);
   * the purchase models set 9, whose parameters in weeks have no business beyond e^±9.
   */
  readonly edge?: number;
}

/** Iterations between checks for a search crawling toward the edge of the box. */
const CRAWL_CHECK = 100;

function nelderMead(
  f: (point: number[]) => number,
  start: number[],
  step: number,
  maxIterations: number,
  tolerance: number,
  pointTolerance: number,
  edge: number,
) {
  const dimension = start.length;
  let simplex = [start, ...start.map((_, index) => start.map((value, j) => (j === index ? value + step : value)))];
  let values = simplex.map((point) => f(point));
  let iterations = 0;
  let converged = false;
  let valueAtCheck = Infinity;
  for (; iterations < maxIterations; iterations += 1) {
    const order = values.map((_, index) => index).sort((i, j) => values[i]! - values[j]!);
    simplex = order.map((index) => simplex[index]!);
    values = order.map((index) => values[index]!);
    if (iterations % CRAWL_CHECK === 0) {
      // Out toward the edge and barely better than CRAWL_CHECK iterations ago: the optimum is at
      // infinity, and the rest of the way would only crawl (the caller reports the edge).
      const crawling = simplex[0]!.some((value) => Math.abs(value) > edge) && valueAtCheck - values[0]! < 1e-6 * Math.abs(values[0]!);
      if (crawling) break;
      valueAtCheck = values[0]!;
    }
    const spread = Math.abs(values[dimension]! - values[0]!);
    const size = Math.max(...simplex.slice(1).map((point) => Math.max(...point.map((value, j) => Math.abs(value - simplex[0]![j]!)))));
    if (spread <= tolerance * (Math.abs(values[0]!) + tolerance) && size <= pointTolerance) {
      converged = true;
      break;
    }
    const centroid = start.map((_, j) => simplex.slice(0, dimension).reduce((sum, point) => sum + point[j]!, 0) / dimension);
    const worst = simplex[dimension]!;
    const along = (factor: number) => centroid.map((value, j) => value + factor * (worst[j]! - value));
    const reflected = along(-1);
    const reflectedValue = f(reflected);
    if (reflectedValue < values[0]!) {
      const expanded = along(-2);
      const expandedValue = f(expanded);
      [simplex[dimension], values[dimension]] = expandedValue < reflectedValue ? [expanded, expandedValue] : [reflected, reflectedValue];
    } else if (reflectedValue < values[dimension - 1]!) {
      simplex[dimension] = reflected;
      values[dimension] = reflectedValue;
    } else {
      const outside = reflectedValue < values[dimension]!;
      const contracted = along(outside ? -0.5 : 0.5);
      const contractedValue = f(contracted);
      if (contractedValue < (outside ? reflectedValue : values[dimension]!)) {
        simplex[dimension] = contracted;
        values[dimension] = contractedValue;
      } else {
        const best = simplex[0]!;
        simplex = simplex.map((point, index) => (index === 0 ? point : point.map((value, j) => best[j]! + 0.5 * (value - best[j]!))));
        values = simplex.map((point, index) => (index === 0 ? values[0]! : f(point)));
      }
    }
  }
  const bestIndex = values.indexOf(Math.min(...values));
  return { point: simplex[bestIndex]!, value: values[bestIndex]!, iterations, converged };
}

/** Minimizes f from `start`. Non-finite values of f count as +Infinity. */
export function minimize(objective: (point: number[]) => number, start: number[], options: MinimizeOptions = {}): MinimizeResult {
  const bound = options.bound ?? 10;
  const f = (point: number[]) => {
    if (point.some((value) => Math.abs(value) > bound)) return Infinity;
    const value = objective(point);
    return Number.isFinite(value) ? value : Infinity;
  };
  const maxIterations = options.maxIterations ?? 2000;
  const tolerance = options.tolerance ?? 1e-10;
  const pointTolerance = options.pointTolerance ?? 1e-5;
  const edge = options.edge ?? bound;
  let best = nelderMead(f, start, options.initialStep ?? 0.5, maxIterations, tolerance, pointTolerance, edge);
  let iterations = best.iterations;
  for (let restart = 0; restart < (options.maxRestarts ?? 3); restart += 1) {
    // A run that stopped unconverged out toward the box was crawling after an optimum at
    // infinity (a likelihood that keeps rising ever more slowly): restarting only crawls on.
    if (!best.converged && best.point.some((value) => Math.abs(value) > edge)) break;
    const next = nelderMead(f, best.point, 0.05, maxIterations, tolerance, pointTolerance, edge);
    iterations += next.iterations;
    const improved = next.value < best.value - 1e-10 * Math.abs(best.value);
    best = next.value <= best.value ? next : best;
    if (!improved) break;
  }
  const atBound = best.point.some((value) => Math.abs(value) > bound - 1e-3);
  return { ...best, iterations, converged: best.converged && !atBound, atBound };
}

/**
 * The purchase models' parameters are in weeks: beyond e^±9 (8,103 or 1/8,103) one has gone
 * toward zero or infinity (no drop-out, or no difference between customers, in the data).
 */
export const PURCHASE_MODEL_EDGE = 9;

/**
 * Above this many customers, Pareto/NBD (no analytic gradient) keeps the fit of an even sample
 * of this many of them: its fit costs in proportion to the customers, and 25,000 pin its four
 * parameters down well.
 */
export const WARM_START_SAMPLE = 25_000;

/**
 * Above twice this many customers (or repeat buyers), a model with an analytic gradient
 * (BG/NBD, MBG/NBD, Gamma-Gamma) starts from a fit on this many of them; its fit on every
 * customer is polished with BFGS from the sample's: the result is the maximum on all of them
 * whatever the sample (or, when the data push it past the search's edge, a point on that edge,
 * unconverged), so a smaller sample only saves Nelder-Mead's many passes.
 */
export const GRADIENT_WARM_START_SAMPLE = 5_000;

/**
 * An even sample of `size` items (all of them when there are no more): item k of n is picked
 * when floor((k + 1) * size / n) steps up past floor(k * size / n). Deterministic, and it spans the whole input.
 */
export function strideSample<T>(items: readonly T[], size: number): T[] {
  if (items.length <= size) return [...items];
  return Array.from({ length: size }, (_, pick) => items[Math.ceil(((pick + 1) * items.length) / size) - 1]!);
}

/** An objective that also returns its gradient. */
export type WithGradient = (point: number[]) => { value: number; gradient: number[] };

/**
 * BFGS with a backtracking (Armijo) line search, for smooth objectives whose gradient is cheap
 * next to their value (the BG/NBD likelihood: one pass gives both). Points outside ±bound
 * count as +Infinity, so the search stays in the same box as Nelder-Mead's. Converged when an
 * iteration changes the value by less than `tolerance` (relative) and the point by less than
 * `pointTolerance`, or the gradient vanishes.
 */
export function minimizeWithGradient(objective: WithGradient, start: number[], options: MinimizeOptions = {}): MinimizeResult {
  const bound = options.bound ?? 10;
  const tolerance = options.tolerance ?? 1e-10;
  const pointTolerance = options.pointTolerance ?? 1e-5;
  const maxIterations = options.maxIterations ?? 500;
  const dimension = start.length;
  const evaluate = (point: number[]) => {
    if (point.some((value) => Math.abs(value) > bound)) return { value: Infinity, gradient: point.map(() => 0) };
    const result = objective(point);
    return Number.isFinite(result.value) && result.gradient.every(Number.isFinite) ? result : { value: Infinity, gradient: point.map(() => 0) };
  };
  const dot = (u: number[], v: number[]) => u.reduce((sum, value, index) => sum + value * v[index]!, 0);
  // The inverse Hessian estimate, starting from the identity.
  let inverse: number[][] = Array.from({ length: dimension }, (_, row) => Array.from({ length: dimension }, (_, column) => (row === column ? 1 : 0)));
  let point = start.slice();
  let current = evaluate(point);
  if (!Number.isFinite(current.value)) return { point, value: Infinity, iterations: 0, converged: false, atBound: false };
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations += 1) {
    if (Math.max(...current.gradient.map(Math.abs)) <= 1e-9 * Math.max(1, Math.abs(current.value))) {
      converged = true;
      break;
    }
    let direction = inverse.map((row) => -dot(row, current.gradient));
    let slope = dot(direction, current.gradient);
    let steepest = iterations === 0;
    if (!(slope < 0)) {
      steepest = true;
      // Not a descent direction (the estimate went bad): restart from steepest descent.
      inverse = inverse.map((row, index) => row.map((_, column) => (index === column ? 1 : 0)));
      direction = current.gradient.map((value) => -value);
      slope = dot(direction, current.gradient);
    }
    // Along the raw gradient a step moves at most 1 in each log-parameter; along a BFGS
    // direction the curvature estimate sets the length.
    let step = steepest ? Math.min(1, 1 / Math.max(...direction.map(Math.abs))) : 1;
    let next = current;
    let candidate = point;
    for (let trial = 0; trial < 60; trial += 1) {
      candidate = point.map((value, index) => value + step * direction[index]!);
      next = evaluate(candidate);
      if (next.value <= current.value + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(next.value <= current.value)) break;
    const moved = candidate.map((value, index) => value - point[index]!);
    const change = current.value - next.value;
    const gradientChange = next.gradient.map((value, index) => value - current.gradient[index]!);
    const curvature = dot(moved, gradientChange);
    if (curvature > 1e-12) {
      // The BFGS update of the inverse Hessian.
      const times = inverse.map((row) => dot(row, gradientChange));
      const scale = (1 + dot(gradientChange, times) / curvature) / curvature;
      inverse = inverse.map((row, i) =>
        row.map((value, j) => value + scale * moved[i]! * moved[j]! - (times[i]! * moved[j]! + moved[i]! * times[j]!) / curvature),
      );
    }
    point = candidate;
    current = next;
    if (change <= tolerance * Math.abs(current.value) && Math.max(...moved.map(Math.abs)) <= pointTolerance) {
      converged = true;
      iterations += 1;
      break;
    }
  }
  const atBound = point.some((value) => Math.abs(value) > bound - 1e-3);
  return { point, value: current.value, iterations, converged: converged && !atBound, atBound };
}

/**
 * Minimizes from a point already near the optimum (a fit on a sample): BFGS, which gets there
 * in a few dozen evaluations, and Nelder-Mead from the same point if BFGS does not converge
 * inside the box. Cold starts use Nelder-Mead alone: from far away BFGS can follow the
 * gradient into the box's edge on these likelihoods (measured: Gamma-Gamma on CDNOW). When
 * the sample's fit already went to the edge, the data push the optimum there, and BFGS ending
 * on the bound is the answer if it is on the side the sample went (`edgeSides`: per
 * coordinate, +1 or -1 where the sample went to that side, 0 where it stayed inside; measured
 * on data without heterogeneity: the same point as Nelder-Mead's to 2e-8 in log-likelihood,
 * 15 times sooner). Such a fit is reported unconverged.
 */
export function polish(objective: WithGradient, start: number[], edgeSides?: readonly number[], options: Pick<MinimizeOptions, 'edge'> = {}): MinimizeResult {
  // minimizeWithGradient searches its default box, ±10.
  const polished = minimizeWithGradient(objective, start);
  if (polished.converged || (polished.atBound && edgeSides && onSidesOf(polished.point, edgeSides, 10))) return polished;
  // With the cold search's edge: past it, a crawl toward infinity stops as it would have there.
  const fallback = minimize((point) => objective(point).value, start, { initialStep: 0.1, ...options });
  return { ...fallback, iterations: polished.iterations + fallback.iterations };
}

/** Every coordinate on the box's bound is one the sample went past the edge on, on the same side. */
function onSidesOf(point: readonly number[], edgeSides: readonly number[], bound: number): boolean {
  return point.every((value, index) => Math.abs(value) <= bound - 1e-3 || Math.sign(value) === edgeSides[index]);
}

/**
 * Per coordinate of a fit's log-parameters: the side of the edge it went to (the box's bound,
 * or past `edge` without converging: crawling after an optimum at infinity), 0 if neither;
 * undefined when it went to no edge at all.
 */
export function edgeSidesOf(
  point: readonly number[],
  fit: { readonly converged: boolean; readonly atBound?: boolean },
  edge: number,
  bound = 10,
): number[] | undefined {
  // An unconverged fit went past the edge wherever it is beyond it, whether or not another
  // coordinate also reached the box's bound.
  const limit = fit.converged ? Infinity : Math.min(edge, fit.atBound ? bound - 1e-3 : Infinity);
  const sides = point.map((value) => (Math.abs(value) > limit ? Math.sign(value) : 0));
  return sides.some((side) => side !== 0) ? sides : undefined;
}
