import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditionalExpectedPurchases, fitBgNbd, probabilityAlive } from '../../functions/core/clv/bg-nbd.ts';
import { conditionalExpectedSpend, fitGammaGamma } from '../../functions/core/clv/gamma-gamma.ts';
import { Random } from '../../functions/core/demo/random.ts';
import { parseCsv, pipeline, queryCsv, temporaryDirectory, writeJsonLines } from '../support/cli.ts';

/**
 * Customers simulated from known BG/NBD and Gamma-Gamma parameters, turned into order events,
 * ingested and run through the pipeline. The pipeline's fit must equal a fit of the same
 * histories computed here directly (so frequency, recency and tenure are derived right) and be
 * near the truth; validate-clv must compare holdout predictions with what happened.
 */
const DAY = 86_400_000;
const START = Date.UTC(2025, 0, 1);
const CALIBRATION_END = '2025-09-30';
const HOLDOUT_END = '2026-06-30';
const TRUTH = { r: 0.5, alpha: 6, a: 0.8, b: 3 };

interface SimulatedCustomer {
  id: string;
  days: { day: number; total: number }[];
}

function simulate(customers: number): SimulatedCustomer[] {
  const random = new Random(99);
  const end = Date.parse(`${HOLDOUT_END}T00:00:00Z`);
  return Array.from({ length: customers }, (_, index) => {
    const rate = random.gamma(TRUTH.r, 1 / TRUTH.alpha) / 7; // per day
    const dropout = random.beta(TRUTH.a, TRUTH.b);
    const nu = random.gamma(4, 1 / 15);
    const first = START + random.integer(0, 89) * DAY;
    const days = [{ day: first, total: Math.round(random.gamma(6, 1 / nu) * 100) / 100 }];
    for (let time = first; ; ) {
      time += Math.max(DAY, Math.round(random.exponential(rate)) * DAY);
      if (time > end) break;
      days.push({ day: time, total: Math.round(random.gamma(6, 1 / nu) * 100) / 100 });
      if (random.chance(dropout)) break;
    }
    return { id: `sim-${index}`, days };
  });
}

const customers = simulate(3000);
let lake: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const directory = await temporaryDirectory();
  cleanup = directory.cleanup;
  lake = join(directory.path, 'lake');
  const events = customers.flatMap((customer) =>
    customer.days.map(({ day, total }, index) => ({
      event_id: `${customer.id}-${index}`,
      order_id: `${customer.id}-${index}`,
      customer_id: customer.id,
      occurred_at: new Date(day + 12 * 3_600_000).toISOString(),
      total,
      currency: 'USD',
    })),
  );
  const file = await writeJsonLines(join(directory.path, 'orders.jsonl'), events);
  expect((await pipeline('ingest', 'orders', file, '--lake', lake)).code).toBe(0);
  const run = await pipeline('run', '--as-of', CALIBRATION_END, '--lake', lake);
  expect(run.code, run.stderr).toBe(0);
});

afterAll(async () => cleanup?.());

/** The calibration histories, computed from the simulation directly, in weeks. */
function calibrationHistories() {
  const cut = Date.parse(`${CALIBRATION_END}T00:00:00Z`);
  return customers
    .map((customer) => ({ id: customer.id, days: customer.days.filter(({ day }) => day <= cut) }))
    .filter(({ days }) => days.length > 0)
    .map(({ id, days }) => {
      const first = days[0]!.day;
      const repeat = days.slice(1);
      return {
        id,
        x: repeat.length,
        tx: (days[days.length - 1]!.day - first) / DAY / 7,
        T: (cut - first) / DAY / 7,
        meanSpend: repeat.length === 0 ? 0 : repeat.reduce((sum, { total }) => sum + total, 0) / repeat.length,
      };
    });
}

describe('predictive CLV through the pipeline', () => {
  it('fits exactly what a direct fit of the same histories gives, near the true parameters', async () => {
    const models = await queryCsv(lake, `select * from clv_model where as_of = date '${CALIBRATION_END}' order by model`);
    expect(models.map((model) => model['model'])).toEqual(['bg_nbd', 'gamma_gamma']);
    const [bgNbd, gammaGamma] = models as [Record<string, string | null>, Record<string, string | null>];
    expect(bgNbd).toMatchObject({ time_unit: 'week', converged: 'true' });
    const histories = calibrationHistories();
    const direct = fitBgNbd(histories);
    expect(Number(bgNbd['customers'])).toBe(histories.length);
    for (const key of ['r', 'alpha', 'a', 'b'] as const) {
      expect(Math.abs(Number(bgNbd[key]) - direct.parameters[key]) / direct.parameters[key], key).toBeLessThan(1e-4);
      expect(Math.abs(Number(bgNbd[key]) - TRUTH[key]) / TRUTH[key], `${key} against the truth`).toBeLessThan(0.35);
    }
    expect(Number(bgNbd['log_likelihood'])).toBeCloseTo(direct.logLikelihood, 3);
    const spend = fitGammaGamma(histories);
    for (const key of ['p', 'q', 'v'] as const) {
      expect(Math.abs(Number(gammaGamma[key]) - spend.parameters[key]) / spend.parameters[key], key).toBeLessThan(1e-4);
    }
  });

  it('predicts per customer, with one row per customer of customer_summary', async () => {
    const [counts] = await queryCsv(
      lake,
      `select count(*) as n, count(predicted_clv) as predicted, min(p_alive) as low, max(p_alive) as high, min(predicted_clv) as lowest
         from customer_clv where as_of = date '${CALIBRATION_END}'`,
    );
    const [summary] = await queryCsv(lake, `select count(*) as n from customer_summary where as_of = date '${CALIBRATION_END}'`);
    expect(counts!['n']).toBe(summary!['n']);
    expect(counts!['predicted']).toBe(summary!['n']);
    expect(Number(counts!['low'])).toBeGreaterThan(0);
    expect(Number(counts!['high'])).toBeLessThanOrEqual(1);
    expect(Number(counts!['lowest'])).toBeGreaterThanOrEqual(0);
  });

  it('gives each customer what the BG/NBD and Gamma-Gamma formulas give for their history', async () => {
    const [bgNbd, gammaGamma] = (await queryCsv(lake, `select * from clv_model where as_of = date '${CALIBRATION_END}' order by model`)) as [
      Record<string, string>,
      Record<string, string>,
    ];
    const purchases = { r: Number(bgNbd['r']), alpha: Number(bgNbd['alpha']), a: Number(bgNbd['a']), b: Number(bgNbd['b']) };
    const spend = { p: Number(gammaGamma['p']), q: Number(gammaGamma['q']), v: Number(gammaGamma['v']) };
    const rows = new Map(
      (await queryCsv(lake, `select * from customer_clv where as_of = date '${CALIBRATION_END}'`)).map((row) => [row['customer_id'] as string, row]),
    );
    const weeksPerMonth = 365.25 / 12 / 7;
    for (const history of calibrationHistories()) {
      const row = rows.get(history.id)!;
      const expected = (months: number) => conditionalExpectedPurchases(purchases, history, months * weeksPerMonth);
      let discounted = 0;
      for (let month = 1; month <= 12; month += 1) discounted += (expected(month) - expected(month - 1)) / 1.01 ** month;
      const orderValue = conditionalExpectedSpend(spend, history)!;
      expect(Number(row['p_alive']), history.id).toBeCloseTo(probabilityAlive(purchases, history), 9);
      expect(Number(row['expected_purchases']), history.id).toBeCloseTo(expected(12), 9);
      expect(Number(row['expected_order_value']), history.id).toBeCloseTo(orderValue, 6);
      expect(Number(row['predicted_clv']), history.id).toBeCloseTo(orderValue * discounted, 6);
    }
  });

  it('compares the three purchase models on the holdout, by calibration frequency', async () => {
    const result = await pipeline('validate-clv', '--calibration-end', CALIBRATION_END, '--holdout-end', HOLDOUT_END, '--format', 'json', '--lake', lake);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.models.map((model: { model: string }) => model.model)).toEqual(['bg_nbd', 'mbg_nbd', 'pareto_nbd']);
    for (const model of report.models) {
      expect(model.by_frequency.map((group: { frequency: string }) => group.frequency)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
      const actual = model.by_frequency.reduce((sum: number, group: { actual_total: number }) => sum + group.actual_total, 0);
      expect(actual).toBe(report.actual_total);
      const predicted = model.by_frequency.reduce((sum: number, group: { predicted_total: number }) => sum + group.predicted_total, 0);
      expect(predicted).toBeCloseTo(model.predicted_total, 6);
      expect(model.converged, model.model).toBe(true);
    }
    // Simulated from BG/NBD itself, its prediction should be close in total.
    expect(Math.abs(report.models[0].total_error)).toBeLessThan(0.15);
    const table = await pipeline('validate-clv', '--calibration-end', CALIBRATION_END, '--holdout-end', HOLDOUT_END, '--lake', lake);
    expect(table.stdout).toMatch(/purchase models fitted on [\d,]+ customers to 2025-09-30 \(in weeks\)/);
    expect(table.stdout).toMatch(/Pareto\/NBD r=[\d.]+ alpha=[\d.]+ s=[\d.]+ beta=[\d.]+, log-likelihood -[\d.]+/);
    expect(table.stdout).toMatch(/calibration_frequency +customers +actual_mean +bg_nbd +mbg_nbd +pareto_nbd/);
    expect(table.stdout).toMatch(/highest calibration likelihood: (BG|MBG|Pareto)\/NBD; smallest mean absolute error on the holdout: (BG|MBG|Pareto)\/NBD/);
    const csv = parseCsv((await pipeline('validate-clv', '--calibration-end', CALIBRATION_END, '--holdout-end', HOLDOUT_END, '--format', 'csv', '--lake', lake)).stdout);
    expect(csv).toHaveLength(3 * 8);
    expect(Object.keys(csv[0]!)).toEqual(['model', 'calibration_frequency', 'customers', 'actual_mean', 'predicted_mean', 'actual_total', 'predicted_total']);
  });

  it('refuses a holdout that ends before the calibration does', async () => {
    const result = await pipeline('validate-clv', '--calibration-end', HOLDOUT_END, '--holdout-end', CALIBRATION_END, '--lake', lake);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--holdout-end must be after --calibration-end/);
  });
});
