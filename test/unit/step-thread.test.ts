import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../functions/core/config.ts';
import { typeScriptSteps } from '../../functions/core/jobs/typescript-steps.ts';
import { StepThread } from '../../functions/local/step-thread.ts';
import { simulateBgNbd } from '../support/simulate-clv.ts';

const AS_OF = '2024-06-30';
const simulated = simulateBgNbd({ r: 0.5, alpha: 5, a: 0.8, b: 3 }, 300, 11, [20, 60]);
/** customer_summary's columns as the engine hands them over: 64-bit counts as bigints. */
const input = {
  customer_id: simulated.map((_, index) => `c${index}`),
  frequency: simulated.map((history) => BigInt(history.x)),
  recency_days: simulated.map((history) => BigInt(Math.round(history.tx * 7))),
  tenure_days: simulated.map((history) => BigInt(Math.round(history.T * 7))),
  avg_repeat_day_net_revenue: simulated.map((history, index) => (history.x > 0 ? 20 + (index % 30) : null)),
};

const thread = new StepThread();
afterAll(() => thread.close());

describe('the thread the local runner fits models on', () => {
  it('computes the same tables as the step run on the calling thread', async () => {
    const onThread = await thread.run({ handler: 'predictive_clv', input, config: defaultConfig, asOf: AS_OF });
    const here = typeScriptSteps.predictive_clv.run(input, defaultConfig, AS_OF);
    expect(Object.keys(onThread).sort()).toEqual(['clv_model', 'stg_clv_probability_alive', 'stg_clv_purchase_curves']);
    expect(onThread['stg_clv_probability_alive']!.length).toBeGreaterThan(50);
    expect(onThread).toEqual(here);
  });

  it("fails with the step's own error, and runs the next step on a new thread", async () => {
    const { customer_id: _, ...withoutIds } = input;
    await expect(thread.run({ handler: 'predictive_clv', input: withoutIds, config: defaultConfig, asOf: AS_OF })).rejects.toThrow(
      'the CLV step needs the column customer_id',
    );
    const again = await thread.run({ handler: 'predictive_clv', input, config: defaultConfig, asOf: AS_OF });
    expect(again['clv_model']!.length).toBeGreaterThan(0);
  });
});
