-- Acquisition cohort x periods since first purchase: the cohort's net revenue in each period and
-- cumulated, per cohort customer: the LTV curve of each cohort. Offsets run up to the period
-- that holds as_of, periods without a purchase included.

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

cohort_periods as (

    select
        cohort_sizes.cohort_start,
        cohort_sizes.cohort_size,
        periods.period_start,
        periods.period_end,
        periods.period_index - cohort_period.period_index as period_offset
    from cohort_sizes
    inner join periods as cohort_period
        on cohort_sizes.cohort_start = cohort_period.period_start
    inner join periods
        on periods.period_start >= cohort_sizes.cohort_start

),

cohort_revenue_by_period as (

    select
        cohort_periods.cohort_start,
        cohort_periods.period_offset,
        cohort_periods.period_start,
        cohort_periods.period_end,
        cohort_periods.cohort_size,
        coalesce(cohort_period_revenue.purchasing_customers, 0) as purchasing_customers,
        coalesce(cohort_period_revenue.orders, 0) as orders,
        coalesce(cohort_period_revenue.net_revenue, 0) as net_revenue
    from cohort_periods
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
