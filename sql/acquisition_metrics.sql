-- Per period and acquisition channel, and for every channel together ('all'): what acquiring
-- customers cost (spend, CAC) against what they brought (first-purchase and net revenue so
-- far) and are expected to bring (classic and predicted CLV, each over CAC), and how many days
-- their margin took to pay the spend back. A customer is acquired in the period of their first
-- purchase, through its channel (customer_orders' acquisition_channel; "(none)" without one).

with purchases as (

    select * from customer_orders where as_of = date '{{as_of}}' and is_purchase

),

spend as (

    select * from stg_spend

),

periods as (

    select period_start from stg_periods

),

classic_clv as (

    select purchase_frequency_per_year, expected_lifespan_years from clv_summary where as_of = date '{{as_of}}'

),

first_purchase_period as (

    select min(cast(date_trunc('{{period_unit}}', order_date) as date)) as period_start from purchases

),

customer_totals as (

    select
        customer_id,
        count(*) as purchases,
        -- As decimal, so that sums do not depend on the order of the rows.
        sum(cast(net_amount as decimal(38, 6))) as net_revenue
    from purchases
    group by customer_id

),

acquired_customers as (

    select
        purchases.customer_id,
        cast(date_trunc('{{period_unit}}', purchases.order_date) as date) as period_start,
        coalesce(purchases.acquisition_channel, '(none)') as acquisition_channel,
        cast(purchases.net_amount as decimal(38, 6)) as first_purchase_revenue,
        customer_totals.purchases,
        customer_totals.net_revenue,
        customer_clv.predicted_clv
    from purchases
    inner join customer_totals
        on purchases.customer_id = customer_totals.customer_id
    left join customer_clv
        on purchases.customer_id = customer_clv.customer_id
        and customer_clv.as_of = date '{{as_of}}'
    where purchases.is_first_purchase

),

-- Every acquired customer twice: under their channel and under 'all'.
grouped_customers as (

    select * from acquired_customers

    union all

    select customer_id, period_start, 'all' as acquisition_channel, first_purchase_revenue, purchases, net_revenue, predicted_clv
    from acquired_customers

),

grouped_spend as (

    select cast(date_trunc('{{period_unit}}', spend_date) as date) as period_start, channel as acquisition_channel, amount
    from spend

    union all

    select cast(date_trunc('{{period_unit}}', spend_date) as date) as period_start, 'all' as acquisition_channel, amount
    from spend

),

spend_totals as (

    select
        period_start,
        acquisition_channel,
        sum(cast(amount as decimal(38, 6))) as spend
    from grouped_spend
    group by period_start, acquisition_channel

),

acquisition_totals as (

    select
        period_start,
        acquisition_channel,
        count(*) as new_customers,
        sum(first_purchase_revenue) as first_purchase_revenue,
        sum(net_revenue) as net_revenue,
        sum(purchases) as purchases,
        sum(cast(predicted_clv as decimal(38, 9))) as predicted_clv_total,
        count(predicted_clv) as customers_with_clv
    from grouped_customers
    group by period_start, acquisition_channel

),

-- Payback: the group's net revenue day by day, cumulated, against its spend.
group_revenue_days as (

    select
        grouped_customers.period_start,
        grouped_customers.acquisition_channel,
        purchases.order_date,
        sum(cast(purchases.net_amount as decimal(38, 6))) as revenue
    from grouped_customers
    inner join purchases
        on grouped_customers.customer_id = purchases.customer_id
    group by grouped_customers.period_start, grouped_customers.acquisition_channel, purchases.order_date

),

cumulative_revenue_days as (

    select
        *,
        sum(revenue) over (
            partition by period_start, acquisition_channel
            order by order_date
            rows between unbounded preceding and current row
        ) as cumulative_revenue
    from group_revenue_days

),

paybacks as (

    select
        cumulative_revenue_days.period_start,
        cumulative_revenue_days.acquisition_channel,
        min(cumulative_revenue_days.order_date) as payback_date
    from cumulative_revenue_days
    inner join spend_totals
        on cumulative_revenue_days.period_start = spend_totals.period_start
        and cumulative_revenue_days.acquisition_channel = spend_totals.acquisition_channel
    where cumulative_revenue_days.cumulative_revenue * {{gross_margin_rate}} >= spend_totals.spend
    group by cumulative_revenue_days.period_start, cumulative_revenue_days.acquisition_channel

),

-- A row for 'all' in every period from the first purchase's, and for each channel with spend or
-- customers in a period.
group_keys as (

    select distinct period_start, acquisition_channel
    from (
        select periods.period_start, 'all' as acquisition_channel from periods
        union all
        select period_start, acquisition_channel from acquisition_totals
        union all
        select period_start, acquisition_channel from spend_totals
    ) as candidate_keys

),

measures as (

    select
        group_keys.period_start,
        group_keys.acquisition_channel,
        cast(spend_totals.spend as double) as spend,
        coalesce(acquisition_totals.new_customers, 0) as new_customers,
        cast(spend_totals.spend as double) / nullif(acquisition_totals.new_customers, 0) as cac,
        cast(coalesce(acquisition_totals.first_purchase_revenue, 0) as double) as first_purchase_revenue,
        cast(acquisition_totals.net_revenue as double) / nullif(acquisition_totals.new_customers, 0) as net_revenue_per_customer,
        -- The simple CLV formula with the group's AOV and the base's frequency and lifespan
        -- (clv_summary): a young cohort has not yet shown its own.
        cast(acquisition_totals.net_revenue as double) / nullif(acquisition_totals.purchases, 0)
            * classic_clv.purchase_frequency_per_year * classic_clv.expected_lifespan_years as mean_classic_clv,
        cast(acquisition_totals.predicted_clv_total as double) / nullif(acquisition_totals.customers_with_clv, 0) as mean_predicted_clv,
        case
            when spend_totals.spend is null then null
            when spend_totals.spend = 0 then 0
            else date_diff('day', group_keys.period_start, paybacks.payback_date)
        end as payback_days
    from group_keys
    cross join first_purchase_period
    cross join classic_clv
    left join spend_totals
        on group_keys.period_start = spend_totals.period_start
        and group_keys.acquisition_channel = spend_totals.acquisition_channel
    left join acquisition_totals
        on group_keys.period_start = acquisition_totals.period_start
        and group_keys.acquisition_channel = acquisition_totals.acquisition_channel
    left join paybacks
        on group_keys.period_start = paybacks.period_start
        and group_keys.acquisition_channel = paybacks.acquisition_channel
    where group_keys.period_start >= first_purchase_period.period_start

),

final as (

    select
        period_start,
        acquisition_channel,
        spend,
        new_customers,
        cac,
        first_purchase_revenue,
        net_revenue_per_customer,
        mean_classic_clv,
        mean_predicted_clv,
        mean_classic_clv / nullif(cac, 0) as ltv_cac_classic,
        mean_predicted_clv / nullif(cac, 0) as ltv_cac_predicted,
        payback_days,
        date '{{as_of}}' as as_of
    from measures

)

select * from final
