-- Acquisition cohort x periods since first purchase: how many of the cohort purchased in each
-- later period. Offsets run up to the period that holds as_of.

with purchases as (

    select * from stg_purchases

),

periods as (

    select * from stg_periods

),

customer_cohorts as (

    select
        customer_id,
        min(period_start) as cohort_start
    from purchases
    group by customer_id

),

cohort_sizes as (

    select
        cohort_start,
        count(*) as cohort_size
    from customer_cohorts
    group by cohort_start

),

active_customers_by_period as (

    select
        customer_cohorts.cohort_start,
        purchases.period_start,
        count(distinct purchases.customer_id) as active_customers
    from purchases
    inner join customer_cohorts
        on purchases.customer_id = customer_cohorts.customer_id
    group by customer_cohorts.cohort_start, purchases.period_start

),

cohort_periods as (

    select
        cohort_sizes.cohort_start,
        cohort_sizes.cohort_size,
        periods.period_start,
        periods.period_index - cohort_period.period_index as period_offset
    from cohort_sizes
    inner join periods as cohort_period
        on cohort_sizes.cohort_start = cohort_period.period_start
    inner join periods
        on periods.period_start >= cohort_sizes.cohort_start

),

final as (

    select
        cohort_periods.cohort_start,
        cohort_periods.period_offset,
        cohort_periods.period_start,
        cohort_periods.cohort_size,
        coalesce(active_customers_by_period.active_customers, 0) as active_customers,
        cast(coalesce(active_customers_by_period.active_customers, 0) as double)
            / cohort_periods.cohort_size as retention_rate,
        date '{{as_of}}' as as_of
    from cohort_periods
    left join active_customers_by_period
        on cohort_periods.cohort_start = active_customers_by_period.cohort_start
        and cohort_periods.period_start = active_customers_by_period.period_start

)

select * from final
