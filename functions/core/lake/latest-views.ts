/**
 * `latest_<table>`: each curated table at the newest as_of computed, so that a query needs no
 * as_of filter (`select * from latest_period_metrics`). The same SQL is a DuckDB view locally
 * and an Athena view in the Glue catalog. "Newest" is the latest date computed, not the latest
 * run: a backfill of an older date does not move it.
 *
 * The newest date is read from clv_summary, which every run writes with exactly one row (its
 * data tests say so): a table whose newest partition is empty (no campaign audience that day)
 * must show nothing, not the rows of an older date, and every latest view shows the same date.
 */
export const LATEST_DATE_TABLE = 'clv_summary';

export const latestView = (table: string) => `latest_${table}`;

export const latestViewSql = (table: string) => `select * from ${table} where as_of = (select max(as_of) from ${LATEST_DATE_TABLE})`;
