-- Churn risk by acquisition channel
-- Customers at the newest as_of by the channel of their first order (the earliest placed order
-- event, whatever became of it; "unknown" without a channel): how many are likely gone, and the
-- value at stake.

with first_orders as (

    select
        customer_id,
        min_by(channel, occurred_at) as acquisition_channel
    from orders
    where status = 'placed'
    group by customer_id

)

select
    coalesce(first_orders.acquisition_channel, 'unknown') as acquisition_channel,
    count(*) as customers,
    avg(predictions.churn_probability) as mean_churn_probability,
    count(case when predictions.churn_probability >= 0.5 then 1 end) as likely_churned,
    cast(count(case when predictions.churn_probability >= 0.5 then 1 end) as double) / count(*) as likely_churned_share,
    avg(predictions.predicted_clv) as mean_predicted_clv,
    sum(predictions.historical_net_revenue) as net_revenue
from latest_customer_clv as predictions
left join first_orders
    on predictions.customer_id = first_orders.customer_id
group by coalesce(first_orders.acquisition_channel, 'unknown')
order by customers desc
