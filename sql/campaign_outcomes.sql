-- Campaign outcomes per send: one row per send date and campaign in the published log before
-- as_of. Treatment customers were messaged, holdout customers qualified and were deliberately
-- not; a converter bought within the conversion window after the send (up to as_of while the
-- window is still open), and a referrer referred a new customer whose first purchase fell in
-- the window: the measure of the referral-ask campaign. One send is a small sample: read
-- campaign_results for decisions.

with comparisons as (

    select * from stg_campaign_comparisons
    where scope = 'send'

),

final as (

    select
        send_date,
        campaign,
        -- What the campaign asks of the customer: the outcome to read its results on.
        case when campaign in ({{referral_asking_campaigns}}) then 'referral' else 'purchase' end as asks_for,
        conversion_window_days,
        window_end,
        window_complete,
        treatment_customers,
        holdout_customers,
        treatment_converters,
        holdout_converters,
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
