-- Acquisition cohort x periods since first purchase: the cohort's net revenue in each period and
-- cumulated, per cohort customer: the LTV curve of each cohort. The cohorts, their sizes and
-- their periods are cohort_retention's (each customer's cohort_start from customer_summary), so
-- that the two tables always agree on who is in a cohort.

with purchases as (

    select * from stg_purchases

),

customer_cohorts as (

    select customer_id, cohort_start from customer_summary where as_of = date '{{as_of}}'

),

cohort_periods as (

    select cohort_start, period_offset, period_start, cohort_size from cohort_retention where as_of = date '{{as_of}}'

),

periods as (

    select period_start, period_end from stg_periods

),

cohort_period_revenue as (

    select
        customer_cohorts.cohort_start,
        purchases.period_start,
        count(distinct purchases.customer_id) as purchasing_customers,
        count(*) as orders,
        -- As decimal, so that sums do not depend on the order of the rows.
        sum(cast(purchases.net_revenue as decimal(38, 6))) as net_revenue
    from purchases
    inner join customer_cohorts
        on purchases.customer_id = customer_cohorts.customer_id
    group by customer_cohorts.cohort_start, purchases.period_start

),

cohort_revenue_by_period as (

    select
        cohort_periods.cohort_start,
        cohort_periods.period_offset,
        cohort_periods.period_start,
        periods.period_end,
        cohort_periods.cohort_size,
        coalesce(cohort_period_revenue.purchasing_customers, 0) as purchasing_customers,
        coalesce(cohort_period_revenue.orders, 0) as orders,
        coalesce(cohort_period_revenue.net_revenue, 0) as net_revenue
    from cohort_periods
    inner join periods
        on cohort_periods.period_start = periods.period_start
    left join cohort_period_revenue
        on cohort_periods.cohort_start = cohort_period_revenue.cohort_start
        and cohort_periods.period_start = cohort_period_revenue.period_start

),

cumulated as (

    select
        *,
        sum(net_revenue) over (
            partition by cohort_start
            order by period_offset
            rows between unbounded preceding and current row
        ) as cumulative_net_revenue
    from cohort_revenue_by_period

),

final as (

    select
        cohort_start,
        period_offset,
        period_start,
        period_end <= date '{{as_of}}' as is_complete,
        cohort_size,
        purchasing_customers,
        orders,
        cast(net_revenue as double) as net_revenue,
        cast(cumulative_net_revenue as double) as cumulative_net_revenue,
        cast(cumulative_net_revenue as double) / cohort_size as cumulative_revenue_per_customer,
        date '{{as_of}}' as as_of
    from cumulated

)

select * from final
