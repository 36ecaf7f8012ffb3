import { expectedPurchasesIfAlive, fitBgNbd, probabilityAlive } from './bg-nbd.ts';
import type { HistoriesFit, HistoriesInput, PurchaseHistory } from './bg-nbd.ts';
import { fitMbgNbd, mbgNbdExpectedPurchasesIfAlive, mbgNbdProbabilityAlive } from './mbg-nbd.ts';
import { PURCHASE_MODEL_EDGE } from './optimize.ts';
import {
  fitParetoNbd,
  paretoNbdExpectedPurchasesIfAlive,
  paretoNbdMedianWaitIfAlive,
  paretoNbdPurchaseChanceIfAlive,
  paretoNbdProbabilitiesAlive,
  paretoNbdProbabilityAlive,
} from './pareto-nbd.ts';

/**
 * The purchase models behind predictive CLV, behind one interface: each is fitted by maximum
 * likelihood on the same histories (x repeat purchases, the last at t_x, observed for T) and
 * gives P(alive) and the purchases expected over a horizon.
 *
 * - bg_nbd: BG/NBD; a customer can drop out only after a repeat purchase, so every one-time
 *   buyer is alive.
 * - mbg_nbd: MBG/NBD; the first purchase is a chance to drop out too.
 * - pareto_nbd: Pareto/NBD; a customer can leave at any moment.
 */
export const PURCHASE_MODELS = ['bg_nbd', 'mbg_nbd', 'pareto_nbd'] as const;
export type PurchaseModelName = (typeof PURCHASE_MODELS)[number];

/** How people name them. */
export const PURCHASE_MODEL_TITLES: Readonly<Record<PurchaseModelName, string>> = {
  bg_nbd: 'BG/NBD',
  mbg_nbd: 'MBG/NBD',
  pareto_nbd: 'Pareto/NBD',
};

/** A purchase model with its parameters: what it predicts of a customer's history. */
export interface PurchaseModelFormulas {
  readonly model: PurchaseModelName;
  /** By name: r, alpha and a, b (BG/NBD, MBG/NBD) or s, beta (Pareto/NBD). */
  readonly parameters: Readonly<Record<string, number>>;
  /** P(alive at T | x, t_x, T). */
  probabilityAlive(history: PurchaseHistory): number;
  /** The same for many histories at once (Pareto/NBD shares its costly terms between them). */
  probabilitiesAlive(histories: readonly PurchaseHistory[]): ArrayLike<number>;
  /** E[Y(t) | x, T, alive]: purchases expected in the t after T (the histories' time unit) from a customer still alive. */
  purchasesIfAlive(x: number, T: number, t: number): number;
  /** E[Y(t) | x, t_x, T] = P(alive) x purchasesIfAlive: the models differ in P(alive) and in that curve. */
  conditionalExpectedPurchases(history: PurchaseHistory, t: number): number;
  /** P(at least one purchase in the t after T | x, T, alive at T). */
  purchaseChanceIfAlive(x: number, T: number, t: number): number;
  /** The t at which purchaseChanceIfAlive reaches one half; Infinity if it never does. */
  medianWaitIfAlive(x: number, T: number): number;
}

export interface FittedPurchaseModel extends HistoriesFit<Readonly<Record<string, number>>>, PurchaseModelFormulas {}

interface GammaRates {
  readonly r: number;
  readonly alpha: number;
}

/**
 * A live BG/NBD or MBG/NBD customer leaves only at a purchase, so their next purchase comes for
 * sure, after an exponential wait of rate λ ~ Gamma(r + x, α + T): the chance it comes within t
 * is 1 - ((α + T) / (α + T + t))^(r + x), one half at t = (α + T)(2^(1 / (r + x)) - 1).
 */
const nextPurchaseChance = ({ r, alpha }: GammaRates, x: number, T: number, t: number) =>
  t <= 0 ? 0 : -Math.expm1((r + x) * Math.log((alpha + T) / (alpha + T + t)));
const nextPurchaseMedian = ({ r, alpha }: GammaRates, x: number, T: number) => (alpha + T) * Math.expm1(Math.LN2 / (r + x));

interface ModelDefinition<Parameters> {
  readonly fit: (histories: HistoriesInput) => HistoriesFit<Parameters>;
  readonly alive: (parameters: Parameters, history: PurchaseHistory) => number;
  readonly alives?: (parameters: Parameters, histories: readonly PurchaseHistory[]) => ArrayLike<number>;
  readonly ifAlive: (parameters: Parameters, x: number, T: number, t: number) => number;
  readonly chance: (parameters: Parameters, x: number, T: number, t: number) => number;
  readonly median: (parameters: Parameters, x: number, T: number) => number;
}

interface PurchaseModel {
  fit(histories: HistoriesInput): FittedPurchaseModel;
  with(parameters: Readonly<Record<string, number>>): PurchaseModelFormulas;
}

/** A model's fit and formulas, tied to its own parameter type. */
function purchaseModel<Parameters extends object>(model: PurchaseModelName, definition: ModelDefinition<Parameters>): PurchaseModel {
  const formulas = (parameters: Parameters): PurchaseModelFormulas => ({
    model,
    parameters: { ...parameters } as Record<string, number>,
    probabilityAlive: (history) => definition.alive(parameters, history),
    probabilitiesAlive: (histories) => definition.alives?.(parameters, histories) ?? histories.map((history) => definition.alive(parameters, history)),
    purchasesIfAlive: (x, T, t) => definition.ifAlive(parameters, x, T, t),
    conditionalExpectedPurchases: (history, t) => definition.ifAlive(parameters, history.x, history.T, t) * definition.alive(parameters, history),
    purchaseChanceIfAlive: (x, T, t) => definition.chance(parameters, x, T, t),
    medianWaitIfAlive: (x, T) => definition.median(parameters, x, T),
  });
  return {
    fit(histories) {
      const fitted = definition.fit(histories);
      return { ...fitted, ...formulas(fitted.parameters) };
    },
    with: (parameters) => formulas(parameters as Parameters),
  };
}

const MODELS: Readonly<Record<PurchaseModelName, PurchaseModel>> = {
  bg_nbd: purchaseModel('bg_nbd', {
    fit: fitBgNbd,
    alive: probabilityAlive,
    ifAlive: expectedPurchasesIfAlive,
    chance: nextPurchaseChance,
    median: nextPurchaseMedian,
  }),
  mbg_nbd: purchaseModel('mbg_nbd', {
    fit: fitMbgNbd,
    alive: mbgNbdProbabilityAlive,
    ifAlive: mbgNbdExpectedPurchasesIfAlive,
    chance: nextPurchaseChance,
    median: nextPurchaseMedian,
  }),
  pareto_nbd: purchaseModel('pareto_nbd', {
    fit: fitParetoNbd,
    alive: paretoNbdProbabilityAlive,
    alives: paretoNbdProbabilitiesAlive,
    ifAlive: paretoNbdExpectedPurchasesIfAlive,
    chance: paretoNbdPurchaseChanceIfAlive,
    median: paretoNbdMedianWaitIfAlive,
  }),
};

/**
 * The search box ends at e^±10; a likelihood that keeps rising toward zero or infinity in one
 * parameter flattens out before that, and the search stops on the way: beyond e^±9
 * (PURCHASE_MODEL_EDGE) a parameter counts as gone to the edge too.
 */
export const reachedEdge = (fit: FittedPurchaseModel) =>
  fit.atBound || Object.values(fit.parameters).some((value) => Math.abs(Math.log(value)) > PURCHASE_MODEL_EDGE);

/** Converged to a maximum inside the search: clv_model's `converged`, and what `auto` needs. */
export const convergedInside = (fit: FittedPurchaseModel) => fit.converged && !reachedEdge(fit);

export function fitPurchaseModel(model: PurchaseModelName, histories: HistoriesInput): FittedPurchaseModel {
  return MODELS[model].fit(histories);
}

/** The formulas of a model with given parameters (from a clv_model row, say). */
export function purchaseModelWith(model: PurchaseModelName, parameters: Readonly<Record<string, number>>): PurchaseModelFormulas {
  return MODELS[model].with(parameters);
}
