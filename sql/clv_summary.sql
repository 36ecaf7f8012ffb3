-- The classic customer lifetime value, one row: AOV x purchases per customer per year x
-- expected lifespan in years, where lifespan = 1 / annual churn rate. The annual churn rate
-- is the share of the active base a year before as_of that is no longer active at as_of.

with purchases as (

    select * from stg_purchases

),

customer_purchase_days as (

    select distinct customer_id, purchase_date from purchases

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

base_year_ago as (

    select distinct customer_id
    from customer_purchase_days
    where purchase_date between cast(date '{{as_of}}' - interval '365' day - interval '{{activity_window_days}}' day + interval '1' day as date)
        and cast(date '{{as_of}}' - interval '365' day as date)

),

base_now as (

    select distinct customer_id
    from customer_purchase_days
    where purchase_date between cast(date '{{as_of}}' - interval '{{activity_window_days}}' day + interval '1' day as date)
        and date '{{as_of}}'

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
    cross join annual_churn

),

final as (

    select
        customers,
        purchases,
        net_revenue,
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
