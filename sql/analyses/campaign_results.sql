-- Campaign results
-- Each campaign against its randomised holdout at the newest as_of, pooled over the sends whose
-- conversion window ended in the trailing results window, on what the campaign asks for (a
-- purchase, or for a referral ask a new customer referred), with a verdict read from the 95 %
-- interval of that uplift: an interval that includes 0 shows no measurable effect.

with asked as (

    select
        campaign,
        asks_for,
        sends,
        treatment_customers,
        holdout_customers,
        case when asks_for = 'referral' then treatment_referral_rate else treatment_conversion_rate end as treatment_rate,
        case when asks_for = 'referral' then holdout_referral_rate else holdout_conversion_rate end as holdout_rate,
        case when asks_for = 'referral' then referral_uplift else uplift end as uplift,
        case when asks_for = 'referral' then referral_uplift_ci_low else uplift_ci_low end as uplift_ci_low,
        case when asks_for = 'referral' then referral_uplift_ci_high else uplift_ci_high end as uplift_ci_high,
        case when asks_for = 'referral' then referral_p_value else p_value end as p_value,
        -- What the message added, in what the campaign asks for; the other figure is left out.
        case when asks_for = 'purchase' then incremental_revenue end as incremental_revenue,
        case when asks_for = 'referral' then incremental_referred_customers end as incremental_referred_customers
    from latest_campaign_results

)

select
    *,
    case
        when uplift_ci_low > 0 then 'lifts ' || asks_for || 's'
        when uplift_ci_high < 0 then 'lowers ' || asks_for || 's'
        else 'no measurable effect'
    end as verdict
from asked
order by uplift desc nulls last, campaign
