import { asCompressed, sampleCustomers } from './bg-nbd.ts';
import type { HistoriesInput, WeightedHistory } from './bg-nbd.ts';
import { minimize, PURCHASE_MODEL_EDGE, WARM_START_SAMPLE } from './optimize.ts';

/** A purchase model fitted by maximum likelihood on customer histories. */
export interface HistoriesFit<Parameters> {
  readonly parameters: Parameters;
  readonly logLikelihood: number;
  readonly customers: number;
  readonly converged: boolean;
  readonly iterations: number;
  /** A parameter went to the edge of the search box. */
  readonly atBound: boolean;
  /** Fitted on every k-th customer, WARM_START_SAMPLE to 1.5 times that many (above twice that many customers). */
  readonly sampled: boolean;
}

/**
 * Maximum-likelihood fit of a four-parameter purchase model on its log-parameters, by
 * Nelder-Mead from 1, 1, 1, 1, for a model without an analytic gradient. Above twice
 * WARM_START_SAMPLE customers it fits an even sample of that many; the log-likelihood is then
 * that of the sample's parameters over every customer, so that it compares with the other
 * models' likelihoods (it lies a little below their maximum).
 */
export function fitHistories<Parameters, Prepared>(
  input: HistoriesInput,
  fromLog: (point: readonly number[]) => Parameters,
  prepare: (histories: readonly WeightedHistory[]) => Prepared,
  totalLogLikelihood: (parameters: Parameters, prepared: Prepared) => number,
): HistoriesFit<Parameters> {
  const histories = asCompressed(input);
  const sampled = histories.customers > 2 * WARM_START_SAMPLE;
  const prepared = prepare((sampled ? sampleCustomers(histories, WARM_START_SAMPLE) : histories).compressed);
  const result = minimize((point) => -totalLogLikelihood(fromLog(point), prepared), [0, 0, 0, 0], { edge: PURCHASE_MODEL_EDGE });
  const parameters = fromLog(result.point);
  return {
    parameters,
    logLikelihood: sampled ? totalLogLikelihood(parameters, prepare(histories.compressed)) : -result.value,
    customers: histories.customers,
    converged: result.converged,
    iterations: result.iterations,
    atBound: result.atBound ?? false,
    sampled,
  };
}
