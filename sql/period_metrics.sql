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

-- Each island that overlaps a period's span from S's date to E's date, and which of the two
-- dates it holds. A customer is in S when one of their islands holds S's date, in E when one
-- holds E's date (islands do not overlap: at most one island holds each date).
island_periods as (

    select
        period_windows.period_start,
        base_islands.customer_id,
        period_windows.start_base_date between base_islands.in_base_from and base_islands.in_base_to as holds_start,
        period_windows.end_base_date between base_islands.in_base_from and base_islands.in_base_to as holds_end
    from period_windows
    inner join base_islands
        on base_islands.in_base_from <= period_windows.end_base_date
        and base_islands.in_base_to >= period_windows.start_base_date

),

-- Customers in S and in E through two different islands: they left the base and came back
-- within the period. Only the islands that hold one date and not the other are grouped.
returned_within_period as (

    select period_start, count(*) as customers
    from (
        select period_start, customer_id
        from island_periods
        where holds_start <> holds_end
        group by period_start, customer_id
        having count(case when holds_start then 1 end) > 0 and count(case when holds_end then 1 end) > 0
    ) as returned_customers
    group by period_start

),

new_in_period as (

    select period_windows.period_start, customer_first_purchases.customer_id
    from period_windows
    inner join customer_first_purchases
        on customer_first_purchases.first_purchase_date between period_windows.period_start
        and period_windows.period_end

),

-- New customers in E (new customers are never in S: they bought nothing before the period).
new_in_end_base as (

    select new_in_period.period_start, count(*) as customers
    from new_in_period
    inner join island_periods
        on new_in_period.period_start = island_periods.period_start
        and new_in_period.customer_id = island_periods.customer_id
    where island_periods.holds_end
    group by new_in_period.period_start

),

island_counts as (

    select
        period_start,
        count(case when holds_start then 1 end) as customers_start,
        count(case when holds_end then 1 end) as customers_end,
        count(case when holds_start and holds_end then 1 end) as retained_in_one_island
    from island_periods
    group by period_start

),

new_counts as (

    select period_start, count(*) as new_customers
    from new_in_period
    group by period_start

),

period_revenue as (

    select
        period_start,
        count(*) as orders,
        -- As decimal, so that the total does not depend on the order of the rows.
        cast(sum(cast(net_revenue as decimal(38, 6))) as double) as net_revenue
    from purchases
    group by period_start

),

period_counts as (

    select
        period_windows.period_start,
        period_windows.period_end,
        coalesce(island_counts.customers_start, 0) as customers_start,
        coalesce(island_counts.customers_end, 0) as customers_end,
        coalesce(new_counts.new_customers, 0) as new_customers,
        coalesce(island_counts.retained_in_one_island, 0) + coalesce(returned_within_period.customers, 0) as retained_customers,
        coalesce(new_in_end_base.customers, 0) as new_in_end_base,
        coalesce(period_revenue.orders, 0) as orders,
        coalesce(period_revenue.net_revenue, 0) as net_revenue
    from period_windows
    left join island_counts
        on period_windows.period_start = island_counts.period_start
    left join returned_within_period
        on period_windows.period_start = returned_within_period.period_start
    left join new_counts
        on period_windows.period_start = new_counts.period_start
    left join new_in_end_base
        on period_windows.period_start = new_in_end_base.period_start
    left join period_revenue
        on period_windows.period_start = period_revenue.period_start

),

base_movements as (

    select
        *,
        -- In S, not in E; in E, not in S and not new.
        customers_start - retained_customers as churned_customers,
        customers_end - retained_customers - new_in_end_base as reactivated_customers
    from period_counts

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
    from base_movements

)

select * from final
