-- Per period: the customers acquired in it, how many were referred (their first purchase named
-- a referrer), by how many referrers, and how referred customers compare with the others: the
-- share who bought again and their mean predicted CLV. A referrer the lake has never seen as a
-- customer still counts: their history may predate the lake.

with orders as (

    select * from customer_orders where as_of = date '{{as_of}}'

),

periods as (

    select period_start, period_end from stg_periods

),

first_purchase_period as (

    select min(cast(date_trunc('{{period_unit}}', order_date) as date)) as period_start
    from orders
    where is_purchase

),

customer_purchases as (

    select
        customer_id,
        count(*) as purchases
    from orders
    where is_purchase
    group by customer_id

),

-- Each customer's first purchase: its period, and whether it named a referrer.
acquired_customers as (

    select
        orders.customer_id,
        cast(date_trunc('{{period_unit}}', orders.order_date) as date) as period_start,
        orders.referred_by,
        orders.referred_by is not null as is_referred,
        customer_purchases.purchases >= 2 as bought_again,
        customer_clv.predicted_clv
    from orders
    inner join customer_purchases
        on orders.customer_id = customer_purchases.customer_id
    left join customer_clv
        on orders.customer_id = customer_clv.customer_id
        and customer_clv.as_of = date '{{as_of}}'
    where orders.is_first_purchase

),

acquisitions_by_period as (

    select
        period_start,
        count(*) as new_customers,
        count(case when is_referred then 1 end) as referred_new_customers,
        count(distinct referred_by) as active_referrers,
        count(case when is_referred and bought_again then 1 end) as referred_repeat_customers,
        count(case when not is_referred and bought_again then 1 end) as other_repeat_customers,
        -- Summed as decimal, so that the means do not depend on the order of the rows.
        sum(case when is_referred then cast(predicted_clv as decimal(38, 9)) end) as referred_clv_total,
        count(case when is_referred then predicted_clv end) as referred_with_clv,
        sum(case when not is_referred then cast(predicted_clv as decimal(38, 9)) end) as other_clv_total,
        count(case when not is_referred then predicted_clv end) as other_with_clv
    from acquired_customers
    group by period_start

),

final as (

    select
        periods.period_start,
        coalesce(acquisitions_by_period.new_customers, 0) as new_customers,
        coalesce(acquisitions_by_period.referred_new_customers, 0) as referred_new_customers,
        cast(acquisitions_by_period.referred_new_customers as double)
            / nullif(acquisitions_by_period.new_customers, 0) as referral_rate,
        coalesce(acquisitions_by_period.active_referrers, 0) as active_referrers,
        cast(acquisitions_by_period.referred_repeat_customers as double)
            / nullif(acquisitions_by_period.referred_new_customers, 0) as referred_repeat_purchase_rate,
        cast(acquisitions_by_period.other_repeat_customers as double)
            / nullif(acquisitions_by_period.new_customers - acquisitions_by_period.referred_new_customers, 0)
            as other_repeat_purchase_rate,
        cast(acquisitions_by_period.referred_clv_total as double)
            / nullif(acquisitions_by_period.referred_with_clv, 0) as referred_mean_predicted_clv,
        cast(acquisitions_by_period.other_clv_total as double)
            / nullif(acquisitions_by_period.other_with_clv, 0) as other_mean_predicted_clv,
        date '{{as_of}}' as as_of
    from periods
    cross join first_purchase_period
    left join acquisitions_by_period
        on periods.period_start = acquisitions_by_period.period_start
    where periods.period_start >= first_purchase_period.period_start

)

select * from final
