/**
 * Special functions the CLV models need: log-gamma and the Gauss hypergeometric function 2F1.
 * Small and self-contained on purpose: the models run inside a Lambda and a CLI, and no
 * maintained JavaScript library offers a 2F1 that stays accurate for arguments near 1.
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln|Γ(x)| for real x (Lanczos, with the reflection formula below 0.5). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let index = 1; index < LANCZOS_G + 2; index += 1) sum += LANCZOS[index]! / (z + index);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ψ(x) = d/dx ln Γ(x) for x > 0: the recurrence up to x >= 10, then the asymptotic series (error below 1e-14). */
export function digamma(x: number): number {
  let shift = 0;
  let value = x;
  while (value < 10) {
    shift -= 1 / value;
    value += 1;
  }
  const inverse = 1 / value;
  const square = inverse * inverse;
  const series = square * (1 / 12 - square * (1 / 120 - square * (1 / 252 - square * (1 / 240 - square * (1 / 132)))));
  return shift + Math.log(value) - 0.5 * inverse - series;
}

/** The sign of Γ(x): negative on (-1, 0), (-3, -2), ... */
export function gammaSign(x: number): number {
  if (x > 0) return 1;
  return Math.floor(x) % 2 === 0 ? 1 : -1;
}

/** ln B(a, b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** ln(e^x + e^y) without overflow. */
export function logAddExp(x: number, y: number): number {
  const high = Math.max(x, y);
  if (high === -Infinity) return -Infinity;
  // One exponential, not two: the likelihoods call this once per history per evaluation.
  return high + Math.log1p(Math.exp(-Math.abs(x - y)));
}

const MAX_SERIES_TERMS = 2_000_000;

/** The defining series of 2F1; converges for |z| < 1, geometrically at rate |z|. */
function hyp2f1Series(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 0; k < MAX_SERIES_TERMS; k += 1) {
    term *= ((a + k) * (b + k) * z) / ((c + k) * (k + 1));
    sum += term;
    if (term === 0 || Math.abs(term) <= 1e-16 * Math.abs(sum)) return sum;
  }
  throw new Error(`2F1(${a}, ${b}; ${c}; ${z}) did not converge`);
}

/** Γ(c)Γ(c-a-b) / (Γ(c-a)Γ(c-b)) with signs, in log space to stay finite. */
function gammaRatio(numerator: readonly number[], denominator: readonly number[]): number {
  let logValue = 0;
  let sign = 1;
  for (const value of numerator) {
    logValue += logGamma(value);
    sign *= gammaSign(value);
  }
  for (const value of denominator) {
    logValue -= logGamma(value);
    sign *= gammaSign(value);
  }
  return sign * Math.exp(logValue);
}

const isNearInteger = (value: number) => Math.abs(value - Math.round(value)) < 1e-3;
const isNonPositiveInteger = (value: number) => value <= 0 && isNearInteger(value);

/** Abramowitz & Stegun 15.3.6: 2F1 at z from two series in 1 - z. Singular when c - a - b is an integer. */
function continuedFromOne(a: number, b: number, c: number, z: number): number {
  const s = c - a - b;
  const w = 1 - z;
  const first = gammaRatio([c, s], [c - a, c - b]) * hyp2f1Series(a, b, 1 - s, w);
  const second = gammaRatio([c, -s], [a, b]) * w ** s * hyp2f1Series(c - a, c - b, 1 + s, w);
  return first + second;
}

/**
 * The Gauss hypergeometric function 2F1(a, b; c; z) for real parameters and 0 <= z < 1.
 *
 * Near z = 1 the defining series needs thousands to millions of terms, so for z > 0.75 it is
 * continued through the 1 - z transformation, whose two series in 1 - z converge in a few
 * dozen terms. That transformation is singular where c - a - b is an integer (or c - a, c - b
 * is a non-positive integer); 2F1 is smooth in c there, so it is evaluated at four values of c
 * placed symmetrically around the singular point, off it, and interpolated back to c.
 */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  if (!(z >= 0 && z < 1)) throw new RangeError(`hyp2f1 needs 0 <= z < 1, got ${z}`);
  if (z === 0) return 1;
  // A non-positive integer a or b makes the series a polynomial: it ends by itself.
  if (z <= 0.75 || isNonPositiveInteger(a) || isNonPositiveInteger(b)) return hyp2f1Series(a, b, c, z);
  // Shifting c moves c - a - b, c - a, c - b and c together; find the one nearest its singular
  // integer (any integer for c - a - b, non-positive ones for the others).
  const candidates = [c - a - b, ...[c - a, c - b, c].filter((value) => value < 0.5)];
  const nearest = candidates.reduce((best, value) => (Math.abs(value - Math.round(value)) < Math.abs(best - Math.round(best)) ? value : best));
  if (!isNearInteger(nearest)) return continuedFromOne(a, b, c, z);
  // Sample where that quantity is integer ± δ and ± 2δ, never on it, and interpolate.
  const delta = 5e-4;
  const shift = Math.round(nearest) - nearest;
  const offsets = [-2 * delta, -delta, delta, 2 * delta].map((offset) => shift + offset);
  const values = offsets.map((offset) => continuedFromOne(a, b, c + offset, z));
  // Cubic Lagrange interpolation back to offset 0 (the actual c).
  let result = 0;
  offsets.forEach((xi, i) => {
    let weight = 1;
    offsets.forEach((xj, j) => {
      if (i !== j) weight *= (0 - xj) / (xi - xj);
    });
    result += weight * values[i]!;
  });
  return result;
}

/** The nodes and weights of 32-point Gauss-Legendre quadrature on [-1, 1], by Newton's method on P_32. */
const GAUSS_LEGENDRE = (() => {
  const order = 32;
  const nodes: number[] = [];
  const weights: number[] = [];
  for (let i = 1; i <= order; i += 1) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (order + 0.5));
    let derivative = 0;
    for (let step = 0; step < 100; step += 1) {
      // P_n(x) by the three-term recurrence, and P_n'(x) from P_n and P_(n-1).
      let current = 1;
      let previous = 0;
      for (let n = 1; n <= order; n += 1) [previous, current] = [current, ((2 * n - 1) * x * current - (n - 1) * previous) / n];
      derivative = (order * (x * current - previous)) / (x * x - 1);
      const change = current / derivative;
      x -= change;
      if (Math.abs(change) < 1e-15) break;
    }
    nodes.push(x);
    weights.push(2 / ((1 - x * x) * derivative * derivative));
  }
  return { nodes, weights };
})();

/** ∫ f over [from, to] by 32-point Gauss-Legendre: exact for polynomials of degree 63, and f is never evaluated at the ends. */
export function integrate(f: (x: number) => number, from: number, to: number): number {
  const half = (to - from) / 2;
  const middle = (to + from) / 2;
  let sum = 0;
  for (let index = 0; index < GAUSS_LEGENDRE.nodes.length; index += 1) sum += GAUSS_LEGENDRE.weights[index]! * f(middle + half * GAUSS_LEGENDRE.nodes[index]!);
  return sum * half;
}
