import { Random } from '../../functions/core/demo/random.ts';
import type { BgNbdParameters, PurchaseHistory } from '../../functions/core/clv/bg-nbd.ts';
import type { GammaGammaParameters, SpendHistory } from '../../functions/core/clv/gamma-gamma.ts';

/**
 * Customers drawn from the BG/NBD story itself: λ ~ Gamma(r, rate α), p ~ Beta(a, b); purchases
 * arrive as a Poisson process until the customer drops out (with probability p after each
 * repeat purchase) or observation ends at T. Times are rounded to whole days, as the pipeline
 * sees them.
 */
export function simulateBgNbd(parameters: BgNbdParameters, customers: number, seed: number, tenureWeeks: [number, number]): PurchaseHistory[] {
  const random = new Random(seed);
  const toDays = (weeks: number) => Math.floor(weeks * 7) / 7;
  return Array.from({ length: customers }, () => {
    const rate = random.gamma(parameters.r, 1 / parameters.alpha);
    const dropout = random.beta(parameters.a, parameters.b);
    const T = toDays(tenureWeeks[0] + random.next() * (tenureWeeks[1] - tenureWeeks[0]));
    let x = 0;
    let tx = 0;
    let time = 0;
    for (;;) {
      time += random.exponential(rate);
      if (time > T) break;
      x += 1;
      tx = time;
      if (random.chance(dropout)) break;
    }
    return { x, tx: toDays(tx), T };
  });
}

/** Mean spend of x repeat transactions per customer: values ~ Gamma(p, rate ν), ν ~ Gamma(q, rate γ). */
export function simulateGammaGamma(parameters: GammaGammaParameters, customers: number, seed: number): SpendHistory[] {
  const random = new Random(seed);
  return Array.from({ length: customers }, () => {
    const x = random.integer(1, 8);
    const nu = random.gamma(parameters.q, 1 / parameters.v);
    let total = 0;
    for (let index = 0; index < x; index += 1) total += random.gamma(parameters.p, 1 / nu);
    return { x, meanSpend: total / x };
  });
}
