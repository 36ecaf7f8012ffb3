-- Cohort retention pivot
-- One row per acquisition cohort at the newest as_of, the share of it that bought in each of its
-- first twelve periods after the first (offset 0 is always 100 %), as the classic cohort chart.

select
    cohort_start,
    max(cohort_size) as cohort_size,
    max(case when period_offset = 1 then retention_rate end) as period_1,
    max(case when period_offset = 2 then retention_rate end) as period_2,
    max(case when period_offset = 3 then retention_rate end) as period_3,
    max(case when period_offset = 4 then retention_rate end) as period_4,
    max(case when period_offset = 5 then retention_rate end) as period_5,
    max(case when period_offset = 6 then retention_rate end) as period_6,
    max(case when period_offset = 7 then retention_rate end) as period_7,
    max(case when period_offset = 8 then retention_rate end) as period_8,
    max(case when period_offset = 9 then retention_rate end) as period_9,
    max(case when period_offset = 10 then retention_rate end) as period_10,
    max(case when period_offset = 11 then retention_rate end) as period_11,
    max(case when period_offset = 12 then retention_rate end) as period_12
from latest_cohort_retention
group by cohort_start
order by cohort_start
