import { describe, expect, it } from 'vitest';
import {
  bgNbdLogLikelihood,
  compressHistories,
  conditionalExpectedPurchases,
  expectedPurchasesNewCustomer,
  logLikelihoodWithGradient,
  prepareHistories,
  probabilityAlive,
  totalLogLikelihood,
} from '../../functions/core/clv/bg-nbd.ts';
import { conditionalExpectedSpend } from '../../functions/core/clv/gamma-gamma.ts';
import { minimize, minimizeWithGradient } from '../../functions/core/clv/optimize.ts';
import { digamma, gammaSign, hyp2f1, logAddExp, logGamma } from '../../functions/core/clv/special.ts';

/** The CDNOW fit in weeks (Fader, Hardie & Lee 2005). */
const CDNOW = { r: 0.2425945, alpha: 4.4136022, a: 0.7929219, b: 2.4259062 };

describe('BG/NBD at the published CDNOW parameters', () => {
  it.each([
    [1, 0.0532],
    [3, 0.1506],
    [32, 1.0437],
    [52, 1.444],
  ])('a new customer expects the published number of purchases in %i weeks', (weeks, expected) => {
    expect(expectedPurchasesNewCustomer(CDNOW, weeks)).toBeCloseTo(expected, 4);
  });

  it('gives the published P(alive) and conditional expectation for x=2, t_x=30.43, T=38.86', () => {
    const history = { x: 2, tx: 30.43, T: 38.86 };
    expect(probabilityAlive(CDNOW, history)).toBeCloseTo(0.7266, 4);
    expect(conditionalExpectedPurchases(CDNOW, history, 39)).toBeCloseTo(1.2259, 4);
  });

  it('keeps customers without repeat purchases alive and predicts less for those who stopped long ago', () => {
    expect(probabilityAlive(CDNOW, { x: 0, tx: 0, T: 38.86 })).toBe(1);
    const recent = conditionalExpectedPurchases(CDNOW, { x: 4, tx: 38, T: 38.86 }, 52);
    const stopped = conditionalExpectedPurchases(CDNOW, { x: 4, tx: 5, T: 38.86 }, 52);
    expect(recent).toBeGreaterThan(stopped);
    expect(conditionalExpectedPurchases(CDNOW, { x: 4, tx: 38, T: 38.86 }, 0)).toBe(0);
  });
});

describe('Gamma-Gamma', () => {
  it('gives the published conditional expected spend', () => {
    expect(conditionalExpectedSpend({ p: 6.2496, q: 3.7442, v: 15.4435 }, { x: 2, meanSpend: 22.345 })).toBeCloseTo(24.654, 3);
  });

  it('shrinks a customer towards the population mean, less the more they bought', () => {
    const parameters = { p: 6.25, q: 3.74, v: 15.44 };
    const population = conditionalExpectedSpend(parameters, { x: 0, meanSpend: 0 })!;
    expect(population).toBeCloseTo((6.25 * 15.44) / 2.74, 10);
    const few = conditionalExpectedSpend(parameters, { x: 1, meanSpend: 100 })!;
    const many = conditionalExpectedSpend(parameters, { x: 20, meanSpend: 100 })!;
    expect(few).toBeLessThan(many);
    expect(many).toBeLessThan(100);
  });
});

describe('special functions', () => {
  it('adds in log space without overflow or underflow', () => {
    for (const [x, y] of [
      [0, 0],
      [1, 2],
      [-3, 5],
      [-700, -701],
      [10, -Infinity],
    ]) {
      expect(logAddExp(x!, y!)).toBeCloseTo(Math.log(Math.exp(x!) + Math.exp(y!)), 12);
    }
    expect(logAddExp(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logAddExp(-1000, -1e6)).toBe(-1000);
    expect(logAddExp(-Infinity, -Infinity)).toBe(-Infinity);
  });

  it('computes log-gamma, including negative arguments', () => {
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 10);
    let logFactorial = 0;
    for (let k = 2; k <= 170; k += 1) logFactorial += Math.log(k);
    expect(logGamma(171)).toBeCloseTo(logFactorial, 8);
    expect(logGamma(-0.5)).toBeCloseTo(Math.log(2 * Math.sqrt(Math.PI)), 10);
    expect(gammaSign(-0.5)).toBe(-1);
    expect(gammaSign(-1.5)).toBe(1);
  });

  it.each([0.1, 0.5, 0.9, 0.999, 0.999999])('2F1(1, 1; 2; %f) = -ln(1 - z) / z, although c - a - b is an integer', (z) => {
    const expected = -Math.log(1 - z) / z;
    expect(Math.abs(hyp2f1(1, 1, 2, z) - expected) / expected).toBeLessThan(1e-9);
  });

  it.each([0.3, 0.76, 0.95, 0.9999])('2F1(a, b; b; z) = (1 - z)^-a near 1 as well (z = %f)', (z) => {
    const expected = (1 - z) ** -0.37;
    expect(Math.abs(hyp2f1(0.37, 2.3, 2.3, z) - expected) / expected).toBeLessThan(1e-10);
  });

  it("approaches Gauss's value at z = 1 when c - a - b > 0", () => {
    const [a, b, c] = [0.3, 0.7, 2.5];
    const gauss = Math.exp(logGamma(c) + logGamma(c - a - b) - logGamma(c - a) - logGamma(c - b));
    expect(hyp2f1(a, b, c, 1 - 1e-12)).toBeCloseTo(gauss, 8);
  });

  it('agrees on both sides of the switch to the 1 - z continuation', () => {
    const [a, b, c] = [2.2426, 4.4259, 4.2188];
    const below = hyp2f1(a, b, c, 0.7499999);
    const above = hyp2f1(a, b, c, 0.7500001);
    expect(Math.abs(above - below) / below).toBeLessThan(1e-5);
  });

  it('stays accurate when c - a - b is within a hair of an integer, on either side', () => {
    // Reference values from mpmath.hyp2f1.
    expect(hyp2f1(1.2, 2, 3.2001, 0.95)).toBeCloseTo(5.3325, 3);
    const around = [3.1999, 3.2, 3.2001, 3.2002].map((c) => hyp2f1(1.2, 2, c, 0.95));
    for (const value of around) expect(Math.abs(value - around[1]!)).toBeLessThan(2e-3);
    expect(conditionalExpectedPurchases({ r: 0.3, alpha: 1, a: 2.3001, b: 2 }, { x: 3, tx: 3, T: 4 }, 52)).toBeCloseTo(1.969, 3);
  });

  it('is continuous through a = 1, where the formulas divide by a - 1', () => {
    const at = (a: number) => expectedPurchasesNewCustomer({ r: 0.5, alpha: 2, a, b: 2 }, 52);
    const reference = at(1.01);
    for (const a of [0.99, 0.999, 0.9999, 1, 1.0001, 1.001]) expect(Math.abs(at(a) - reference) / reference, String(a)).toBeLessThan(0.02);
    expect(Number.isFinite(conditionalExpectedPurchases({ r: 0.5, alpha: 1e-4, a: 0.9995, b: 2 }, { x: 0, tx: 0, T: 0 }, 52))).toBe(true);
  });

  it('gives no order value where the Gamma-Gamma posterior mean does not exist', () => {
    expect(conditionalExpectedSpend({ p: 0.4, q: 0.5, v: 20 }, { x: 1, meanSpend: 50 })).toBeNull();
  });

  it('refuses arguments outside [0, 1)', () => {
    expect(() => hyp2f1(1, 1, 2, 1)).toThrow(RangeError);
    expect(() => hyp2f1(1, 1, 2, -0.1)).toThrow(RangeError);
  });
});

describe('digamma and the gradient search', () => {
  it('gives known values of the digamma function', () => {
    expect(digamma(1)).toBeCloseTo(-0.5772156649015329, 12);
    expect(digamma(0.5)).toBeCloseTo(-1.9635100260214235, 12);
    expect(digamma(10)).toBeCloseTo(2.251752589066721, 12);
    expect(digamma(1e-3)).toBeCloseTo(-1000.5755719318103, 9);
  });

  it('finds the minimum of the Rosenbrock valley with BFGS', () => {
    const rosenbrock = ([x, y]: number[]) => ({
      value: (1 - x!) ** 2 + 100 * (y! - x! ** 2) ** 2,
      gradient: [-2 * (1 - x!) - 400 * x! * (y! - x! ** 2), 200 * (y! - x! ** 2)],
    });
    const result = minimizeWithGradient(rosenbrock, [-1.2, 1], { tolerance: 1e-14, pointTolerance: 1e-9 });
    expect(result.converged).toBe(true);
    expect(result.point[0]).toBeCloseTo(1, 5);
    expect(result.point[1]).toBeCloseTo(1, 5);
  });

  // The minimum (15, -1.5) lies beyond the box (±10); on the face x = 10 the best point is y = 2.25.
  const beyondTheBox = ([x, y]: number[]) => ({
    value: (x! - 15) ** 2 + 2 * (y! - 1) ** 2 + (x! - 15) * (y! - 1),
    gradient: [2 * (x! - 15) + (y! - 1), 4 * (y! - 1) + (x! - 15)],
  });

  it('ends Nelder-Mead on the face of the box, at the best point there, when the minimum lies beyond it', () => {
    const result = minimize((point) => beyondTheBox(point).value, [0, 0]);
    expect(result).toMatchObject({ converged: false, atBound: true });
    expect(result.point[0]).toBe(10);
    expect(result.point[1]).toBeCloseTo(2.25, 4);
  });

  it('holds BFGS on the face of the box and slides it to the best point there', () => {
    const result = minimizeWithGradient(beyondTheBox, [0, 0]);
    expect(result).toMatchObject({ converged: false, atBound: true });
    expect(result.point[0]).toBe(10);
    expect(result.point[1]).toBeCloseTo(2.25, 6);
    // A ridge running out of the box (x = y + 1, falling as y grows), as r and alpha run out
    // together on data without heterogeneity: x stops at the face, y at its best below it.
    let evaluations = 0;
    const ridge = minimizeWithGradient(
      ([x, y]: number[]) => {
        evaluations += 1;
        return { value: 1e4 * (x! - y! - 1) ** 2 + Math.exp(-y!), gradient: [2e4 * (x! - y! - 1), -2e4 * (x! - y! - 1) - Math.exp(-y!)] };
      },
      [0, 0],
    );
    expect(ridge.point[0]).toBe(10);
    expect(ridge.point[1]).toBeCloseTo(9, 6);
    expect(evaluations).toBeLessThan(60);
  });

  it('ends BFGS at a point of the box where only the face holds it, for convex quadratics whose minimum lies beyond it', () => {
    // The optimality conditions on a box: where a coordinate is free its gradient vanishes;
    // on the +bound face the gradient may only push further out (negative), on -bound in.
    // A step cut back to the face lands within rounding of it: it must count as on the face.
    const random = mulberry(20_261_203);
    for (let problem = 0; problem < 300; problem += 1) {
      const dimension = 4;
      const root = Array.from({ length: dimension }, () => Array.from({ length: dimension }, () => random() * 2 - 1));
      // A = R^T R + I: symmetric positive definite.
      const matrix = root.map((_, i) => root.map((_, j) => root.reduce((sum, row) => sum + row[i]! * row[j]!, 0) + (i === j ? 1 : 0)));
      const centre = Array.from({ length: dimension }, () => (random() * 2 - 1) * 25);
      const quadratic = (point: number[]) => {
        const offset = point.map((value, index) => value - centre[index]!);
        const gradient = matrix.map((row) => row.reduce((sum, value, index) => sum + value * offset[index]!, 0));
        return { value: gradient.reduce((sum, value, index) => sum + (value * offset[index]!) / 2, 0), gradient };
      };
      const result = minimizeWithGradient(quadratic, [0, 0, 0, 0]);
      const { gradient } = quadratic(result.point);
      const tolerance = 1e-3 * Math.max(1, ...gradient.map(Math.abs));
      result.point.forEach((value, index) => {
        const slope = gradient[index]!;
        if (value === 10) expect(slope).toBeLessThan(tolerance);
        else if (value === -10) expect(slope).toBeGreaterThan(-tolerance);
        else expect(Math.abs(slope)).toBeLessThan(tolerance);
      });
    }
  });

  it('matches the BG/NBD gradient to finite differences of the likelihood', () => {
    const raw = [
      { x: 0, tx: 0, T: 30 },
      { x: 3, tx: 20, T: 38 },
      { x: 7, tx: 37.5, T: 38 },
      { x: 1, tx: 2, T: 52 },
      { x: 3, tx: 20, T: 38 },
    ];
    const histories = prepareHistories(compressHistories(raw));
    const parameters = { r: 0.4, alpha: 3, a: 0.8, b: 2.5 };
    const { value, gradient } = logLikelihoodWithGradient(parameters, histories);
    // The summed value against equation 6 one customer at a time.
    expect(value).toBeCloseTo(
      raw.reduce((sum, history) => sum + bgNbdLogLikelihood(parameters, history), 0),
      10,
    );
    (['r', 'alpha', 'a', 'b'] as const).forEach((key, index) => {
      const step = 1e-6;
      const at = (factor: number) => totalLogLikelihood({ ...parameters, [key]: parameters[key] * Math.exp(factor * step) }, histories);
      expect(gradient[index]!, key).toBeCloseTo((at(1) - at(-1)) / (2 * step), 5);
    });
  });
});

/** A small seeded generator (mulberry32), for reproducible random problems. */
function mulberry(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
