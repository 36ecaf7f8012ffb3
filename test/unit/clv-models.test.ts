import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compressHistories, logLikelihoodWithGradient, prepareHistories, totalLogLikelihood } from '../../functions/core/clv/bg-nbd.ts';
import type { PurchaseHistory } from '../../functions/core/clv/bg-nbd.ts';
import { fitMbgNbd, mbgNbdExpectedPurchasesIfAlive, mbgNbdLogLikelihood, mbgNbdProbabilityAlive } from '../../functions/core/clv/mbg-nbd.ts';
import type { MbgNbdParameters } from '../../functions/core/clv/mbg-nbd.ts';
import {
  fitParetoNbd,
  paretoNbdEvaluate,
  paretoNbdExpectedPurchasesIfAlive,
  paretoNbdLogLikelihood,
  paretoNbdProbabilityAlive,
  prepareParetoHistories,
} from '../../functions/core/clv/pareto-nbd.ts';
import type { ParetoNbdParameters } from '../../functions/core/clv/pareto-nbd.ts';
import { logGamma } from '../../functions/core/clv/special.ts';
import { Random } from '../../functions/core/demo/random.ts';

/**
 * The purchase models that let one-time buyers drop out, MBG/NBD and Pareto/NBD: the published
 * fits on the CDNOW sample, and each formula against an independent computation (numerical
 * integration of the model's own definition, or a simulation of it).
 */

const cdnow: PurchaseHistory[] = readFileSync(new URL('../fixtures/cdnow-summary.csv', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [, x, tx, T] = line.split(',').map(Number) as [number, number, number, number];
    return { x, tx, T };
  });

const relative = (actual: number, expected: number) => Math.abs(actual / expected - 1);

/** Simpson's rule on [from, to] with n (even) steps. */
function integrate(f: (t: number) => number, from: number, to: number, n = 20_000): number {
  const h = (to - from) / n;
  let sum = f(from) + f(to);
  for (let i = 1; i < n; i += 1) sum += (i % 2 === 1 ? 4 : 2) * f(from + i * h);
  return (sum * h) / 3;
}

describe('MBG/NBD', () => {
  // Batislam, Denizel & Filiztekin (2007); the CDNOW fit as published with R's BTYDplus (weeks).
  const published: MbgNbdParameters = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };

  it('reproduces the published CDNOW parameters', () => {
    const fit = fitMbgNbd(cdnow);
    expect(fit).toMatchObject({ converged: true, sampled: false });
    for (const key of ['r', 'alpha', 'a', 'b'] as const) expect(relative(fit.parameters[key], published[key]), key).toBeLessThan(0.002);
  });

  it("fits through BG/NBD's likelihood code: the same sum as its definition, and a gradient that matches finite differences", () => {
    const raw = [
      { x: 0, tx: 0, T: 30 },
      { x: 3, tx: 20, T: 38 },
      { x: 7, tx: 37.5, T: 38 },
      { x: 1, tx: 2, T: 52 },
      { x: 0, tx: 0, T: 30 },
    ];
    const histories = prepareHistories(compressHistories(raw));
    const parameters = { r: 0.4, alpha: 3, a: 0.8, b: 2.5 };
    const { value, gradient } = logLikelihoodWithGradient(parameters, histories, 'mbg_nbd');
    expect(value).toBeCloseTo(
      raw.reduce((sum, history) => sum + mbgNbdLogLikelihood(parameters, history), 0),
      10,
    );
    (['r', 'alpha', 'a', 'b'] as const).forEach((key, index) => {
      const step = 1e-6;
      const at = (factor: number) => totalLogLikelihood({ ...parameters, [key]: parameters[key] * Math.exp(factor * step) }, histories, 'mbg_nbd');
      expect(gradient[index]!, key).toBeCloseTo((at(1) - at(-1)) / (2 * step), 5);
    });
  });

  it('gives a one-time buyer a P(alive) below 1, falling with the time since the purchase', () => {
    // x = 0, t_x = 0, T = 52 weeks: 1 / (1 + a / b x ((α + T) / α)^r)
    //   = 1 / (1 + 0.891 / 1.614 x (58.183 / 6.183)^0.525) = 1 / (1 + 0.55204 x 3.24459) = 0.35827.
    expect(mbgNbdProbabilityAlive(published, { x: 0, tx: 0, T: 52 })).toBeCloseTo(0.35827, 4);
    expect(mbgNbdProbabilityAlive(published, { x: 0, tx: 0, T: 4 })).toBeGreaterThan(mbgNbdProbabilityAlive(published, { x: 0, tx: 0, T: 52 }));
    // A repeat buyer who bought at the end of the window: 1 / (1 + a / (b + x)) = 1 / (1 + 0.891 / 4.614).
    expect(mbgNbdProbabilityAlive(published, { x: 3, tx: 30, T: 30 })).toBeCloseTo(1 / (1 + 0.891 / 4.614), 12);
  });

  it('expects what a simulation of a live customer buys: Poisson purchases, each a chance to drop out', () => {
    // Alive at T after x repeat purchases: λ ~ Gamma(r + x, α + T), p ~ Beta(a, b + x + 1)
    // (the first purchase and x repeats survived). Then buy at rate λ, dropping out after a
    // purchase with probability p; count the purchases made in the next t weeks.
    const random = new Random(14);
    for (const { x, T, t } of [
      { x: 0, T: 30, t: 26 },
      { x: 4, T: 39, t: 52 },
    ]) {
      const samples = 200_000;
      let purchases = 0;
      for (let i = 0; i < samples; i += 1) {
        const rate = random.gamma(published.r + x, 1 / (published.alpha + T));
        const dropout = random.beta(published.a, published.b + x + 1);
        for (let clock = random.exponential(rate); clock <= t; clock += random.exponential(rate)) {
          purchases += 1;
          if (random.chance(dropout)) break;
        }
      }
      // Standard error of the mean below 0.5 % here: 2 % is a wide margin for a right formula.
      expect(relative(mbgNbdExpectedPurchasesIfAlive(published, x, T, t), purchases / samples), `x ${x}`).toBeLessThan(0.02);
    }
  });
});

describe('Pareto/NBD', () => {
  // Fader, Hardie & Lee, "A note on implementing the Pareto/NBD model in MATLAB" (2005): CDNOW, weeks.
  const published: ParetoNbdParameters = { r: 0.5534, alpha: 10.5802, s: 0.6061, beta: 11.6711 };

  it('reproduces the published CDNOW parameters and log-likelihood', () => {
    const fit = fitParetoNbd(cdnow);
    expect(fit.converged).toBe(true);
    for (const key of ['r', 'alpha', 's', 'beta'] as const) expect(relative(fit.parameters[key], published[key]), key).toBeLessThan(0.002);
    expect(fit.logLikelihood).toBeCloseTo(-9595.0, 0);
  });

  /**
   * The likelihood straight from the model: alive through T, or gone at some τ in (t_x, T],
   * after x purchases by t_x and none after; λ and μ integrated out in closed form, τ numerically.
   */
  function likelihoodByIntegration({ r, alpha, s, beta }: ParetoNbdParameters, { x, tx, T }: PurchaseHistory): number {
    const purchases = Math.exp(logGamma(r + x) - logGamma(r) + r * Math.log(alpha));
    const alive = purchases * (alpha + T) ** -(r + x) * (beta / (beta + T)) ** s;
    const gone = purchases * integrate((tau) => (alpha + tau) ** -(r + x) * s * beta ** s * (beta + tau) ** -(s + 1), tx, T);
    return alive + gone;
  }

  it('has the likelihood of its definition, for alpha >= beta and alpha < beta alike', () => {
    const histories: PurchaseHistory[] = [
      { x: 0, tx: 0, T: 52 },
      { x: 2, tx: 20, T: 39 },
      { x: 7, tx: 38, T: 39 },
      { x: 1, tx: 39, T: 39 },
    ];
    for (const parameters of [published, { ...published, alpha: 15, beta: 4 }, { ...published, s: 2.5, beta: 40 }]) {
      for (const history of histories) {
        const expected = Math.log(likelihoodByIntegration(parameters, history));
        expect(paretoNbdLogLikelihood(parameters, history), JSON.stringify({ parameters, history })).toBeCloseTo(expected, 8);
      }
    }
  });

  it('stays finite and exact where α and β are far apart and the customer bought hundreds of times', () => {
    // (1 - z)^(1 - b) with b = r + x = 250.5 and 1 - z = 31 / 1030 is e^860: beyond a double.
    // The reference integrates the definition in log space, scaled by (α + t_x)^-(r + x).
    const parameters = { r: 0.5, alpha: 1, s: 0.6, beta: 1000 };
    const { r, alpha, s, beta } = parameters;
    const { x, tx, T } = { x: 250, tx: 30, T: 39 };
    const shrink = (tau: number) => ((alpha + tx) / (alpha + tau)) ** (r + x);
    const alive = shrink(T) * (beta / (beta + T)) ** s;
    const gone = integrate((tau) => shrink(tau) * s * beta ** s * (beta + tau) ** -(s + 1), tx, T);
    const expected = logGamma(r + x) - logGamma(r) + r * Math.log(alpha) - (r + x) * Math.log(alpha + tx) + Math.log(alive + gone);
    expect(paretoNbdLogLikelihood(parameters, { x, tx, T })).toBeCloseTo(expected, 8);
    expect(paretoNbdProbabilityAlive(parameters, { x, tx, T })).toBeCloseTo(alive / (alive + gone), 10);
  });

  it('stays exact where a fit sends s and β into the hundreds and thousands (every customer leaving at one rate)', () => {
    // A fit a review found on such data: r + s + x in the hundreds, z = 0.94. 2F1's continuation
    // from 1 - z cancels there and gave P(alive) 0.0045 for this customer; by the definition it is 0.294.
    const parameters = { r: 0.43, alpha: 1.79, s: 348.6, beta: 3561 };
    const history = { x: 11, tx: 1425 / 7, T: 1500 / 7 };
    const { r, alpha, s, beta } = parameters;
    const { x, tx, T } = history;
    const shrink = (tau: number) => ((alpha + tx) / (alpha + tau)) ** (r + x) * ((beta + tx) / (beta + tau)) ** s;
    const alive = shrink(T);
    const gone = integrate((tau) => (shrink(tau) * s) / (beta + tau), tx, T);
    expect(paretoNbdProbabilityAlive(parameters, history)).toBeCloseTo(alive / (alive + gone), 8);
    expect(alive / (alive + gone)).toBeCloseTo(0.294, 3);
  });

  it('stays exact where a fit on customers who neither leave nor differ sends α to the edge and β stays small', () => {
    // The ordinary bench's fit on a million customers (bench/HISTORY.md): 1 - z = (β + t) / (α + t)
    // near 0.01, where the series alone takes thousands of terms per history.
    const parameters = { r: 1784, alpha: 22026, s: 0.0016, beta: 126 };
    const { r, alpha, s, beta } = parameters;
    for (const { x, tx, T } of [
      { x: 0, tx: 0, T: 80 },
      { x: 4, tx: 30, T: 52 },
      { x: 9, tx: 95, T: 104 },
      { x: 20, tx: 50.5, T: 104 },
    ]) {
      // The definition, scaled by (α + t_x)^-(r + x) so that neither power underflows.
      const shrink = (tau: number) => ((alpha + tx) / (alpha + tau)) ** (r + x);
      const alive = shrink(T) * (beta / (beta + T)) ** s;
      const gone = integrate((tau) => shrink(tau) * s * beta ** s * (beta + tau) ** -(s + 1), tx, T);
      const expected = logGamma(r + x) - logGamma(r) + r * Math.log(alpha) - (r + x) * Math.log(alpha + tx) + Math.log(alive + gone);
      expect(paretoNbdLogLikelihood(parameters, { x, tx, T }), JSON.stringify({ x, tx, T })).toBeCloseTo(expected, 8);
      expect(paretoNbdProbabilityAlive(parameters, { x, tx, T })).toBeCloseTo(alive / (alive + gone), 10);
    }
  });

  it('evaluates many histories at once, sharing their hypergeometric terms, as it does one at a time', () => {
    const raw = [
      { x: 0, tx: 0, T: 52 },
      { x: 2, tx: 20, T: 39 },
      { x: 2, tx: 39, T: 39 },
      { x: 7, tx: 38, T: 39 },
      { x: 2, tx: 20, T: 52 },
    ];
    const histories = compressHistories([...raw, raw[1]!]);
    for (const parameters of [published, { ...published, alpha: 15, beta: 4 }]) {
      const { logLikelihood, alive } = paretoNbdEvaluate(parameters, prepareParetoHistories(histories), true);
      const expected = histories.reduce((sum, history) => sum + history.weight * paretoNbdLogLikelihood(parameters, history), 0);
      expect(logLikelihood).toBeCloseTo(expected, 9);
      for (const [index, history] of histories.entries()) expect(alive![index]).toBeCloseTo(paretoNbdProbabilityAlive(parameters, history), 12);
    }
  });

  it('sums the likelihood for the fit (without P(alive)) as it does one history at a time, out at the edge too', () => {
    const random = new Random(8);
    const histories = compressHistories(
      Array.from({ length: 300 }, () => {
        const T = random.integer(1, 104);
        const x = random.integer(0, 30);
        return { x, tx: x === 0 ? 0 : random.integer(0, T * 7) / 7, T };
      }),
    );
    const prepared = prepareParetoHistories(histories);
    for (const parameters of [
      published,
      { ...published, alpha: 15, beta: 4 },
      // The fits on customers who neither leave nor differ (the ordinary bench's lakes).
      { r: 1784, alpha: 22026, s: 0.0016, beta: 126 },
      { r: 1786, alpha: 22026, s: 4.8e-5, beta: 21423 },
      // Every customer leaving fast, next to buying slowly: e^A - e^(S + Q) is a small difference.
      { r: 0.001, alpha: 22026, s: 20, beta: 1 },
    ]) {
      const expected = histories.reduce((sum, history) => sum + history.weight * paretoNbdLogLikelihood(parameters, history), 0);
      expect(paretoNbdEvaluate(parameters, prepared).logLikelihood / expected, JSON.stringify(parameters)).toBeCloseTo(1, 12);
    }
  });

  it('gives a one-time buyer a P(alive) below 1: alive through T against the whole likelihood', () => {
    const history = { x: 0, tx: 0, T: 52 };
    // (α / (α + T))^r (β / (β + T))^s over the integral above: about 0.48 for CDNOW's customers.
    const alive = (published.alpha / (published.alpha + 52)) ** published.r * (published.beta / (published.beta + 52)) ** published.s;
    const expected = alive / likelihoodByIntegration(published, history);
    expect(paretoNbdProbabilityAlive(published, history)).toBeCloseTo(expected, 8);
    expect(expected).toBeLessThan(0.6);
    expect(paretoNbdProbabilityAlive(published, { x: 3, tx: 39, T: 39 })).toBeCloseTo(1, 12);
  });

  it('expects (r + x) / (α + T) purchases a week while alive, for as long as the posterior lifetime lasts', () => {
    // Alive at T: λ ~ Gamma(r + x, α + T), μ ~ Gamma(s, β + T). E[purchases in t] = E[λ] x the
    // expected time alive within t, E[(1 - e^(-μ t)) / μ] = the integral over τ in (0, t] of
    // P(still alive at τ) = E[e^(-μ τ)] = ((β + T) / (β + T + τ))^s.
    for (const { x, T, t, s } of [
      { x: 2, T: 39, t: 52, s: published.s },
      { x: 0, T: 10, t: 26, s: 1 },
      { x: 5, T: 39, t: 104, s: 3.2 },
    ]) {
      const parameters = { ...published, s };
      const timeAlive = integrate((tau) => ((published.beta + T) / (published.beta + T + tau)) ** s, 0, t);
      const expected = ((published.r + x) / (published.alpha + T)) * timeAlive;
      expect(relative(paretoNbdExpectedPurchasesIfAlive(parameters, x, T, t), expected), JSON.stringify({ x, T, t, s })).toBeLessThan(1e-9);
    }
  });
});
