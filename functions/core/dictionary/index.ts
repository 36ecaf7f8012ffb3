import { EVENT_TYPES } from '../events/schemas.ts';
import { jobGraph, outputsOf } from '../jobs/graph.ts';
import { campaignTables } from './campaigns.ts';
import {
  acquisitionMetrics,
  categoryMetrics,
  channelMetrics,
  cohortRevenue,
  customerOrders,
  orderLines,
  referralMetrics,
  revenueRetention,
} from './commerce.ts';
import { clvModel, clvSummary, customerClv, customerSummary, rfmSegments } from './customers.ts';
import { cohortRetention, customerBase, nps, periodMetrics } from './periods.ts';
import { sourceTables } from './sources.ts';
import { stagingTables } from './staging.ts';
import type { ColumnDoc, TableDoc } from './types.ts';

const documented = new Map<string, TableDoc>(
  [
    ...sourceTables,
    ...stagingTables,
    customerBase,
    customerOrders,
    orderLines,
    customerSummary,
    cohortRetention,
    periodMetrics,
    cohortRevenue,
    revenueRetention,
    clvSummary,
    nps,
    rfmSegments,
    clvModel,
    customerClv,
    categoryMetrics,
    channelMetrics,
    referralMetrics,
    acquisitionMetrics,
    ...campaignTables,
  ].map((doc) => [doc.name, doc]),
);

/** Every table the job graph writes, in graph order: the ones a run tests. */
export const GRAPH_TABLES: readonly string[] = jobGraph.flatMap(outputsOf);

/** Tables queryable besides the graph's: raw events, rejections, the published-message log. */
export const QUERYABLE_SOURCES: readonly string[] = [...EVENT_TYPES, 'rejected_events', 'published_messages'];

/** The dictionary: sources first, then every table of the graph in the order it is written. */
export const TABLE_DICTIONARY: readonly TableDoc[] = [...QUERYABLE_SOURCES, ...GRAPH_TABLES].map((name) => {
  const doc = documented.get(name);
  if (!doc) throw new Error(`table ${name} has no entry in the table dictionary (functions/core/dictionary/)`);
  return doc;
});

/** A table's entry; undefined for a table outside the dictionary (a test's own graph). */
export function findTableDoc(name: string): TableDoc | undefined {
  return TABLE_DICTIONARY.find((entry) => entry.name === name);
}

export function tableDoc(name: string): TableDoc {
  const doc = findTableDoc(name);
  if (!doc) throw new Error(`no table ${name} in the table dictionary`);
  return doc;
}

export function columnDoc(table: string, column: string): ColumnDoc {
  const doc = tableDoc(table).columns.find((entry) => entry.name === column);
  if (!doc) throw new Error(`no column ${table}.${column} in the table dictionary`);
  return doc;
}

export type { ColumnDoc, TableDoc } from './types.ts';
