-- Per period: of the customers who bought in the period before it, how much of their revenue
-- came back. Each customer's net revenue in the period is set against theirs in the previous
-- period: more is expansion, less (but some) is contraction, none is churned revenue.
-- Net revenue retention counts expansion; gross revenue retention does not.

with purchases as (

    select * from stg_purchases

),

periods as (

    select * from stg_periods

),

first_purchase_period as (

    select min(period_start) as period_start from purchases

),

-- Every period after the first one with a purchase, with the period before it.
period_pairs as (

    select
        periods.period_start,
        periods.period_end,
        previous_periods.period_start as previous_period_start
    from periods
    inner join periods as previous_periods
        on previous_periods.period_index = periods.period_index - 1
    cross join first_purchase_period
    where previous_periods.period_start >= first_purchase_period.period_start

),

customer_period_revenue as (

    select
        customer_id,
        period_start,
        -- As decimal, so that sums do not depend on the order of the rows.
        sum(cast(net_revenue as decimal(38, 6))) as revenue
    from purchases
    group by customer_id, period_start

),

-- The previous period's buyers, each with their revenue then and now.
base_customers as (

    select
        period_pairs.period_start,
        previous_revenue.customer_id,
        previous_revenue.revenue as previous_revenue,
        coalesce(current_revenue.revenue, 0) as current_revenue,
        current_revenue.customer_id is not null as bought_again
    from period_pairs
    inner join customer_period_revenue as previous_revenue
        on period_pairs.previous_period_start = previous_revenue.period_start
    left join customer_period_revenue as current_revenue
        on period_pairs.period_start = current_revenue.period_start
        and previous_revenue.customer_id = current_revenue.customer_id

),

revenue_movements as (

    select
        period_start,
        count(*) as base_customers,
        count(case when bought_again then 1 end) as returning_customers,
        sum(previous_revenue) as starting_revenue,
        sum(current_revenue) as base_revenue,
        sum(case when current_revenue > previous_revenue then current_revenue - previous_revenue else 0 end) as expansion_revenue,
        sum(case
            when bought_again and current_revenue < previous_revenue then previous_revenue - current_revenue
            else 0
        end) as contraction_revenue,
        sum(case when bought_again then 0 else previous_revenue end) as churned_revenue
    from base_customers
    group by period_start

),

final as (

    select
        period_pairs.period_start,
        period_pairs.period_end <= date '{{as_of}}' as is_complete,
        period_pairs.previous_period_start,
        coalesce(revenue_movements.base_customers, 0) as base_customers,
        coalesce(revenue_movements.returning_customers, 0) as returning_customers,
        cast(coalesce(revenue_movements.starting_revenue, 0) as double) as starting_revenue,
        cast(coalesce(revenue_movements.base_revenue, 0) as double) as base_revenue,
        cast(coalesce(revenue_movements.expansion_revenue, 0) as double) as expansion_revenue,
        cast(coalesce(revenue_movements.contraction_revenue, 0) as double) as contraction_revenue,
        cast(coalesce(revenue_movements.churned_revenue, 0) as double) as churned_revenue,
        cast(revenue_movements.base_revenue as double)
            / nullif(cast(revenue_movements.starting_revenue as double), 0) as net_revenue_retention,
        cast(revenue_movements.starting_revenue - revenue_movements.contraction_revenue - revenue_movements.churned_revenue as double)
            / nullif(cast(revenue_movements.starting_revenue as double), 0) as gross_revenue_retention,
        date '{{as_of}}' as as_of
    from period_pairs
    left join revenue_movements
        on period_pairs.period_start = revenue_movements.period_start

)

select * from final
