-- The classic customer lifetime value, one row: AOV x purchases per customer per year x
-- expected lifespan in years, where lifespan = 1 / annual churn rate. The annual churn rate
-- is the share of the active base a year before as_of that is no longer active at as_of.

with purchases as (

    select * from stg_purchases

),

base_spells as (

    select * from stg_customer_base

),

customer_purchases as (

    select customer_id, count(*) as purchases
    from purchases
    group by customer_id

),

repeat_buyers as (

    select
        count(case when purchases >= 2 then 1 end) as repeat_customers,
        cast(count(case when purchases >= 2 then 1 end) as double) / nullif(count(*), 0) as repeat_purchase_rate
    from customer_purchases

),

totals as (

    select
        count(distinct customer_id) as customers,
        count(*) as purchases,
        -- As decimal, so that the total does not depend on the order of the rows.
        cast(sum(cast(net_revenue as decimal(38, 6))) as double) as net_revenue,
        min(purchase_date) as first_purchase_date
    from purchases

),

-- The active base (stg_customer_base) a year before as_of, and at as_of: a customer's spells
-- never overlap, so at most one of them holds a date.
base_year_ago as (

    select customer_id
    from base_spells
    where cast(date '{{as_of}}' - interval '365' day as date) between active_from and active_until

),

base_now as (

    select customer_id
    from base_spells
    where date '{{as_of}}' between active_from and active_until

),

annual_churn as (

    select
        count(*) as customers_year_ago,
        count(case when base_now.customer_id is null then 1 end) as churned_since
    from base_year_ago
    left join base_now
        on base_year_ago.customer_id = base_now.customer_id

),

rates as (

    select
        totals.customers,
        totals.purchases,
        totals.net_revenue,
        repeat_buyers.repeat_customers,
        repeat_buyers.repeat_purchase_rate,
        totals.first_purchase_date,
        -- Observed window in days, first purchase day and as_of both included.
        date_diff('day', totals.first_purchase_date, date '{{as_of}}') + 1 as observed_days,
        totals.net_revenue / nullif(totals.purchases, 0) as aov,
        cast(totals.purchases as double) / nullif(totals.customers, 0)
            / (cast(date_diff('day', totals.first_purchase_date, date '{{as_of}}') + 1 as double) / 365.25)
            as purchase_frequency_per_year,
        annual_churn.customers_year_ago,
        annual_churn.churned_since,
        cast(annual_churn.churned_since as double) / nullif(annual_churn.customers_year_ago, 0) as annual_churn_rate
    from totals
    cross join repeat_buyers
    cross join annual_churn

),

final as (

    select
        customers,
        purchases,
        net_revenue,
        repeat_customers,
        repeat_purchase_rate,
        observed_days,
        aov,
        purchase_frequency_per_year,
        customers_year_ago,
        churned_since,
        annual_churn_rate,
        1 / nullif(annual_churn_rate, 0) as expected_lifespan_years,
        aov * purchase_frequency_per_year / nullif(annual_churn_rate, 0) as clv_simple,
        date '{{as_of}}' as as_of
    from rates

)

select * from final
