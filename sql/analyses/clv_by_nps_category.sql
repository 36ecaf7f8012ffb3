-- Predicted CLV by NPS category
-- Do promoters spend more? Customers at the newest as_of by the category of their latest survey
-- answer (or none), with their value so far and what the selected purchase model predicts.

select
    coalesce(customers.last_nps_category, 'no answer') as nps_category,
    count(*) as customers,
    avg(customers.net_revenue) as mean_net_revenue,
    avg(customers.purchases) as mean_purchases,
    avg(predictions.p_alive) as mean_p_alive,
    avg(predictions.predicted_clv) as mean_predicted_clv,
    sum(predictions.predicted_clv) as total_predicted_clv
from latest_customer_summary as customers
left join latest_customer_clv as predictions
    on customers.customer_id = predictions.customer_id
group by coalesce(customers.last_nps_category, 'no answer')
order by mean_predicted_clv desc nulls last
