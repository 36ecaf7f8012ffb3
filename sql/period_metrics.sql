-- Per period: the active customer base at its start and end, how it moved (new, retained,
-- churned, reactivated), the exact and the classic retention and churn rates, and revenue.
-- The base as of day d is every customer with a purchase dated in [d - window + 1, d].

with purchases as (

    select * from stg_purchases

),

periods as (

    select * from stg_periods

),

first_purchase_period as (

    select min(period_start) as period_start from purchases

),

period_windows as (

    select
        periods.period_start,
        periods.period_end,
        -- S: the base as of the day before the period starts.
        cast(periods.period_start - interval '1' day as date) as start_base_date,
        -- E: the base as of the period's last day, or as_of if the period is not over.
        least(periods.period_end, date '{{as_of}}') as end_base_date
    from periods
    cross join first_purchase_period
    where periods.period_start >= first_purchase_period.period_start

),

customer_purchase_days as (

    select distinct customer_id, purchase_date from purchases

),

customer_first_purchases as (

    select customer_id, min(purchase_date) as first_purchase_date
    from purchases
    group by customer_id

),

-- A purchase on day d keeps the customer in the base on days d ... d + window - 1, so the days
-- a customer is in the base form islands: a purchase more than a window after the previous one
-- starts a new island. Islands do not overlap, so each base below holds a customer at most
-- once, without a distinct over every purchase day in every window.
purchase_day_gaps as (

    select
        customer_id,
        purchase_date,
        case
            when lag(purchase_date) over (partition by customer_id order by purchase_date)
                >= cast(purchase_date - interval '{{activity_window_days}}' day as date) then 0
            else 1
        end as starts_island
    from customer_purchase_days

),

numbered_purchase_days as (

    select
        customer_id,
        purchase_date,
        sum(starts_island) over (
            partition by customer_id
            order by purchase_date
            rows between unbounded preceding and current row
        ) as island_number
    from purchase_day_gaps

),

base_islands as (

    select
        customer_id,
        min(purchase_date) as in_base_from,
        cast(max(purchase_date) + interval '{{activity_window_days}}' day - interval '1' day as date) as in_base_to
    from numbered_purchase_days
    group by customer_id, island_number

),

base_at_start as (

    select period_windows.period_start, base_islands.customer_id
    from period_windows
    inner join base_islands
        on period_windows.start_base_date between base_islands.in_base_from and base_islands.in_base_to

),

base_at_end as (

    select period_windows.period_start, base_islands.customer_id
    from period_windows
    inner join base_islands
        on period_windows.end_base_date between base_islands.in_base_from and base_islands.in_base_to

),

new_in_period as (

    select period_windows.period_start, customer_first_purchases.customer_id
    from period_windows
    inner join customer_first_purchases
        on customer_first_purchases.first_purchase_date between period_windows.period_start
        and period_windows.period_end

),

memberships as (

    select period_start, customer_id, 1 as in_start, 0 as in_end, 0 as is_new from base_at_start
    union all
    select period_start, customer_id, 0 as in_start, 1 as in_end, 0 as is_new from base_at_end
    union all
    select period_start, customer_id, 0 as in_start, 0 as in_end, 1 as is_new from new_in_period

),

customer_period_states as (

    select
        period_start,
        customer_id,
        max(in_start) as in_start,
        max(in_end) as in_end,
        max(is_new) as is_new
    from memberships
    group by period_start, customer_id

),

base_movements as (

    select
        period_start,
        sum(in_start) as customers_start,
        sum(in_end) as customers_end,
        sum(is_new) as new_customers,
        count(case when in_start = 1 and in_end = 1 then 1 end) as retained_customers,
        count(case when in_start = 1 and in_end = 0 then 1 end) as churned_customers,
        count(case when in_start = 0 and in_end = 1 and is_new = 0 then 1 end) as reactivated_customers
    from customer_period_states
    group by period_start

),

period_revenue as (

    select
        period_start,
        count(*) as orders,
        sum(net_revenue) as net_revenue
    from purchases
    group by period_start

),

period_counts as (

    select
        period_windows.period_start,
        period_windows.period_end,
        coalesce(base_movements.customers_start, 0) as customers_start,
        coalesce(base_movements.customers_end, 0) as customers_end,
        coalesce(base_movements.new_customers, 0) as new_customers,
        coalesce(base_movements.retained_customers, 0) as retained_customers,
        coalesce(base_movements.churned_customers, 0) as churned_customers,
        coalesce(base_movements.reactivated_customers, 0) as reactivated_customers,
        coalesce(period_revenue.orders, 0) as orders,
        coalesce(period_revenue.net_revenue, 0) as net_revenue
    from period_windows
    left join base_movements
        on period_windows.period_start = base_movements.period_start
    left join period_revenue
        on period_windows.period_start = period_revenue.period_start

),

final as (

    select
        period_start,
        period_end,
        customers_start,
        customers_end,
        new_customers,
        retained_customers,
        churned_customers,
        reactivated_customers,
        cast(retained_customers as double) / nullif(customers_start, 0) as retention_rate,
        cast(churned_customers as double) / nullif(customers_start, 0) as churn_rate,
        cast(customers_end - new_customers as double) / nullif(customers_start, 0) as retention_rate_classic,
        cast(customers_start - customers_end as double) / nullif(customers_start, 0) as churn_rate_classic,
        orders,
        net_revenue,
        net_revenue / nullif(orders, 0) as aov,
        date '{{as_of}}' as as_of
    from period_counts

)

select * from final
