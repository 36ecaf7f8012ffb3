-- One row per customer of customer_summary: P(alive), purchases expected over the horizon,
-- the expected order value and the discounted predicted CLV. The models are fitted in the
-- predictive_clv step, which also computes, per (frequency, tenure), the purchases expected
-- from a customer still alive; what is left per customer is closed-form and done here:
--   P(alive) = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x)), 1 for x = 0
--   E[order value] = p * (v + x * mean spend) / (p * x + q - 1), where that is positive
-- with x = frequency, t_x = recency and T = tenure in weeks (BG/NBD, Gamma-Gamma).

with customers as (

    select * from customer_summary

),

purchase_model as (

    select r, alpha, a, b from clv_model where model = 'bg_nbd'

),

spend_model as (

    select p, q, v from clv_model where model = 'gamma_gamma'

),

purchase_curves as (

    select * from stg_clv_purchase_curves

),

histories as (

    select
        customer_id,
        net_revenue as historical_net_revenue,
        frequency,
        recency_days,
        tenure_days,
        cast(recency_days as double) / 7 as recency_weeks,
        cast(tenure_days as double) / 7 as tenure_weeks,
        coalesce(avg_repeat_day_net_revenue, 0) as mean_repeat_spend
    from customers

),

alive as (

    select
        histories.*,
        case
            when purchase_model.r is null then null
            when histories.frequency = 0 then 1.0
            -- ln of the odds of having dropped out; capped where exp would overflow (P(alive) ~ 0).
            else 1.0 / (1.0 + exp(least(700.0,
                ln(purchase_model.a) - ln(purchase_model.b + histories.frequency - 1)
                + (purchase_model.r + histories.frequency)
                * (ln(purchase_model.alpha + histories.tenure_weeks) - ln(purchase_model.alpha + histories.recency_weeks))
            )))
        end as p_alive,
        case
            when spend_model.p * histories.frequency + spend_model.q - 1 > 0
                then spend_model.p * (spend_model.v + histories.frequency * histories.mean_repeat_spend)
                    / (spend_model.p * histories.frequency + spend_model.q - 1)
        end as expected_order_value
    from histories
    cross join purchase_model
    cross join spend_model

),

final as (

    select
        alive.customer_id,
        alive.historical_net_revenue,
        cast(alive.frequency as integer) as frequency,
        alive.recency_weeks,
        alive.tenure_weeks,
        alive.p_alive,
        alive.p_alive * purchase_curves.purchases_if_alive as expected_purchases,
        alive.expected_order_value,
        alive.expected_order_value * alive.p_alive * purchase_curves.discounted_purchases_if_alive as predicted_clv,
        date '{{as_of}}' as as_of
    from alive
    left join purchase_curves
        on alive.frequency = purchase_curves.frequency
        and alive.tenure_days = purchase_curves.tenure_days

)

select * from final
