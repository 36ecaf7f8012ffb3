import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compressHistories, conditionalExpectedPurchases, fitBgNbd, sampleCustomers, totalLogLikelihood } from '../../functions/core/clv/bg-nbd.ts';
import type { BgNbdParameters, PurchaseHistory } from '../../functions/core/clv/bg-nbd.ts';
import { fitGammaGamma } from '../../functions/core/clv/gamma-gamma.ts';
import { fitCustomerValue, selectPurchaseModel } from '../../functions/core/clv/predictive-clv.ts';
import type { FittedPurchaseModel, PurchaseModelName } from '../../functions/core/clv/purchase-models.ts';
import { Random } from '../../functions/core/demo/random.ts';
import { GRADIENT_WARM_START_SAMPLE, strideSample } from '../../functions/core/clv/optimize.ts';
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

describe('warm start on large data', () => {
  it('samples exactly the number asked for, evenly, whether the histories are compressed or not', () => {
    // 49,985 customers and a sample of 25,000: a whole-number stride (every k-th) can only take
    // all of them or every second one; the Pareto/NBD fit cost twice as much just below 50,000.
    const customers = Array.from({ length: 49_985 }, (_, index) => ({ x: index % 7, tx: index / 1000, T: 60 + index / 1000 }));
    const picked = strideSample(customers, 25_000);
    expect(picked).toHaveLength(25_000);
    expect(picked[0]).toBe(customers[1]);
    expect(picked.at(-1)).toBe(customers.at(-1));
    // Evenly: every gap between picked customers is one or two.
    const positions = picked.map((customer) => customers.indexOf(customer));
    expect(new Set(positions.slice(1).map((position, index) => position - positions[index]!))).toEqual(new Set([1, 2]));
    // One history per customer: the same customers as the histories' sample.
    const sampled = sampleCustomers({ compressed: compressHistories(customers), customers: customers.length }, 25_000);
    expect(sampled.compressed).toEqual(compressHistories(picked));
    // Histories shared by many customers: still exactly 25,000 customers, in proportion.
    const shared = compressHistories(customers.map(({ x }) => ({ x, tx: x, T: 10 })));
    const weighted = sampleCustomers({ compressed: shared, customers: customers.length }, 25_000);
    expect(weighted.customers).toBe(25_000);
    for (const [index, history] of weighted.compressed.entries())
      expect(Math.abs(history.weight - (shared[index]!.weight * 25_000) / customers.length)).toBeLessThanOrEqual(1);
    expect(strideSample(customers.slice(0, 100), 25_000)).toEqual(customers.slice(0, 100));
  });

  it('on data whose optimum is at infinity, keeps the polished fit on the edge instead of crawling there again', () => {
    // No drop-out and no difference between customers: the likelihood keeps rising toward the
    // box's edge, where the sample's search stops unconverged. Nelder-Mead from there over every
    // customer took hundreds of passes (the ordinary bench's 200,000 customers: 20 s).
    const histories = simulateBgNbd({ r: 1000, alpha: 5000, a: 0.001, b: 1000 }, 3 * GRADIENT_WARM_START_SAMPLE, 23, [52, 104]);
    const warm = fitBgNbd(histories);
    expect(warm).toMatchObject({ converged: false, atBound: true });
    expect(warm.iterations).toBeLessThan(60);
    // The same histories, told they are 10,000 customers (under the warm-start threshold, which
    // is all the count decides): Nelder-Mead on every customer from a cold start.
    const cold = fitBgNbd({ compressed: compressHistories(histories), customers: 2 * GRADIENT_WARM_START_SAMPLE });
    expect(Math.abs(warm.logLikelihood - cold.logLikelihood) / Math.abs(cold.logLikelihood)).toBeLessThan(1e-6);
  });

  it('polishes a fit on a sample to the maximum of the full data', () => {
    const histories = simulateBgNbd({ r: 0.6, alpha: 5, a: 0.9, b: 3.2 }, 3 * GRADIENT_WARM_START_SAMPLE, 17, [26, 78]);
    const fit = fitBgNbd(histories);
    expect(fit.converged).toBe(true);
    const compressed = compressHistories(histories);
    const best = totalLogLikelihood(fit.parameters, compressed);
    for (const key of ['r', 'alpha', 'a', 'b'] as const) {
      for (const factor of [0.999, 1.001]) {
        expect(totalLogLikelihood({ ...fit.parameters, [key]: fit.parameters[key] * factor }, compressed), `${key} x ${factor}`).toBeLessThan(best);
      }
    }
  });
});

describe('purchase curves', () => {
  const input = {
    frequency: cdnow.map(([, x]) => x),
    recency_days: cdnow.map(([, , tx]) => Math.round(tx * 7)),
    tenure_days: cdnow.map(([, , , T]) => Math.round(T * 7)),
    avg_repeat_day_net_revenue: cdnow.map(([, x, , , zbar]) => (x > 0 ? zbar : null)),
  };

  it('give, times P(alive), the expected purchases of every customer with that frequency and tenure', () => {
    const flat = fitCustomerValue(input, { horizonMonths: 12, monthlyDiscountRate: 0, purchaseModel: 'bg_nbd' });
    const discounted = fitCustomerValue(input, { horizonMonths: 12, monthlyDiscountRate: 0.01, purchaseModel: 'bg_nbd' });
    expect(flat.models.map((model) => model.model)).toEqual(['bg_nbd', 'mbg_nbd', 'pareto_nbd', 'gamma_gamma']);
    expect(flat.models[0]).toMatchObject({ time_unit: 'week', converged: true, selected: true, horizon_months: 12 });
    const parameters = flat.models[0] as unknown as { r: number; alpha: number; a: number; b: number };
    const curves = new Map(flat.curves.map((curve) => [`${curve.frequency}|${curve.tenure_days}`, curve]));
    expect(curves.size).toBe(new Set(input.frequency.map((x, index) => `${x}|${input.tenure_days[index]}`)).size);
    const horizonWeeks = 365.25 / 7; // 12 months
    for (let index = 0; index < 200; index += 1) {
      const history = { x: input.frequency[index]!, tx: input.recency_days[index]! / 7, T: input.tenure_days[index]! / 7 };
      const curve = curves.get(`${history.x}|${input.tenure_days[index]}`)!;
      const pAlive =
        history.x === 0
          ? 1
          : 1 /
            (1 +
              (parameters.a / (parameters.b + history.x - 1)) *
                ((parameters.alpha + history.T) / (parameters.alpha + history.tx)) ** (parameters.r + history.x));
      expect(curve.purchases_if_alive! * pAlive).toBeCloseTo(conditionalExpectedPurchases(parameters, history, horizonWeeks), 9);
      expect(curve.discounted_purchases_if_alive).toBeCloseTo(curve.purchases_if_alive!, 12);
    }
    for (const [index, curve] of discounted.curves.entries()) {
      const undiscounted = flat.curves[index]!;
      expect(curve.discounted_purchases_if_alive).toBeLessThan(undiscounted.purchases_if_alive!);
      expect(curve.discounted_purchases_if_alive).toBeGreaterThan(undiscounted.purchases_if_alive! / 1.01 ** 12);
    }
  });

  it('are not fitted on too little data, and the model rows say why', () => {
    const oneTimers = input.frequency
      .map((_x, index) => index)
      .filter((index) => input.frequency[index] === 0)
      .slice(0, 5);
    const pick = <T>(values: T[]) => oneTimers.map((index) => values[index]!);
    const result = fitCustomerValue(
      {
        frequency: pick(input.frequency),
        recency_days: pick(input.recency_days),
        tenure_days: pick(input.tenure_days),
        avg_repeat_day_net_revenue: pick(input.avg_repeat_day_net_revenue),
      },
      { horizonMonths: 12, monthlyDiscountRate: 0.01, purchaseModel: 'auto' },
    );
    for (const model of result.models.slice(0, 3)) {
      expect(model).toMatchObject({ converged: false, selected: false, r: null, customers: 5, note: 'not fitted: 0 repeat buyers, at least 10 needed' });
    }
    expect(result.curves).toEqual([]);
    expect(result.alive).toEqual([]);
  });
});

describe('the purchase model behind the predictions', () => {
  const settings = { horizonMonths: 12, monthlyDiscountRate: 0.01 };
  const fitted = (model: PurchaseModelName, logLikelihood: number, converged: boolean, atBound = false) =>
    ({ model, logLikelihood, converged, atBound, parameters: { r: 1, alpha: 1 } }) as unknown as FittedPurchaseModel;

  it('auto takes the highest log-likelihood among the converged fits; a name takes that model', () => {
    const fits = [fitted('bg_nbd', -100, true), fitted('mbg_nbd', -90, false), fitted('pareto_nbd', -95, true, true)];
    expect(selectPurchaseModel(fits, 'auto')?.model).toBe('bg_nbd');
    expect(selectPurchaseModel([...fits, fitted('pareto_nbd', -80, true)], 'auto')?.model).toBe('pareto_nbd');
    expect(selectPurchaseModel(fits, 'mbg_nbd')?.model).toBe('mbg_nbd');
    expect(selectPurchaseModel(fits.slice(1), 'auto')).toBeNull();
  });

  // Everyone buys every two weeks on average and nobody leaves: no drop-out and no difference
  // between customers, which every model expresses by sending a parameter to zero or infinity.
  const random = new Random(5);
  const steady = { frequency: [] as number[], recency_days: [] as number[], tenure_days: [] as number[], avg_repeat_day_net_revenue: [] as (number | null)[] };
  for (let customer = 0; customer < 150; customer += 1) {
    let day = 0;
    let x = 0;
    let last = 0;
    for (;;) {
      day += Math.max(1, Math.round(random.exponential(1 / 14)));
      if (day > 364) break;
      x += 1;
      last = day;
    }
    steady.frequency.push(x);
    steady.recency_days.push(last);
    steady.tenure_days.push(364);
    steady.avg_repeat_day_net_revenue.push(x > 0 ? 30 + (customer % 7) : null);
  }

  it('keeps fits that went to the edge with converged false and a note, and auto then predicts nothing', () => {
    const result = fitCustomerValue(steady, { ...settings, purchaseModel: 'auto' });
    for (const model of result.models.slice(0, 3)) {
      expect(model, model.model).toMatchObject({ converged: false, selected: false });
      expect(model.note, model.model).toMatch(/^a parameter reached the edge of the search/);
    }
    expect(result.curves).toEqual([]);
    expect(result.alive).toEqual([]);
  });

  it('uses a model named in config even when it went to the edge, and says so', () => {
    const result = fitCustomerValue(steady, { ...settings, purchaseModel: 'pareto_nbd' });
    const pareto = result.models.find((model) => model.model === 'pareto_nbd')!;
    expect(pareto).toMatchObject({ selected: true, converged: false });
    expect(pareto.note).toMatch(/selected by clv.purchaseModel although the fit is not converged: predictions are rough$/);
    expect(result.alive.length).toBe(new Set(steady.frequency.map((x, index) => `${x}|${steady.recency_days[index]}`)).size);
  });
});
