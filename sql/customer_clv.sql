-- One row per customer of customer_summary: what the selected purchase model (clv_model.selected)
-- and Gamma-Gamma predict. The models are fitted in the predictive_clv step, which also computes
-- what the selected model gives per distinct history: P(alive) per (frequency, recency, tenure)
-- and, per (frequency, tenure), what a customer still alive is expected to buy (which does not
-- depend on recency). What is left per customer is done here:
--   expected purchases over a horizon = P(alive) x the purchases expected if alive
--   E[order value] = p * (v + x * mean spend) / (p * x + q - 1), where that is positive
-- with x = frequency (Gamma-Gamma). Without a selected model the predictions are null.

with customers as (

    select * from customer_summary

),

spend_model as (

    select p, q, v from clv_model where model = 'gamma_gamma'

),

purchase_curves as (

    select * from stg_clv_purchase_curves

),

probability_alive as (

    select * from stg_clv_probability_alive

),

histories as (

    select
        customers.customer_id,
        customers.net_revenue as historical_net_revenue,
        customers.frequency,
        customers.recency_days,
        customers.tenure_days,
        probability_alive.p_alive,
        case
            when spend_model.p * customers.frequency + spend_model.q - 1 > 0
                then spend_model.p * (spend_model.v + customers.frequency * coalesce(customers.avg_repeat_day_net_revenue, 0))
                    / (spend_model.p * customers.frequency + spend_model.q - 1)
        end as expected_order_value
    from customers
    cross join spend_model
    left join probability_alive
        on customers.frequency = probability_alive.frequency
        and customers.recency_days = probability_alive.recency_days
        and customers.tenure_days = probability_alive.tenure_days

),

final as (

    select
        histories.customer_id,
        histories.historical_net_revenue,
        cast(histories.frequency as integer) as frequency,
        cast(histories.recency_days as double) / 7 as recency_weeks,
        cast(histories.tenure_days as double) / 7 as tenure_weeks,
        histories.p_alive,
        1 - histories.p_alive as churn_probability,
        histories.p_alive * purchase_curves.purchases_if_alive as expected_purchases,
        histories.p_alive * purchase_curves.purchases_if_alive_30d as expected_purchases_30d,
        histories.p_alive * purchase_curves.purchases_if_alive_90d as expected_purchases_90d,
        histories.p_alive * purchase_curves.purchases_if_alive_365d as expected_purchases_365d,
        -- Only with two purchase days or more is there a gap to average.
        case
            when histories.frequency > 0 then cast(histories.recency_days as double) / histories.frequency
        end as average_days_between_purchases,
        -- The first day by which a customer still alive has bought again as likely as not.
        cast(
            date '{{as_of}}' + cast(ceil(purchase_curves.next_purchase_days_if_alive) as integer) * interval '1' day
            as date
        ) as expected_next_purchase_date,
        histories.expected_order_value,
        histories.expected_order_value * histories.p_alive * purchase_curves.discounted_purchases_if_alive as predicted_clv,
        date '{{as_of}}' as as_of
    from histories
    left join purchase_curves
        on histories.frequency = purchase_curves.frequency
        and histories.tenure_days = purchase_curves.tenure_days

)

select * from final
