-- One row per customer with at least one purchase at the as_of cut: purchase history, value,
-- the purchase models' inputs (frequency, recency, tenure), whether they are in the active base,
-- and the latest NPS answer.

with purchases as (

    select * from stg_purchases

),

responses as (

    select * from stg_survey_responses

),

-- The spell of the active base (if any) that holds as_of: the customer is active.
active_spells as (

    select customer_id
    from stg_customer_base
    where date '{{as_of}}' between active_from and active_until

),

-- One row per customer and day with a purchase, then one per customer: the days are what
-- frequency and the spend model count.
purchase_days as (

    select
        customer_id,
        purchase_date,
        count(*) as day_purchases,
        min(placed_at) as first_placed_at,
        max(placed_at) as last_placed_at,
        min(period_start) as day_period_start,
        -- Money is summed as decimal: a sum of doubles depends on the order of its rows (file
        -- layout, threads), so the same data could give 500.87 one run and 500.86999999999995 the next.
        sum(cast(net_revenue as decimal(38, 6))) as day_net_revenue
    from purchases
    group by customer_id, purchase_date

),

purchase_totals as (

    select
        customer_id,
        min(first_placed_at) as first_purchase_at,
        max(last_placed_at) as last_purchase_at,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        min(day_period_start) as cohort_start,
        cast(sum(day_purchases) as bigint) as purchases,
        count(*) as purchase_days,
        cast(sum(day_net_revenue) as double) as net_revenue,
        -- Gamma-Gamma's spend input: the mean per-day net revenue over repeat days only, that is
        -- every day but the first (all of them less the first, in decimal: exact, and no second
        -- pass to number the days).
        -- (coalesce: DuckDB's min_by skips a null value where Trino's returns it; revenue is never null)
        cast(sum(day_net_revenue) - min_by(coalesce(day_net_revenue, 0), purchase_date) as double)
            / nullif(count(*) - 1, 0) as avg_repeat_day_net_revenue
    from purchase_days
    group by customer_id

),

ranked_responses as (

    select
        customer_id,
        score,
        nps_category,
        responded_at,
        response_date,
        row_number() over (
            partition by customer_id
            order by responded_at desc, event_id desc
        ) as recency_rank
    from responses

),

latest_responses as (

    select
        customer_id,
        score as last_nps_score,
        nps_category as last_nps_category,
        responded_at as last_nps_at,
        response_date as last_nps_date
    from ranked_responses
    where recency_rank = 1

),

final as (

    select
        purchase_totals.customer_id,
        purchase_totals.first_purchase_at,
        purchase_totals.last_purchase_at,
        purchase_totals.first_purchase_date,
        purchase_totals.last_purchase_date,
        purchase_totals.cohort_start,
        purchase_totals.purchases,
        purchase_totals.purchase_days,
        purchase_totals.net_revenue,
        purchase_totals.net_revenue / purchase_totals.purchases as aov,
        purchase_totals.purchase_days - 1 as frequency,
        date_diff('day', purchase_totals.first_purchase_date, purchase_totals.last_purchase_date) as recency_days,
        date_diff('day', purchase_totals.first_purchase_date, date '{{as_of}}') as tenure_days,
        date_diff('day', purchase_totals.last_purchase_date, date '{{as_of}}') as days_since_last_purchase,
        active_spells.customer_id is not null as is_active,
        purchase_totals.avg_repeat_day_net_revenue,
        latest_responses.last_nps_score,
        latest_responses.last_nps_category,
        latest_responses.last_nps_at,
        latest_responses.last_nps_date,
        date '{{as_of}}' as as_of
    from purchase_totals
    left join latest_responses
        on purchase_totals.customer_id = latest_responses.customer_id
    left join active_spells
        on purchase_totals.customer_id = active_spells.customer_id

)

select * from final
