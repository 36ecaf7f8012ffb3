import { describe, expect, it } from 'vitest';
import { purchaseModelWith } from '../../functions/core/clv/purchase-models.ts';
import type { PurchaseModelName } from '../../functions/core/clv/purchase-models.ts';
import { Random } from '../../functions/core/demo/random.ts';

/**
 * The next purchase of a customer still alive, per model, against a simulation of the model's
 * own story. Alive at T after x repeat purchases, the purchase rate is λ ~ Gamma(r + x, α + T);
 * under BG/NBD and MBG/NBD a live customer leaves only at a purchase, so the next one comes
 * after an exponential wait; under Pareto/NBD the lifetime left is exponential with
 * μ ~ Gamma(s, β + T), and the customer may leave first. Parameters: the published CDNOW fits.
 */
const MODELS: Record<PurchaseModelName, Record<string, number>> = {
  bg_nbd: { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 },
  mbg_nbd: { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 },
  pareto_nbd: { r: 0.5534, alpha: 10.5802, s: 0.6061, beta: 11.6711 },
};

/** The share of simulated live customers who buy again within t. */
function simulatedChance(model: PurchaseModelName, parameters: Record<string, number>, x: number, T: number, t: number, random: Random): number {
  const samples = 200_000;
  let bought = 0;
  for (let i = 0; i < samples; i += 1) {
    const wait = random.exponential(random.gamma(parameters['r']! + x, 1 / (parameters['alpha']! + T)));
    const left = model === 'pareto_nbd' ? random.exponential(random.gamma(parameters['s']!, 1 / (parameters['beta']! + T))) : Infinity;
    if (wait <= t && wait <= left) bought += 1;
  }
  return bought / samples;
}

describe('the next purchase of a live customer', () => {
  const random = new Random(31);

  for (const [name, parameters] of Object.entries(MODELS) as [PurchaseModelName, Record<string, number>][]) {
    it(`${name}: the chance of buying within t matches a simulation, and the median wait is where it reaches one half`, () => {
      const model = purchaseModelWith(name, parameters);
      for (const { x, T, t } of [
        { x: 0, T: 30, t: 26 },
        { x: 4, T: 39, t: 13 },
      ]) {
        const simulated = simulatedChance(name, parameters, x, T, t, random);
        // 200,000 draws: a standard error below 0.0012; 0.005 is four of them.
        expect(model.purchaseChanceIfAlive(x, T, t), JSON.stringify({ x, T, t })).toBeCloseTo(simulated, 2);
        expect(Math.abs(model.purchaseChanceIfAlive(x, T, t) - simulated)).toBeLessThan(0.005);
        const median = model.medianWaitIfAlive(x, T);
        if (Number.isFinite(median)) expect(model.purchaseChanceIfAlive(x, T, median)).toBeCloseTo(0.5, 6);
        else expect(model.purchaseChanceIfAlive(x, T, 1e7)).toBeLessThan(0.5);
      }
    });
  }

  it('BG/NBD and MBG/NBD: the median wait is (α + T)(2^(1 / (r + x)) - 1), by hand for one customer', () => {
    // MBG/NBD, x = 4, T = 39: (6.183 + 39) x (2^(1 / 4.525) - 1) = 45.183 x 0.165536 = 7.4794 weeks.
    expect(purchaseModelWith('mbg_nbd', MODELS.mbg_nbd).medianWaitIfAlive(4, 39)).toBeCloseTo(7.4794, 3);
  });

  it('Pareto/NBD: a customer likely to leave before buying again has no median wait', () => {
    // s large and β small: the lifetime left is short next to the wait for a purchase.
    const model = purchaseModelWith('pareto_nbd', { r: 0.5, alpha: 20, s: 5, beta: 2 });
    expect(model.medianWaitIfAlive(0, 10)).toBe(Infinity);
    expect(model.purchaseChanceIfAlive(0, 10, 1e7)).toBeLessThan(0.5);
  });
});
