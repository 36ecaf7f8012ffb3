-- Per-customer campaign actions for the as_of: every rule proposes candidates, each customer
-- keeps only their highest-priority campaign, and that action is dropped if the same campaign
-- was published to the customer within its cooldown.

with customers as (

    select * from customer_summary where as_of = date '{{as_of}}'

),

segments as (

    select * from rfm_segments where as_of = date '{{as_of}}'

),

predictions as (

    select * from customer_clv where as_of = date '{{as_of}}'

),

published_before as (

    -- Only earlier runs count: re-running a date must propose the same audience again.
    select
        campaign,
        customer_id,
        max(as_of) as last_published_as_of
    from published_messages
    where as_of < date '{{as_of}}'
    group by campaign, customer_id

),

profiles as (

    select
        customers.customer_id,
        customers.purchases,
        customers.purchase_days,
        customers.frequency,
        customers.net_revenue,
        customers.recency_days,
        customers.tenure_days,
        customers.days_since_last_purchase,
        customers.is_active,
        customers.last_nps_score,
        customers.last_nps_category,
        date_diff('day', customers.last_nps_date, date '{{as_of}}') as days_since_nps,
        segments.segment,
        predictions.p_alive,
        predictions.churn_probability,
        predictions.predicted_clv,
        -- Money is ranked in cents, so float noise in a sum never splits a tie.
        percent_rank() over (order by round(customers.net_revenue, 2)) as value_percent_rank,
        -- Customers without a prediction (model not fitted) are ranked apart and never count as top.
        case
            when predictions.predicted_clv is not null then percent_rank() over (
                partition by predictions.predicted_clv is null
                order by round(predictions.predicted_clv, 2)
            )
        end as clv_percent_rank,
        -- What is at stake if the customer stays: predicted CLV without the discount for the
        -- chance they are gone (a customer likely gone always has a small predicted CLV).
        predictions.predicted_clv / nullif(predictions.p_alive, 0) as clv_if_retained,
        case
            when predictions.p_alive > 0 and predictions.predicted_clv is not null then percent_rank() over (
                partition by predictions.p_alive > 0 and predictions.predicted_clv is not null
                order by round(predictions.predicted_clv / predictions.p_alive, 2)
            )
        end as clv_if_retained_percent_rank,
        case
            when customers.frequency > 0 then cast(customers.recency_days as double) / customers.frequency
        end as usual_gap_days
    from customers
    left join segments
        on customers.customer_id = segments.customer_id
    left join predictions
        on customers.customer_id = predictions.customer_id

),

candidates as (

    select
        'win_back' as campaign,
        {{win_back_priority}} as priority,
        customer_id,
        'no purchase for ' || cast(days_since_last_purchase as varchar) || ' days; '
            || case
                when value_percent_rank >= 1 - {{win_back_top_value_share}}
                    then 'net revenue ' || cast(cast(round(net_revenue, 2) as decimal(18, 2)) as varchar)
                else 'predicted CLV ' || cast(cast(round(predicted_clv, 2) as decimal(18, 2)) as varchar)
            end
            || ' is in the top ' || cast(cast(round(100 * {{win_back_top_value_share}}, 0) as integer) as varchar) || '%'
            || coalesce('; churn probability ' || cast(cast(round(100 * churn_probability, 0) as integer) as varchar) || '%', '') as reason
    from profiles
    where {{win_back_enabled}}
        and not is_active
        and days_since_last_purchase <= {{win_back_max_days_since_last_purchase}}
        and (churn_probability is null or churn_probability >= {{win_back_min_churn_probability}})
        and (
            value_percent_rank >= 1 - {{win_back_top_value_share}}
            or clv_percent_rank >= 1 - {{win_back_top_value_share}}
        )

    union all

    select
        'churn_risk' as campaign,
        {{churn_risk_priority}} as priority,
        customer_id,
        'last purchase ' || cast(days_since_last_purchase as varchar) || ' days ago; usually every '
            || cast(cast(round(usual_gap_days, 0) as integer) as varchar) || ' days' as reason
    from profiles
    where {{churn_risk_enabled}}
        and is_active
        and frequency >= {{churn_risk_min_repeat_days}}
        and days_since_last_purchase > {{churn_risk_gap_multiplier}} * usual_gap_days

    union all

    select
        'churn_risk' as campaign,
        {{churn_risk_priority}} as priority,
        customer_id,
        'P(alive) ' || cast(cast(round(p_alive, 2) as decimal(4, 2)) as varchar) || '; CLV if retained '
            || cast(cast(round(clv_if_retained, 2) as decimal(18, 2)) as varchar) || ' is in the top '
            || cast(cast(round(100 * {{churn_risk_top_value_share}}, 0) as integer) as varchar) || '%' as reason
    from profiles
    where {{churn_risk_enabled}}
        and is_active
        and p_alive < {{churn_risk_max_probability_alive}}
        and clv_if_retained_percent_rank >= 1 - {{churn_risk_top_value_share}}

    union all

    select
        'loyalty_upgrade' as campaign,
        {{loyalty_upgrade_priority}} as priority,
        customer_id,
        'RFM segment ' || segment as reason
    from profiles
    where {{loyalty_upgrade_enabled}}
        and segment in ({{loyalty_upgrade_segments}})

    union all

    select
        'referral_ask' as campaign,
        {{referral_ask_priority}} as priority,
        customer_id,
        'promoter (scored ' || cast(last_nps_score as varchar) || ', ' || cast(days_since_nps as varchar)
            || ' days ago); purchased ' || cast(days_since_last_purchase as varchar) || ' days ago' as reason
    from profiles
    where {{referral_ask_enabled}}
        and last_nps_category = 'promoter'
        and days_since_nps <= {{referral_ask_max_days_since_response}}
        and days_since_last_purchase <= {{referral_ask_max_days_since_purchase}}

    union all

    select
        'service_recovery' as campaign,
        {{service_recovery_priority}} as priority,
        customer_id,
        'detractor (scored ' || cast(last_nps_score as varchar) || ', ' || cast(days_since_nps as varchar)
            || ' days ago); net revenue ' || cast(cast(round(net_revenue, 2) as decimal(18, 2)) as varchar) as reason
    from profiles
    where {{service_recovery_enabled}}
        and last_nps_category = 'detractor'
        and days_since_nps <= {{service_recovery_max_days_since_response}}

    union all

    select
        'second_purchase' as campaign,
        {{second_purchase_priority}} as priority,
        customer_id,
        'one purchase day so far, ' || cast(tenure_days as varchar) || ' days ago' as reason
    from profiles
    where {{second_purchase_enabled}}
        and purchase_days = 1
        and tenure_days between {{second_purchase_min_days_since_first_purchase}}
        and {{second_purchase_max_days_since_first_purchase}}

),

cooldown_days as (

    select 'win_back' as campaign, {{win_back_cooldown_days}} as days
    union all select 'churn_risk' as campaign, {{churn_risk_cooldown_days}} as days
    union all select 'loyalty_upgrade' as campaign, {{loyalty_upgrade_cooldown_days}} as days
    union all select 'referral_ask' as campaign, {{referral_ask_cooldown_days}} as days
    union all select 'service_recovery' as campaign, {{service_recovery_cooldown_days}} as days
    union all select 'second_purchase' as campaign, {{second_purchase_cooldown_days}} as days

),

chosen as (

    -- The customer's best action this run; if it is in its cooldown the customer waits rather
    -- than being handed the next campaign down (which would contact them again every day).
    select
        candidates.*,
        row_number() over (
            partition by candidates.customer_id
            order by candidates.priority desc, candidates.campaign, candidates.reason
        ) as customer_choice
    from candidates

),

eligible as (

    select chosen.*
    from chosen
    inner join cooldown_days
        on chosen.campaign = cooldown_days.campaign
    left join published_before
        on chosen.campaign = published_before.campaign
        and chosen.customer_id = published_before.customer_id
    where chosen.customer_choice = 1
        and (
            published_before.last_published_as_of is null
            or date_diff('day', published_before.last_published_as_of, date '{{as_of}}') >= cooldown_days.days
        )

),

final as (

    select
        eligible.campaign,
        eligible.customer_id,
        eligible.priority,
        eligible.reason,
        -- Within a campaign, the most valuable customers come first.
        row_number() over (
            partition by eligible.campaign
            order by profiles.net_revenue desc, eligible.customer_id
        ) as rank_in_campaign,
        profiles.net_revenue,
        profiles.purchases,
        profiles.days_since_last_purchase,
        profiles.last_nps_score,
        profiles.segment,
        profiles.p_alive,
        profiles.predicted_clv,
        date '{{as_of}}' as as_of
    from eligible
    inner join profiles
        on eligible.customer_id = profiles.customer_id

)

select * from final
