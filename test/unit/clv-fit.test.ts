import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compressHistories, fitBgNbd, totalLogLikelihood } from '../../functions/core/clv/bg-nbd.ts';
import type { BgNbdParameters, PurchaseHistory } from '../../functions/core/clv/bg-nbd.ts';
import { fitGammaGamma } from '../../functions/core/clv/gamma-gamma.ts';
import { predictCustomerValue } from '../../functions/core/clv/predictive-clv.ts';
import { simulateBgNbd, simulateGammaGamma } from '../support/simulate-clv.ts';

const cdnow = readFileSync(new URL('../fixtures/cdnow-summary.csv', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split(',').map(Number) as [number, number, number, number, number]);
const cdnowHistories: PurchaseHistory[] = cdnow.map(([, x, tx, T]) => ({ x, tx, T }));

describe('fits on the CDNOW sample', () => {
  const fit = fitBgNbd(cdnowHistories);

  it('reproduces the published BG/NBD parameters and log-likelihood', () => {
    expect(fit.customers).toBe(2357);
    expect(fit.converged).toBe(true);
    const { r, alpha, a, b } = fit.parameters;
    expect(Math.abs(r - 0.2426)).toBeLessThan(1e-3);
    expect(Math.abs(alpha - 4.4136)).toBeLessThan(1e-3);
    expect(Math.abs(a - 0.7929)).toBeLessThan(1e-3);
    expect(Math.abs(b - 2.4259)).toBeLessThan(1e-3);
    expect(fit.logLikelihood).toBeCloseTo(-9582.43, 2);
  });

  it('stops at a maximum: every nearby point has a lower likelihood', () => {
    const histories = compressHistories(cdnowHistories);
    const best = totalLogLikelihood(fit.parameters, histories);
    for (const key of ['r', 'alpha', 'a', 'b'] as const) {
      for (const factor of [0.99, 1.01]) {
        const nearby: BgNbdParameters = { ...fit.parameters, [key]: fit.parameters[key] * factor };
        expect(totalLogLikelihood(nearby, histories), `${key} x ${factor}`).toBeLessThan(best);
      }
    }
  });

  it('reproduces the published Gamma-Gamma parameters on the 946 repeat buyers', () => {
    const spend = fitGammaGamma(cdnow.map(([, x, , , zbar]) => ({ x, meanSpend: zbar })));
    expect(spend.customers).toBe(946);
    expect(spend.converged).toBe(true);
    expect(Math.abs(spend.parameters.p - 6.25)).toBeLessThan(0.01);
    expect(Math.abs(spend.parameters.q - 3.74)).toBeLessThan(0.01);
    expect(Math.abs(spend.parameters.v - 15.44)).toBeLessThan(0.01);
  });
});

describe('recovery from simulated customers', () => {
  it('recovers BG/NBD parameters within 15 % (r, alpha) and 30 % (a, b)', () => {
    const truth = { r: 0.6, alpha: 5, a: 0.9, b: 3.2 };
    const fit = fitBgNbd(simulateBgNbd(truth, 20_000, 11, [26, 78]));
    expect(fit.converged).toBe(true);
    const relative = (key: keyof BgNbdParameters) => Math.abs(fit.parameters[key] - truth[key]) / truth[key];
    expect(relative('r')).toBeLessThan(0.15);
    expect(relative('alpha')).toBeLessThan(0.15);
    expect(relative('a')).toBeLessThan(0.3);
    expect(relative('b')).toBeLessThan(0.3);
  });

  it('recovers Gamma-Gamma parameters within 20 % and the mean spend within 3 %', () => {
    // q and v trade off against each other (the mean spend is p v / (q - 1)), so each alone is
    // known less precisely than the mean they imply.
    const truth = { p: 6, q: 4, v: 15 };
    const fit = fitGammaGamma(simulateGammaGamma(truth, 8000, 5));
    for (const key of ['p', 'q', 'v'] as const) {
      expect(Math.abs(fit.parameters[key] - truth[key]) / truth[key], key).toBeLessThan(0.2);
    }
    const mean = (fit.parameters.p * fit.parameters.v) / (fit.parameters.q - 1);
    expect(Math.abs(mean - 30) / 30).toBeLessThan(0.03);
  });
});

describe('predicted customer value', () => {
  const customers = cdnow.map(([id, x, tx, T, zbar]) => ({
    customer_id: String(id),
    frequency: x,
    recency_days: Math.round(tx * 7),
    tenure_days: Math.round(T * 7),
    avg_repeat_day_net_revenue: x > 0 ? zbar : null,
    net_revenue: zbar * (x + 1),
  }));

  it('discounts each future month: without discounting CLV is order value x expected purchases', () => {
    const flat = predictCustomerValue(customers.slice(0, 300), { horizonMonths: 12, monthlyDiscountRate: 0 });
    const discounted = predictCustomerValue(customers.slice(0, 300), { horizonMonths: 12, monthlyDiscountRate: 0.01 });
    for (const [index, row] of flat.customers.entries()) {
      expect(row.predicted_clv!).toBeCloseTo(row.expected_order_value! * row.expected_purchases!, 9);
      expect(discounted.customers[index]!.predicted_clv!).toBeLessThan(row.predicted_clv!);
      expect(discounted.customers[index]!.predicted_clv!).toBeGreaterThan(row.predicted_clv! / 1.01 ** 12);
      expect(row.p_alive!).toBeGreaterThan(0);
      expect(row.p_alive!).toBeLessThanOrEqual(1);
    }
    expect(flat.models.map((model) => model.model)).toEqual(['bg_nbd', 'gamma_gamma']);
    expect(flat.models[0]).toMatchObject({ time_unit: 'week', converged: true, horizon_months: 12 });
  });

  it('does not fit on too little data and says why', () => {
    const result = predictCustomerValue(customers.filter((customer) => customer.frequency === 0).slice(0, 5), { horizonMonths: 12, monthlyDiscountRate: 0.01 });
    expect(result.models[0]).toMatchObject({ converged: false, r: null, note: 'not fitted: 0 repeat buyers, at least 10 needed' });
    expect(result.customers.every((row) => row.predicted_clv === null && row.p_alive === null)).toBe(true);
  });
});
