/**
 * `latest_<table>`: each curated table at its newest as_of, so that a query needs no as_of
 * filter (`select * from latest_period_metrics`). The same SQL is a DuckDB view locally and an
 * Athena view in the Glue catalog. "Newest" is the latest date computed, not the latest run: a
 * backfill of an older date does not move it.
 */
export const latestView = (table: string) => `latest_${table}`;

export const latestViewSql = (table: string) => `select * from ${table} where as_of = (select max(as_of) from ${table})`;
