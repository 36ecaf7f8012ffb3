-- Treatment against holdout, twice: for every send in the published log before as_of (one row
-- per send date and campaign, scope 'send'), and per campaign pooled over the sends that held
-- customers out and whose conversion window ended within the trailing results window (scope
-- 'trailing'). Each row
-- holds the two groups' sizes, converters (customers with a purchase dated after the send and
-- up to the window's end or as_of, whichever is earlier), net revenue in the window, referrers
-- (customers who referred a new customer whose first purchase fell in the window: what the
-- referral-ask campaign asks for) and the statistics of each difference, written once here for
-- both outcomes and both scopes: campaign_outcomes and campaign_results publish them.

with published as (

    -- Sends before as_of: a send on as_of itself can have no purchase after it yet, and leaving
    -- it out keeps a re-run of the date identical after that date was published.
    select * from published_messages
    where as_of < date '{{as_of}}'

),

purchases as (

    select * from stg_purchases

),

referred_first_purchases as (

    -- New customers who named a referrer: their first purchase, dated up to as_of.
    select referred_by, order_date
    from customer_orders
    where as_of = date '{{as_of}}'
        and is_first_purchase
        and referred_by is not null

),

constants as (

    -- z_975: the 97.5th percentile of the standard normal distribution, for 95 % intervals.
    select
        cast(1.959963984540054 as double) as z_975,
        cast(1.959963984540054 as double) * cast(1.959963984540054 as double) as z_975_squared

),

send_members as (

    -- One row per customer of a send. Lines logged before holdouts existed were all sent.
    select
        as_of as send_date,
        campaign,
        customer_id,
        bool_or(coalesce(is_holdout, false)) as is_holdout,
        cast(as_of + interval '{{conversion_window_days}}' day as date) as window_end
    from published
    group by as_of, campaign, customer_id

),

member_purchases as (

    select
        send_members.send_date,
        send_members.campaign,
        send_members.customer_id,
        send_members.is_holdout,
        send_members.window_end,
        count(purchases.order_id) as window_purchases,
        -- As decimal, so that group totals do not depend on the order of the rows.
        coalesce(sum(cast(purchases.net_revenue as decimal(38, 6))), cast(0 as decimal(38, 6))) as window_net_revenue
    from send_members
    left join purchases
        on send_members.customer_id = purchases.customer_id
        and purchases.purchase_date > send_members.send_date
        and purchases.purchase_date <= send_members.window_end
        and purchases.purchase_date <= date '{{as_of}}'
    group by
        send_members.send_date,
        send_members.campaign,
        send_members.customer_id,
        send_members.is_holdout,
        send_members.window_end

),

member_referrals as (

    select
        send_members.send_date,
        send_members.campaign,
        send_members.customer_id,
        count(*) as window_referrals
    from send_members
    inner join referred_first_purchases
        on send_members.customer_id = referred_first_purchases.referred_by
        and referred_first_purchases.order_date > send_members.send_date
        and referred_first_purchases.order_date <= send_members.window_end
    group by send_members.send_date, send_members.campaign, send_members.customer_id

),

member_outcomes as (

    select
        member_purchases.*,
        coalesce(member_referrals.window_referrals, 0) as window_referrals
    from member_purchases
    left join member_referrals
        on member_purchases.send_date = member_referrals.send_date
        and member_purchases.campaign = member_referrals.campaign
        and member_purchases.customer_id = member_referrals.customer_id

),

per_send as (

    select
        'send' as scope,
        campaign,
        send_date,
        send_date as first_send_date,
        send_date as last_send_date,
        cast(1 as bigint) as sends,
        window_end,
        window_end <= date '{{as_of}}' as window_complete,
        count(case when not is_holdout then 1 end) as treatment_customers,
        count(case when is_holdout then 1 end) as holdout_customers,
        count(case when not is_holdout and window_purchases > 0 then 1 end) as treatment_converters,
        count(case when is_holdout and window_purchases > 0 then 1 end) as holdout_converters,
        coalesce(sum(case when not is_holdout then window_net_revenue end), cast(0 as decimal(38, 6))) as treatment_net_revenue,
        coalesce(sum(case when is_holdout then window_net_revenue end), cast(0 as decimal(38, 6))) as holdout_net_revenue,
        count(case when not is_holdout and window_referrals > 0 then 1 end) as treatment_referrers,
        count(case when is_holdout and window_referrals > 0 then 1 end) as holdout_referrers,
        cast(coalesce(sum(case when not is_holdout then window_referrals end), 0) as bigint) as treatment_referred_customers,
        cast(coalesce(sum(case when is_holdout then window_referrals end), 0) as bigint) as holdout_referred_customers,
        count(*) as distinct_customers
    from member_outcomes
    group by campaign, send_date, window_end

),

pooled_sends as (

    -- The sends campaign_results pools: their windows ended in the trailing results window, and
    -- they have both groups (a send without a holdout, such as one logged before holdouts
    -- existed, has nothing to compare with and would only weigh on the treatment side).
    select * from per_send
    where window_end <= date '{{as_of}}'
        and window_end > cast(date '{{as_of}}' - interval '{{results_trailing_days}}' day as date)
        and treatment_customers > 0
        and holdout_customers > 0

),

pooled_customers as (

    select
        member_outcomes.campaign,
        count(distinct member_outcomes.customer_id) as distinct_customers
    from member_outcomes
    inner join pooled_sends
        on member_outcomes.campaign = pooled_sends.campaign
        and member_outcomes.send_date = pooled_sends.send_date
    group by member_outcomes.campaign

),

pooled as (

    -- A customer in several sends of a campaign counts once per send: the unit is a send to a
    -- customer. distinct_customers says how many people are behind the pooled figures.
    select
        'trailing' as scope,
        pooled_sends.campaign,
        cast(null as date) as send_date,
        min(pooled_sends.send_date) as first_send_date,
        max(pooled_sends.send_date) as last_send_date,
        cast(count(*) as bigint) as sends,
        max(pooled_sends.window_end) as window_end,
        true as window_complete,
        cast(sum(pooled_sends.treatment_customers) as bigint) as treatment_customers,
        cast(sum(pooled_sends.holdout_customers) as bigint) as holdout_customers,
        cast(sum(pooled_sends.treatment_converters) as bigint) as treatment_converters,
        cast(sum(pooled_sends.holdout_converters) as bigint) as holdout_converters,
        sum(pooled_sends.treatment_net_revenue) as treatment_net_revenue,
        sum(pooled_sends.holdout_net_revenue) as holdout_net_revenue,
        cast(sum(pooled_sends.treatment_referrers) as bigint) as treatment_referrers,
        cast(sum(pooled_sends.holdout_referrers) as bigint) as holdout_referrers,
        cast(sum(pooled_sends.treatment_referred_customers) as bigint) as treatment_referred_customers,
        cast(sum(pooled_sends.holdout_referred_customers) as bigint) as holdout_referred_customers,
        pooled_customers.distinct_customers
    from pooled_sends
    inner join pooled_customers
        on pooled_sends.campaign = pooled_customers.campaign
    group by pooled_sends.campaign, pooled_customers.distinct_customers

),

comparisons as (

    select * from per_send
    union all
    select * from pooled

),

outcome_counts as (

    -- Each comparison twice, once per outcome, so that the statistics below are written once:
    -- a success is a converter for 'conversion' and a referrer for 'referral'.
    select
        scope,
        campaign,
        first_send_date,
        'conversion' as outcome,
        treatment_customers,
        holdout_customers,
        treatment_converters as treatment_successes,
        holdout_converters as holdout_successes
    from comparisons
    union all
    select
        scope,
        campaign,
        first_send_date,
        'referral' as outcome,
        treatment_customers,
        holdout_customers,
        treatment_referrers as treatment_successes,
        holdout_referrers as holdout_successes
    from comparisons

),

rates as (

    select
        outcome_counts.*,
        cast(treatment_customers as double) as treatment_n,
        cast(holdout_customers as double) as holdout_n,
        case
            when treatment_customers > 0 then cast(treatment_successes as double) / treatment_customers
        end as treatment_rate,
        case
            when holdout_customers > 0 then cast(holdout_successes as double) / holdout_customers
        end as holdout_rate,
        case
            when treatment_customers + holdout_customers > 0
                then cast(treatment_successes + holdout_successes as double) / (treatment_customers + holdout_customers)
        end as pooled_rate
    from outcome_counts

),

wilson as (

    -- Wilson score interval of each group's rate p over n customers, as centre -/+ spread:
    -- (p + z^2 / 2n) / (1 + z^2 / n) -/+ z sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n).
    select
        rates.*,
        (treatment_rate + constants.z_975_squared / (2 * treatment_n))
            / (1 + constants.z_975_squared / treatment_n) as treatment_wilson_centre,
        constants.z_975 * sqrt(
            treatment_rate * (1 - treatment_rate) / treatment_n
            + constants.z_975_squared / (4 * treatment_n * treatment_n)
        ) / (1 + constants.z_975_squared / treatment_n) as treatment_wilson_spread,
        (holdout_rate + constants.z_975_squared / (2 * holdout_n))
            / (1 + constants.z_975_squared / holdout_n) as holdout_wilson_centre,
        constants.z_975 * sqrt(
            holdout_rate * (1 - holdout_rate) / holdout_n
            + constants.z_975_squared / (4 * holdout_n * holdout_n)
        ) / (1 + constants.z_975_squared / holdout_n) as holdout_wilson_spread
    from rates
    cross join constants
    -- An empty group (n = 0) has a null rate, so its centre and spread are null: a double
    -- divided by 0 is no error in either engine, and the null carries through.

),

bounds as (

    select
        wilson.*,
        -- Guarded: greatest(0, null) is 0 in DuckDB and null in Trino.
        case when treatment_customers > 0 then greatest(0, treatment_wilson_centre - treatment_wilson_spread) end as treatment_rate_low,
        case when treatment_customers > 0 then least(1, treatment_wilson_centre + treatment_wilson_spread) end as treatment_rate_high,
        case when holdout_customers > 0 then greatest(0, holdout_wilson_centre - holdout_wilson_spread) end as holdout_rate_low,
        case when holdout_customers > 0 then least(1, holdout_wilson_centre + holdout_wilson_spread) end as holdout_rate_high
    from wilson

),

group_statistics as (

    select
        scope,
        campaign,
        first_send_date,
        outcome,
        treatment_rate,
        holdout_rate,
        treatment_rate - holdout_rate as uplift,
        -- Newcombe's hybrid score interval for a difference of proportions (his method 10),
        -- from the two Wilson intervals.
        treatment_rate - holdout_rate - sqrt(
            power(treatment_rate - treatment_rate_low, 2) + power(holdout_rate_high - holdout_rate, 2)
        ) as uplift_ci_low,
        treatment_rate - holdout_rate + sqrt(
            power(treatment_rate_high - treatment_rate, 2) + power(holdout_rate - holdout_rate_low, 2)
        ) as uplift_ci_high,
        -- Two-sided z-test with the pooled rate. When both groups succeeded at 0 % (or both at
        -- 100 %) there is no difference to test: 1, as Fisher's exact test gives.
        case
            when treatment_customers = 0 or holdout_customers = 0 then null
            when pooled_rate in (0, 1) then cast(1 as double)
            else 2 * normal_cdf(0, 1, -abs(treatment_rate - holdout_rate) / sqrt(
                pooled_rate * (1 - pooled_rate) * (1 / treatment_n + 1 / holdout_n)
            ))
        end as p_value
    from bounds

),

conversion as (

    select * from group_statistics where outcome = 'conversion'

),

referral as (

    select * from group_statistics where outcome = 'referral'

),

final as (

    select
        comparisons.scope,
        comparisons.campaign,
        comparisons.send_date,
        comparisons.first_send_date,
        comparisons.last_send_date,
        comparisons.sends,
        {{conversion_window_days}} as conversion_window_days,
        comparisons.window_end,
        comparisons.window_complete,
        comparisons.treatment_customers,
        comparisons.holdout_customers,
        comparisons.treatment_converters,
        comparisons.holdout_converters,
        comparisons.distinct_customers,
        conversion.treatment_rate as treatment_conversion_rate,
        conversion.holdout_rate as holdout_conversion_rate,
        conversion.uplift,
        conversion.uplift_ci_low,
        conversion.uplift_ci_high,
        conversion.p_value,
        cast(comparisons.treatment_net_revenue as double) as treatment_net_revenue,
        cast(comparisons.holdout_net_revenue as double) as holdout_net_revenue,
        case
            when comparisons.treatment_customers > 0
                then cast(comparisons.treatment_net_revenue as double) / comparisons.treatment_customers
        end as revenue_per_treatment_customer,
        case
            when comparisons.holdout_customers > 0
                then cast(comparisons.holdout_net_revenue as double) / comparisons.holdout_customers
        end as revenue_per_holdout_customer,
        conversion.uplift * comparisons.treatment_customers as incremental_converters,
        case
            when comparisons.treatment_customers > 0 and comparisons.holdout_customers > 0
                then (
                    cast(comparisons.treatment_net_revenue as double) / comparisons.treatment_customers
                    - cast(comparisons.holdout_net_revenue as double) / comparisons.holdout_customers
                ) * comparisons.treatment_customers
        end as incremental_revenue,
        comparisons.treatment_referrers,
        comparisons.holdout_referrers,
        referral.treatment_rate as treatment_referral_rate,
        referral.holdout_rate as holdout_referral_rate,
        referral.uplift as referral_uplift,
        referral.uplift_ci_low as referral_uplift_ci_low,
        referral.uplift_ci_high as referral_uplift_ci_high,
        referral.p_value as referral_p_value,
        comparisons.treatment_referred_customers,
        comparisons.holdout_referred_customers,
        case
            when comparisons.treatment_customers > 0 and comparisons.holdout_customers > 0
                then (
                    cast(comparisons.treatment_referred_customers as double) / comparisons.treatment_customers
                    - cast(comparisons.holdout_referred_customers as double) / comparisons.holdout_customers
                ) * comparisons.treatment_customers
        end as incremental_referred_customers
    from comparisons
    inner join conversion
        on comparisons.scope = conversion.scope
        and comparisons.campaign = conversion.campaign
        and comparisons.first_send_date = conversion.first_send_date
    inner join referral
        on comparisons.scope = referral.scope
        and comparisons.campaign = referral.campaign
        and comparisons.first_send_date = referral.first_send_date

)

select * from final
