/**
 * Nelder-Mead minimization. The CLV likelihoods have four (BG/NBD) or three (Gamma-Gamma)
 * parameters, fitted on their logarithms so the simplex never leaves the valid region; a
 * derivative-free method is robust there and needs no gradient code. Restarted from the best
 * point until a restart no longer improves, which guards against a collapsed simplex. The
 * search stays in a box: a trial point beyond it is projected onto it (as SciPy's bounded
 * Nelder-Mead clips), so a search whose optimum lies beyond the box slides along its face
 * toward the best point there instead of jamming against it (a simplex flattened onto the face
 * may stop short of that point: BFGS, below, is what finds it).
 */
export interface MinimizeResult {
  readonly point: number[];
  readonly value: number;
  readonly iterations: number;
  /** The simplex shrank to a point inside the box. */
  readonly converged: boolean;
  /** The best point lies on the box: the data pushes a parameter to zero or infinity. */
  readonly atBound?: boolean;
  /**
   * The search stopped because it was done (the gradient of the coordinates not held on the
   * box's face vanished, or it no longer moved), not because a line search failed or the
   * iterations ran out; on the box's face, that is the best point there it found.
   */
  readonly stationary?: boolean;
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
   * than 2.5e-7 (relative) in 25 iterations, is crawling after an optimum at infinity: it stops
   * there, unconverged, instead of crawling on along the box. Off by default (the box itself);
   * the purchase models set 9, whose parameters in weeks have no business beyond e^±9.
   */
  readonly edge?: number;
}

/**
 * Iterations between checks for a search crawling toward the edge of the box, and the least
 * relative improvement over them that is not a crawl: 2.5e-7 per 25 iterations (the rate of
 * the earlier 1e-6 per 100, checked four times as often; stricter for a search that improves
 * in bursts). Measured on Pareto/NBD's 25,000-customer sample of the 500k ordinary lake (customers who
 * neither leave nor differ): within 0.005 of its last log-likelihood (656,076) by iteration
 * 100; checked every 100 the search ran 244 iterations (478 evaluations), every 25 it stops
 * at 125 (223).
 */
const CRAWL_CHECK = 25;
const CRAWL_IMPROVEMENT = 2.5e-7;

function nelderMead(
  f: (point: number[]) => number,
  start: number[],
  step: number,
  maxIterations: number,
  tolerance: number,
  pointTolerance: number,
  edge: number,
  bound: number,
) {
  const dimension = start.length;
  const project = (point: number[]) => point.map((value) => Math.min(bound, Math.max(-bound, value)));
  // A first step that would leave the box goes the other way.
  const first = project(start);
  let simplex = [first, ...first.map((_, index) => first.map((value, j) => (j !== index ? value : value + step <= bound ? value + step : value - step)))];
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
      const crawling = simplex[0]!.some((value) => Math.abs(value) > edge) && valueAtCheck - values[0]! < CRAWL_IMPROVEMENT * Math.abs(values[0]!);
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
    const along = (factor: number) => project(centroid.map((value, j) => value + factor * (worst[j]! - value)));
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
    const value = objective(point);
    return Number.isFinite(value) ? value : Infinity;
  };
  const maxIterations = options.maxIterations ?? 2000;
  const tolerance = options.tolerance ?? 1e-10;
  const pointTolerance = options.pointTolerance ?? 1e-5;
  const edge = options.edge ?? bound;
  let best = nelderMead(f, start, options.initialStep ?? 0.5, maxIterations, tolerance, pointTolerance, edge, bound);
  let iterations = best.iterations;
  for (let restart = 0; restart < (options.maxRestarts ?? 3); restart += 1) {
    // A run that stopped unconverged out toward the box was crawling after an optimum at
    // infinity (a likelihood that keeps rising ever more slowly): restarting only crawls on.
    if (!best.converged && best.point.some((value) => Math.abs(value) > edge)) break;
    const next = nelderMead(f, best.point, 0.05, maxIterations, tolerance, pointTolerance, edge, bound);
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
 * next to their value (the BG/NBD likelihood: one pass gives both). It stays in the same box as
 * Nelder-Mead's, projected: a step beyond it is cut back onto its face, and a coordinate on the
 * face whose gradient pushes outward is held there while the others move (as L-BFGS-B does),
 * so a search whose optimum lies beyond the box slides along the face to the best point there
 * instead of stopping where it first met it. Converged when an iteration changes the value by
 * less than `tolerance` (relative) and the point by less than `pointTolerance`, or the gradient
 * of the coordinates not held vanishes.
 */
export function minimizeWithGradient(objective: WithGradient, start: number[], options: MinimizeOptions = {}): MinimizeResult {
  const bound = options.bound ?? 10;
  const tolerance = options.tolerance ?? 1e-10;
  const pointTolerance = options.pointTolerance ?? 1e-5;
  const maxIterations = options.maxIterations ?? 500;
  const dimension = start.length;
  // Onto the box, and onto its face from within rounding of it: a step cut back to the face
  // lands a few ulps short of it, and a coordinate that is not exactly on the face is not held
  // there, so the next step's room would be nothing and the search would stop.
  const project = (point: number[]) => point.map((value) => (value >= bound - 1e-12 ? bound : value <= -bound + 1e-12 ? -bound : value));
  const evaluate = (point: number[]) => {
    const result = objective(point);
    return Number.isFinite(result.value) && result.gradient.every(Number.isFinite) ? result : { value: Infinity, gradient: point.map(() => 0) };
  };
  const dot = (u: number[], v: number[]) => u.reduce((sum, value, index) => sum + value * v[index]!, 0);
  // The inverse Hessian estimate, starting from the identity.
  let inverse: number[][] = Array.from({ length: dimension }, (_, row) => Array.from({ length: dimension }, (_, column) => (row === column ? 1 : 0)));
  let point = project(start);
  let current = evaluate(point);
  if (!Number.isFinite(current.value)) return { point, value: Infinity, iterations: 0, converged: false, atBound: false };
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations += 1) {
    // On the face with the gradient pushing outward: held there this iteration.
    const held = point.map((value, index) => (value >= bound && current.gradient[index]! < 0) || (value <= -bound && current.gradient[index]! > 0));
    const gradient = current.gradient.map((value, index) => (held[index] ? 0 : value));
    if (Math.max(...gradient.map(Math.abs)) <= 1e-9 * Math.max(1, Math.abs(current.value))) {
      converged = true;
      break;
    }
    // The inverse of the Hessian of the coordinates not held, from the estimate of the whole
    // one: each held coordinate is eliminated (a Schur complement). Taking the rows of the whole
    // inverse instead would step as if the held coordinates moved along with the others: along
    // a ridge (r and alpha growing together) that overshoots by orders of magnitude.
    let reduced = inverse;
    held.forEach((isHeld, pivot) => {
      if (!isHeld || !(reduced[pivot]![pivot]! > 0)) return;
      const column = reduced.map((row) => row[pivot]!);
      const diagonal = reduced[pivot]![pivot]!;
      reduced = reduced.map((row, i) => row.map((value, j) => value - (column[i]! * reduced[pivot]![j]!) / diagonal));
    });
    let direction = reduced.map((row, index) => (held[index] ? 0 : -dot(row, gradient)));
    let slope = dot(direction, gradient);
    let steepest = iterations === 0;
    if (!(slope < 0)) {
      steepest = true;
      // Not a descent direction (the estimate went bad): restart from steepest descent.
      inverse = inverse.map((row, index) => row.map((_, column) => (index === column ? 1 : 0)));
      direction = gradient.map((value) => -value);
      slope = dot(direction, gradient);
    }
    // Along the raw gradient a step moves at most 1 in each log-parameter; along a BFGS
    // direction the curvature estimate sets the length.
    let step = steepest ? Math.min(1, 1 / Math.max(...direction.map(Math.abs))) : 1;
    // A step that would leave the box stops where it meets the face: projecting it onto the
    // face instead bends it, and on a ridge (r and alpha growing together) the bent step leaves
    // the ridge, to creep back a little at a time. Only a coordinate already on the face with
    // the step pointing out (no room at all) has the step bent.
    const rooms = direction.map((value, index) => (value > 0 ? (bound - point[index]!) / value : value < 0 ? (-bound - point[index]!) / value : Infinity));
    const room = Math.min(...rooms.filter((each) => each > 0));
    if (room < step) step = room;
    let next = current;
    let candidate = point;
    for (let trial = 0; trial < 60; trial += 1) {
      const unprojected = point.map((value, index) => value + step * direction[index]!);
      candidate = project(unprojected);
      next = evaluate(candidate);
      // Armijo, on the step actually taken where the projection cut it back (if cutting it
      // left no first-order decrease, any decrease will do).
      const clipped = candidate.some((value, index) => value !== unprojected[index]);
      const decrease = clipped
        ? dot(
            candidate.map((value, index) => value - point[index]!),
            gradient,
          )
        : step * slope;
      if (decrease < 0 ? next.value <= current.value + 1e-4 * decrease : next.value < current.value) break;
      // Back to the minimum of the parabola through the value and slope here and the value
      // there, kept between a tenth and a half of the step: a step that overshot by orders of
      // magnitude (along a ridge) is cut back in a few trials, not a dozen halvings. (Armijo
      // failed, so the parabola curves upward and its minimum is ahead.)
      const parabola = decrease < 0 && Number.isFinite(next.value) ? (-decrease * step) / (2 * (next.value - current.value - decrease)) : step / 2;
      step = Math.min(step / 2, Math.max(step / 10, parabola));
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
  return { point, value: current.value, iterations, converged: converged && !atBound, atBound, stationary: converged };
}

/**
 * Minimizes from a point already near the optimum (a fit on a sample): BFGS, which gets there
 * in a few dozen evaluations, and Nelder-Mead from the same point if BFGS does not converge
 * inside the box. Cold starts use Nelder-Mead alone: from far away BFGS can follow the
 * gradient into the box's edge on these likelihoods (measured: Gamma-Gamma on CDNOW). When
 * the sample's fit already went to the edge (`edgeSides` given: per coordinate, +1 or -1 where
 * the sample went to that side, 0 where it stayed inside; only its presence is used), the data
 * push the optimum there, and BFGS ending on the bound at a stationary point of the face is the
 * answer: held on the face, it slides along it, which may put another coordinate on the bound
 * too (measured on data without drop-out or heterogeneity: b going to infinity with a going to
 * zero, where the sample's b was flat). Such a fit is reported unconverged; a BFGS run that
 * ended on the bound for another reason (a failed line search) falls back to Nelder-Mead.
 */
export function polish(objective: WithGradient, start: number[], edgeSides?: readonly number[], options: Pick<MinimizeOptions, 'edge'> = {}): MinimizeResult {
  // minimizeWithGradient searches its default box, ±10.
  const polished = minimizeWithGradient(objective, start);
  if (polished.converged || (polished.atBound && polished.stationary && edgeSides)) return polished;
  // With the cold search's edge: past it, a crawl toward infinity stops as it would have there.
  const fallback = minimize((point) => objective(point).value, start, { initialStep: 0.1, ...options });
  return { ...fallback, iterations: polished.iterations + fallback.iterations };
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
