-- Per period: the active customer base at its start and end, how it moved (new, retained,
-- churned, reactivated), the exact and the classic retention and churn rates, and revenue
-- with the share of it, and of the buyers, that came back from earlier periods.
-- The base as of day d is every customer with a purchase dated in [d - window + 1, d]
-- (stg_customer_base).

with purchases as (

    select * from stg_purchases

),

periods as (

    select * from stg_periods

),

base_spells as (

    select * from stg_customer_base

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

customer_first_purchases as (

    select customer_id, min(purchase_date) as first_purchase_date
    from purchases
    group by customer_id

),

-- Each spell in the base that overlaps a period's span from S's date to E's date, and which
-- of the two dates it holds. A customer is in S when one of their spells holds S's date, in E
-- when one holds E's date (at most one spell of a customer holds each date).
spell_periods as (

    select
        period_windows.period_start,
        base_spells.customer_id,
        period_windows.start_base_date between base_spells.active_from and base_spells.active_until as holds_start,
        period_windows.end_base_date between base_spells.active_from and base_spells.active_until as holds_end
    from period_windows
    inner join base_spells
        on base_spells.active_from <= period_windows.end_base_date
        and base_spells.active_until >= period_windows.start_base_date

),

-- Customers in S and in E through two different spells: they left the base and came back
-- within the period. Only the spells that hold one date and not the other are grouped.
returned_within_period as (

    select period_start, count(*) as customers
    from (
        select period_start, customer_id
        from spell_periods
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
    inner join spell_periods
        on new_in_period.period_start = spell_periods.period_start
        and new_in_period.customer_id = spell_periods.customer_id
    where spell_periods.holds_end
    group by new_in_period.period_start

),

spell_counts as (

    select
        period_start,
        count(case when holds_start then 1 end) as customers_start,
        count(case when holds_end then 1 end) as customers_end,
        count(case when holds_start and holds_end then 1 end) as retained_in_one_spell
    from spell_periods
    group by period_start

),

new_counts as (

    select period_start, count(*) as new_customers
    from new_in_period
    group by period_start

),

-- Each customer's purchases in each period, then the period's revenue split by whose they are:
-- new customers (first purchase in the period) or returning ones (first purchase before it).
customer_period_purchases as (

    select
        period_start,
        customer_id,
        count(*) as orders,
        -- As decimal, so that the total does not depend on the order of the rows.
        sum(cast(net_revenue as decimal(38, 6))) as net_revenue
    from purchases
    group by period_start, customer_id

),

period_revenue as (

    select
        customer_period_purchases.period_start,
        -- Cast: DuckDB sums bigints as 128-bit integers, which Parquet stores as doubles.
        cast(sum(customer_period_purchases.orders) as bigint) as orders,
        count(*) as purchasing_customers,
        count(case
            when customer_first_purchases.first_purchase_date < customer_period_purchases.period_start then 1
        end) as returning_purchasers,
        cast(sum(customer_period_purchases.net_revenue) as double) as net_revenue,
        cast(coalesce(sum(case
            when customer_first_purchases.first_purchase_date >= customer_period_purchases.period_start
                then customer_period_purchases.net_revenue
        end), 0) as double) as new_customer_revenue,
        cast(coalesce(sum(case
            when customer_first_purchases.first_purchase_date < customer_period_purchases.period_start
                then customer_period_purchases.net_revenue
        end), 0) as double) as returning_customer_revenue
    from customer_period_purchases
    inner join customer_first_purchases
        on customer_period_purchases.customer_id = customer_first_purchases.customer_id
    group by customer_period_purchases.period_start

),

period_counts as (

    select
        period_windows.period_start,
        period_windows.period_end,
        coalesce(spell_counts.customers_start, 0) as customers_start,
        coalesce(spell_counts.customers_end, 0) as customers_end,
        coalesce(new_counts.new_customers, 0) as new_customers,
        coalesce(spell_counts.retained_in_one_spell, 0) + coalesce(returned_within_period.customers, 0) as retained_customers,
        coalesce(new_in_end_base.customers, 0) as new_in_end_base,
        coalesce(period_revenue.orders, 0) as orders,
        coalesce(period_revenue.purchasing_customers, 0) as purchasing_customers,
        coalesce(period_revenue.returning_purchasers, 0) as returning_purchasers,
        coalesce(period_revenue.net_revenue, 0) as net_revenue,
        coalesce(period_revenue.new_customer_revenue, 0) as new_customer_revenue,
        coalesce(period_revenue.returning_customer_revenue, 0) as returning_customer_revenue
    from period_windows
    left join spell_counts
        on period_windows.period_start = spell_counts.period_start
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
        purchasing_customers,
        cast(returning_purchasers as double) / nullif(purchasing_customers, 0) as repeat_purchase_rate,
        new_customer_revenue,
        returning_customer_revenue,
        date '{{as_of}}' as as_of
    from base_movements

)

select * from final
