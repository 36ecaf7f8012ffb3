-- Per acquisition channel (the channel of a customer's first purchase): customers acquired, how
-- many bought again, net revenue per customer 90, 180 and 365 days after the first purchase
-- (over the customers acquired long enough ago to have been observed that long), and the mean
-- predicted CLV.

with purchases as (

    select * from customer_orders where is_purchase

),

customers as (

    select
        customer_id,
        -- Customers whose first purchase gave no channel are grouped as (none).
        coalesce(max(acquisition_channel), '(none)') as acquisition_channel,
        min(order_date) as first_purchase_date,
        count(*) as purchases,
        sum(cast(net_amount as decimal(38, 6))) as net_revenue
    from purchases
    group by customer_id

),

-- Net revenue of each customer's purchases dated in the first N days from the first purchase
-- (day 0 to N - 1), known only when those days are over by as_of.
early_revenue as (

    select
        customers.customer_id,
        customers.first_purchase_date <= cast(date '{{as_of}}' - interval '89' day as date) as observed_90d,
        customers.first_purchase_date <= cast(date '{{as_of}}' - interval '179' day as date) as observed_180d,
        customers.first_purchase_date <= cast(date '{{as_of}}' - interval '364' day as date) as observed_365d,
        sum(case
            when purchases.order_date < cast(customers.first_purchase_date + interval '90' day as date)
                then cast(purchases.net_amount as decimal(38, 6)) else 0
        end) as revenue_90d,
        sum(case
            when purchases.order_date < cast(customers.first_purchase_date + interval '180' day as date)
                then cast(purchases.net_amount as decimal(38, 6)) else 0
        end) as revenue_180d,
        sum(case
            when purchases.order_date < cast(customers.first_purchase_date + interval '365' day as date)
                then cast(purchases.net_amount as decimal(38, 6)) else 0
        end) as revenue_365d
    from customers
    inner join purchases
        on customers.customer_id = purchases.customer_id
    group by customers.customer_id, customers.first_purchase_date

),

final as (

    select
        customers.acquisition_channel,
        count(*) as customers_acquired,
        count(case when customers.purchases >= 2 then 1 end) as repeat_customers,
        cast(count(case when customers.purchases >= 2 then 1 end) as double) / count(*) as repeat_purchase_rate,
        cast(sum(customers.net_revenue) as double) / count(*) as net_revenue_per_customer,
        count(case when early_revenue.observed_90d then 1 end) as customers_observed_90d,
        cast(sum(case when early_revenue.observed_90d then early_revenue.revenue_90d end) as double)
            / nullif(count(case when early_revenue.observed_90d then 1 end), 0) as net_revenue_per_customer_90d,
        count(case when early_revenue.observed_180d then 1 end) as customers_observed_180d,
        cast(sum(case when early_revenue.observed_180d then early_revenue.revenue_180d end) as double)
            / nullif(count(case when early_revenue.observed_180d then 1 end), 0) as net_revenue_per_customer_180d,
        count(case when early_revenue.observed_365d then 1 end) as customers_observed_365d,
        cast(sum(case when early_revenue.observed_365d then early_revenue.revenue_365d end) as double)
            / nullif(count(case when early_revenue.observed_365d then 1 end), 0) as net_revenue_per_customer_365d,
        -- Summed as decimal, so that the mean does not depend on the order of the rows.
        cast(sum(cast(customer_clv.predicted_clv as decimal(38, 9))) as double)
            / nullif(count(customer_clv.predicted_clv), 0) as mean_predicted_clv,
        date '{{as_of}}' as as_of
    from customers
    inner join early_revenue
        on customers.customer_id = early_revenue.customer_id
    left join customer_clv
        on customers.customer_id = customer_clv.customer_id
    group by customers.acquisition_channel

)

select * from final
