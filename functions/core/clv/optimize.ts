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
}

function nelderMead(f: (point: number[]) => number, start: number[], step: number, maxIterations: number, tolerance: number, pointTolerance: number) {
  const dimension = start.length;
  let simplex = [start, ...start.map((_, index) => start.map((value, j) => (j === index ? value + step : value)))];
  let values = simplex.map((point) => f(point));
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations += 1) {
    const order = values.map((_, index) => index).sort((i, j) => values[i]! - values[j]!);
    simplex = order.map((index) => simplex[index]!);
    values = order.map((index) => values[index]!);
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
  let best = nelderMead(f, start, options.initialStep ?? 0.5, maxIterations, tolerance, pointTolerance);
  let iterations = best.iterations;
  for (let restart = 0; restart < (options.maxRestarts ?? 3); restart += 1) {
    const next = nelderMead(f, best.point, 0.05, maxIterations, tolerance, pointTolerance);
    iterations += next.iterations;
    const improved = next.value < best.value - 1e-10 * Math.abs(best.value);
    best = next.value <= best.value ? next : best;
    if (!improved) break;
  }
  const atBound = best.point.some((value) => Math.abs(value) > bound - 1e-3);
  return { ...best, iterations, converged: best.converged && !atBound, atBound };
}

/** Above twice this many customers, a fit starts from a fit on this many of them. */
export const WARM_START_SAMPLE = 25_000;

/** Every k-th item, about `size` in all: a deterministic sample that spans the whole input. */
export function strideSample<T>(items: readonly T[], size: number): T[] {
  const stride = Math.max(1, Math.floor(items.length / size));
  const sample: T[] = [];
  for (let index = 0; index < items.length; index += stride) sample.push(items[index]!);
  return sample;
}
