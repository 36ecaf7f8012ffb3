import { compressHistories } from './bg-nbd.ts';
import type { PurchaseHistory, WeightedHistory } from './bg-nbd.ts';
import { minimize, strideSample, WARM_START_SAMPLE } from './optimize.ts';

/** A purchase model fitted by maximum likelihood on customer histories. */
export interface HistoriesFit<Parameters> {
  readonly parameters: Parameters;
  readonly logLikelihood: number;
  readonly customers: number;
  readonly converged: boolean;
  readonly iterations: number;
  /** A parameter went to the edge of the search box. */
  readonly atBound: boolean;
  /** Fitted on an even sample of WARM_START_SAMPLE customers (above twice that many). */
  readonly sampled: boolean;
}

/** The summed log-likelihood of compressed histories, each counted by its weight. */
export function weightedLogLikelihood<Parameters>(
  logLikelihood: (parameters: Parameters, history: PurchaseHistory) => number,
  parameters: Parameters,
  histories: readonly WeightedHistory[],
): number {
  let total = 0;
  for (const history of histories) total += history.weight * logLikelihood(parameters, history);
  return total;
}

/**
 * Maximum-likelihood fit of a four-parameter purchase model on its log-parameters, by
 * Nelder-Mead from 1, 1, 1, 1. Above twice WARM_START_SAMPLE customers it fits an even sample of
 * that many (a fit on every customer without gradients takes minutes at a million); the
 * log-likelihood is then that of the sample's parameters over every customer, so that it
 * compares with the other models' likelihoods (it lies a little below their maximum).
 */
export function fitHistories<Parameters>(
  histories: readonly PurchaseHistory[],
  fromLog: (point: readonly number[]) => Parameters,
  logLikelihood: (parameters: Parameters, history: PurchaseHistory) => number,
): HistoriesFit<Parameters> {
  const sampled = histories.length > 2 * WARM_START_SAMPLE;
  const compressed = compressHistories(sampled ? strideSample(histories, WARM_START_SAMPLE) : histories);
  const result = minimize((point) => -weightedLogLikelihood(logLikelihood, fromLog(point), compressed), [0, 0, 0, 0]);
  const parameters = fromLog(result.point);
  return {
    parameters,
    logLikelihood: sampled ? weightedLogLikelihood(logLikelihood, parameters, compressHistories(histories)) : -result.value,
    customers: histories.length,
    converged: result.converged,
    iterations: result.iterations,
    atBound: result.atBound ?? false,
    sampled,
  };
}
