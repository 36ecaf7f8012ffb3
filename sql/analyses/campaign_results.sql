-- Campaign results
-- Each campaign against its randomised holdout at the newest as_of, pooled over the sends whose
-- conversion window ended in the trailing results window, with a verdict read from the 95 %
-- interval of the uplift: an interval that includes 0 shows no measurable effect.

select
    campaign,
    sends,
    treatment_customers,
    holdout_customers,
    treatment_conversion_rate,
    holdout_conversion_rate,
    uplift,
    uplift_ci_low,
    uplift_ci_high,
    p_value,
    incremental_revenue,
    case
        when uplift_ci_low > 0 then 'lifts conversion'
        when uplift_ci_high < 0 then 'lowers conversion'
        else 'no measurable effect'
    end as verdict
from latest_campaign_results
order by uplift desc nulls last, campaign
