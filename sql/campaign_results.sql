-- Campaign results: per campaign, treatment against holdout pooled over every send whose
-- conversion window ended in the results window (the trailing resultsTrailingDays up to
-- as_of) and that held customers out. Only complete windows count, so every send contributes
-- the same length of follow-up. Conversion and referral (what the referral-ask campaign asks
-- for) are each compared.

with comparisons as (

    select * from stg_campaign_comparisons
    where scope = 'trailing'

),

final as (

    select
        campaign,
        -- What the campaign asks of the customer: the outcome to read its results on.
        case when campaign in ({{referral_asking_campaigns}}) then 'referral' else 'purchase' end as asks_for,
        sends,
        first_send_date,
        last_send_date,
        {{results_trailing_days}} as results_trailing_days,
        conversion_window_days,
        treatment_customers,
        holdout_customers,
        treatment_converters,
        holdout_converters,
        distinct_customers,
        treatment_conversion_rate,
        holdout_conversion_rate,
        uplift,
        uplift_ci_low,
        uplift_ci_high,
        p_value,
        treatment_net_revenue,
        holdout_net_revenue,
        revenue_per_treatment_customer,
        revenue_per_holdout_customer,
        incremental_converters,
        incremental_revenue,
        treatment_referrers,
        holdout_referrers,
        treatment_referral_rate,
        holdout_referral_rate,
        referral_uplift,
        referral_uplift_ci_low,
        referral_uplift_ci_high,
        referral_p_value,
        treatment_referred_customers,
        holdout_referred_customers,
        incremental_referred_customers,
        date '{{as_of}}' as as_of
    from comparisons

)

select * from final
