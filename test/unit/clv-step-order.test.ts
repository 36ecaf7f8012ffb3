import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../functions/core/config.ts';
import { GRADIENT_WARM_START_SAMPLE } from '../../functions/core/clv/optimize.ts';
import { Random } from '../../functions/core/demo/random.ts';
import { typeScriptSteps } from '../../functions/core/jobs/typescript-steps.ts';
import { simulateBgNbd } from '../support/simulate-clv.ts';

/**
 * The predictive_clv step fits on an even sample of its customers first, so which customers
 * the sample holds depends on the order of the rows. The step puts them in customer_id order
 * (UTF-16 code units) whatever order they come in: DuckDB's sorted result, which orders ids by
 * their bytes, or Athena's UNLOAD parts in any order. These customers are more than twice the
 * purchase and spend models' samples, so a different order would give different samples.
 */
describe('the predictive_clv step and the order of its input', () => {
  const customers = 3 * GRADIENT_WARM_START_SAMPLE;
  const random = new Random(41);
  const histories = simulateBgNbd({ r: 0.6, alpha: 5, a: 0.9, b: 3.2 }, customers, 29, [26, 78]);
  // Ids with characters beyond U+FFFF (stored as surrogates, 0xD800-0xDFFF) and from U+E000 up:
  // by bytes (code points) the first sort after the second, by UTF-16 code units before it.
  const marks = ['', '\u{1F600}', '\uE000', '\uFF21'];
  const rows = histories.map((history, index) => ({
    customer_id: `c${marks[index % marks.length]}${(index * 7919) % customers}`,
    frequency: history.x,
    recency_days: Math.round(history.tx * 7),
    tenure_days: Math.round(history.T * 7),
    avg_repeat_day_net_revenue: history.x > 0 ? 5 + 95 * random.next() : null,
  }));
  const columnsOf = (ordered: typeof rows) => ({
    customer_id: ordered.map((row) => row.customer_id),
    frequency: ordered.map((row) => row.frequency),
    recency_days: ordered.map((row) => row.recency_days),
    tenure_days: ordered.map((row) => row.tenure_days),
    avg_repeat_day_net_revenue: ordered.map((row) => row.avg_repeat_day_net_revenue),
  });
  const byCodeUnits = [...rows].sort((a, b) => (a.customer_id < b.customer_id ? -1 : a.customer_id > b.customer_id ? 1 : 0));
  const bytes = (text: string) => Buffer.from(text, 'utf8');
  const byBytes = [...rows].sort((a, b) => Buffer.compare(bytes(a.customer_id), bytes(b.customer_id)));
  const shuffled = [...rows].sort(() => random.next() - 0.5);
  const modelsOf = (ordered: typeof rows) => typeScriptSteps.predictive_clv.run(columnsOf(ordered), defaultConfig, '2025-12-31')['clv_model'];

  it('fits the same models from rows in code-unit order, in byte order (as DuckDB sorts) and shuffled', () => {
    expect(byBytes.map((row) => row.customer_id)).not.toEqual(byCodeUnits.map((row) => row.customer_id));
    const expected = modelsOf(byCodeUnits);
    expect(expected?.filter((row) => (row as { converged: boolean }).converged).length).toBeGreaterThan(0);
    expect(modelsOf(byBytes)).toEqual(expected);
    expect(modelsOf(shuffled)).toEqual(expected);
  });
});
