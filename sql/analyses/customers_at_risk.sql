-- Valuable customers at risk
-- The 100 customers at the newest as_of most worth keeping among those more likely gone than
-- not: ranked by predicted CLV if retained (predicted_clv / p_alive), with what they did so far.

select
    predictions.customer_id,
    segments.segment,
    customers.purchases,
    customers.net_revenue,
    customers.days_since_last_purchase,
    customers.last_nps_category,
    predictions.churn_probability,
    predictions.predicted_clv,
    predictions.predicted_clv / nullif(predictions.p_alive, 0) as clv_if_retained,
    predictions.expected_next_purchase_date
from latest_customer_clv as predictions
inner join latest_customer_summary as customers
    on predictions.customer_id = customers.customer_id
inner join latest_rfm_segments as segments
    on predictions.customer_id = segments.customer_id
where predictions.churn_probability >= 0.5
order by clv_if_retained desc nulls last, predictions.customer_id
limit 100
