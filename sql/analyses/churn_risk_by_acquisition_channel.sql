-- Churn risk by acquisition channel
-- Customers at the newest as_of by the channel of their first purchase (customer_orders'
-- acquisition_channel; "(none)" when it gave no channel, as in channel_metrics): how many are
-- likely gone, and the value at stake.

with acquisitions as (

    select distinct
        customer_id,
        acquisition_channel
    from latest_customer_orders
    where is_purchase

)

select
    coalesce(acquisitions.acquisition_channel, '(none)') as acquisition_channel,
    count(*) as customers,
    avg(predictions.churn_probability) as mean_churn_probability,
    count(case when predictions.churn_probability >= 0.5 then 1 end) as likely_churned,
    cast(count(case when predictions.churn_probability >= 0.5 then 1 end) as double) / count(*) as likely_churned_share,
    avg(predictions.predicted_clv) as mean_predicted_clv,
    sum(predictions.historical_net_revenue) as net_revenue
from latest_customer_clv as predictions
left join acquisitions
    on predictions.customer_id = acquisitions.customer_id
group by coalesce(acquisitions.acquisition_channel, '(none)')
order by customers desc
