import { describe, expect, it } from 'vitest';
import { compressHistories } from '../../functions/core/clv/bg-nbd.ts';
import { weightedLogLikelihood } from '../../functions/core/clv/fit-histories.ts';
import { fitMbgNbd, mbgNbdLogLikelihood } from '../../functions/core/clv/mbg-nbd.ts';
import { fitParetoNbd, paretoNbdLogLikelihood } from '../../functions/core/clv/pareto-nbd.ts';
import { WARM_START_SAMPLE } from '../../functions/core/clv/optimize.ts';
import { simulateBgNbd } from '../support/simulate-clv.ts';

/** MBG/NBD and Pareto/NBD on more customers than they fit on: an even sample, every customer's likelihood. */
describe('purchase models fitted on a sample', () => {
  const histories = simulateBgNbd({ r: 0.5, alpha: 6, a: 0.8, b: 3 }, 2 * WARM_START_SAMPLE + 1, 3, [1, 104]);

  it('fits MBG/NBD on an even sample and gives the likelihood of every customer', () => {
    const fit = fitMbgNbd(histories);
    expect(fit).toMatchObject({ sampled: true, customers: 2 * WARM_START_SAMPLE + 1, converged: true });
    expect(fit.logLikelihood).toBeCloseTo(weightedLogLikelihood(mbgNbdLogLikelihood, fit.parameters, compressHistories(histories)), 6);
  });

  it('fits Pareto/NBD on an even sample and gives the likelihood of every customer', () => {
    const fit = fitParetoNbd(histories);
    expect(fit).toMatchObject({ sampled: true, customers: 2 * WARM_START_SAMPLE + 1, converged: true });
    expect(fit.logLikelihood).toBeCloseTo(weightedLogLikelihood(paretoNbdLogLikelihood, fit.parameters, compressHistories(histories)), 6);
  });
});
