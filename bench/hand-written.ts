/**
 * The yardstick for the job graph: what a data engineer would write by hand in DuckDB to get
 * the core numbers straight from the JSON Lines files, with no lake, no staging tables and no
 * tests: first delivery of each event_id, order state and purchases, the customer summary,
 * cohort retention, monthly retention and churn of the 90-day active base, and monthly NPS.
 * Each query's result is materialised (as the graph writes its tables); prints one JSON object
 * with the seconds and peak RSS.
 */
import { DuckDBInstance } from '@duckdb/node-api';

const [ordersPath, surveysPath, asOf = '2025-12-31'] = process.argv.slice(2) as [string, string, string?];
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const started = process.hrtime.bigint();
const instance = await DuckDBInstance.create(':memory:', { memory_limit: '3GB' });
const db = await instance.connect();
// Dates of UTC instants, as the pipeline's default business time zone gives them.
await db.run("set TimeZone = 'UTC'");
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

const queries = [
  `create table orders as
   select * from (
     select *, row_number() over (partition by event_id order by ordinality) as delivery
     from (select *, row_number() over () as ordinality from read_json(${literal(ordersPath)}, format = 'newline_delimited',
       columns = {event_id: 'varchar', order_id: 'varchar', customer_id: 'varchar', occurred_at: 'timestamptz',
                  status: 'varchar', total: 'decimal(18,2)', refunded_amount: 'decimal(18,2)', currency: 'varchar', channel: 'varchar'}))
   ) where delivery = 1 and cast(occurred_at as date) <= date ${literal(asOf)}`,
  `create table purchases as
   with placed as (
     select order_id, min_by(customer_id, occurred_at) as customer_id, min(occurred_at) as placed_at, min_by(total, occurred_at) as total
     from orders where status = 'placed' group by order_id),
   changes as (
     select order_id, bool_or(status = 'cancelled') as cancelled,
            sum(case when status = 'refunded' then coalesce(refunded_amount, total) else 0 end) as refunded
     from orders where status <> 'placed' group by order_id)
   select p.order_id, p.customer_id, cast(p.placed_at as date) as day, p.total - coalesce(c.refunded, 0) as net
   from placed p left join changes c using (order_id)
   where not coalesce(c.cancelled, false) and coalesce(c.refunded, 0) < p.total`,
  `create table customer_summary as
   select customer_id, count(*) as purchases, count(distinct day) as purchase_days, sum(net) as net_revenue,
          min(day) as first_purchase, max(day) as last_purchase,
          count(distinct day) - 1 as frequency, date_diff('day', min(day), max(day)) as recency_days,
          date_diff('day', min(day), date ${literal(asOf)}) as tenure_days
   from purchases group by customer_id`,
  `create table cohort_retention as
   with firsts as (select customer_id, date_trunc('month', min(day)) as cohort from purchases group by customer_id),
   activity as (select distinct customer_id, date_trunc('month', day) as month from purchases)
   select f.cohort, (year(a.month) - year(f.cohort)) * 12 + month(a.month) - month(f.cohort) as period_offset, count(*) as active_customers
   from firsts f join activity a using (customer_id) group by all`,
  `create table period_metrics as
   with months as (select unnest(generate_series(date '2024-01-01', date ${literal(asOf)}, interval 1 month))::date as month_start),
   days as (select distinct customer_id, day from purchases),
   base_at as (
     select m.month_start, d.customer_id,
            bool_or(d.day between m.month_start - 90 and m.month_start - 1) as at_start,
            bool_or(d.day between least(last_day(m.month_start), date ${literal(asOf)}) - 89 and least(last_day(m.month_start), date ${literal(asOf)})) as at_end
     from months m join days d on d.day between m.month_start - 90 and least(last_day(m.month_start), date ${literal(asOf)})
     group by all)
   select month_start, count(*) filter (at_start) as customers_start, count(*) filter (at_end) as customers_end,
          count(*) filter (at_start and at_end) as retained, count(*) filter (at_start and not at_end) as churned,
          count(*) filter (at_start and at_end) / nullif(count(*) filter (at_start), 0) as retention_rate
   from base_at group by month_start`,
  `create table nps as
   select date_trunc('month', cast(occurred_at as date)) as month,
          100.0 * (count(*) filter (score >= 9) - count(*) filter (score <= 6)) / count(*) as nps, count(*) as responses
   from (select *, row_number() over (partition by event_id) as delivery
         from read_json(${literal(surveysPath)}, format = 'newline_delimited',
           columns = {event_id: 'varchar', customer_id: 'varchar', score: 'integer', occurred_at: 'timestamptz'}))
   where delivery = 1 and cast(occurred_at as date) <= date ${literal(asOf)} group by all`,
];
const seconds: Record<string, number> = {};
for (const sql of queries) {
  const name = /create table (\w+)/.exec(sql)![1]!;
  const from = process.hrtime.bigint();
  await db.run(sql);
  seconds[name] = Number(process.hrtime.bigint() - from) / 1e9;
}
const customers = Number((await (await db.runAndReadAll('select count(*) from customer_summary')).getRows())[0]![0]);
const total = Number(process.hrtime.bigint() - started) / 1e9;
clearInterval(sampler);
process.stdout.write(`${JSON.stringify({ seconds: total, peakRss, stepTimes: seconds, customers })}\n`);
