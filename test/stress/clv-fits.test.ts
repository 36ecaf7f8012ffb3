import { describe, expect, it } from 'vitest';
import { compressHistories } from '../../functions/core/clv/bg-nbd.ts';
import type { PurchaseHistory } from '../../functions/core/clv/bg-nbd.ts';
import { fitMbgNbd, mbgNbdLogLikelihood } from '../../functions/core/clv/mbg-nbd.ts';
import { fitParetoNbd, paretoNbdLogLikelihood } from '../../functions/core/clv/pareto-nbd.ts';
import { GRADIENT_WARM_START_SAMPLE, WARM_START_SAMPLE } from '../../functions/core/clv/optimize.ts';
import { simulateBgNbd } from '../support/simulate-clv.ts';

/** The log-likelihood of every customer, one history at a time, as the papers write it. */
const summed = <P>(logLikelihood: (parameters: P, history: PurchaseHistory) => number, parameters: P, histories: readonly PurchaseHistory[]) =>
  compressHistories(histories).reduce((total, history) => total + history.weight * logLikelihood(parameters, history), 0);

/** MBG/NBD and Pareto/NBD on more customers than a cold fit takes: they start from an even sample. */
describe('purchase models fitted on a sample', () => {
  const histories = simulateBgNbd({ r: 0.5, alpha: 6, a: 0.8, b: 3 }, 2 * WARM_START_SAMPLE + 1, 3, [1, 104]);

  it('fits MBG/NBD on an even sample, then polishes it to the maximum over every customer', () => {
    // Just over the threshold of the models with a gradient.
    const customers = histories.slice(0, 2 * GRADIENT_WARM_START_SAMPLE + 1);
    const fit = fitMbgNbd(customers);
    expect(fit).toMatchObject({ sampled: false, customers: customers.length, converged: true });
    const best = summed(mbgNbdLogLikelihood, fit.parameters, customers);
    expect(fit.logLikelihood).toBeCloseTo(best, 6);
    for (const key of ['r', 'alpha', 'a', 'b'] as const) {
      for (const factor of [0.999, 1.001]) {
        expect(summed(mbgNbdLogLikelihood, { ...fit.parameters, [key]: fit.parameters[key] * factor }, customers), `${key} x ${factor}`).toBeLessThan(best);
      }
    }
  });

  it('fits Pareto/NBD on an even sample and gives the likelihood of every customer', () => {
    const fit = fitParetoNbd(histories);
    expect(fit).toMatchObject({ sampled: true, customers: 2 * WARM_START_SAMPLE + 1, converged: true });
    expect(fit.logLikelihood).toBeCloseTo(summed(paretoNbdLogLikelihood, fit.parameters, histories), 6);
  });
});
