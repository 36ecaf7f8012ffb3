-- Net Promoter Score per period, counting each customer's latest response in the period, and
-- over a trailing window ending with the period (or at as_of), counting each customer's
-- latest response in the window. NPS = 100 x (promoters - detractors) / responses.

with responses as (

    select * from stg_survey_responses

),

periods as (

    select * from stg_periods

),

first_response_period as (

    select min(period_start) as period_start from responses

),

reported_periods as (

    select
        periods.period_start,
        periods.period_end,
        least(periods.period_end, date '{{as_of}}') as window_end_date
    from periods
    cross join first_response_period
    where periods.period_start >= first_response_period.period_start

),

ranked_in_period as (

    select
        period_start,
        nps_category,
        row_number() over (
            partition by period_start, customer_id
            order by responded_at desc, event_id desc
        ) as recency_rank
    from responses

),

ranked_in_window as (

    select
        reported_periods.period_start,
        responses.nps_category,
        row_number() over (
            partition by reported_periods.period_start, responses.customer_id
            order by responses.responded_at desc, responses.event_id desc
        ) as recency_rank
    from reported_periods
    inner join responses
        on responses.response_date between
            cast(reported_periods.window_end_date - interval '{{nps_trailing_window_days}}' day + interval '1' day as date)
            and reported_periods.window_end_date

),

latest_answers as (

    select period_start, 'period' as scope, nps_category from ranked_in_period where recency_rank = 1
    union all
    select period_start, 'trailing' as scope, nps_category from ranked_in_window where recency_rank = 1

),

answer_counts as (

    select
        period_start,
        scope,
        count(*) as responses,
        count(case when nps_category = 'promoter' then 1 end) as promoters,
        count(case when nps_category = 'passive' then 1 end) as passives,
        count(case when nps_category = 'detractor' then 1 end) as detractors
    from latest_answers
    group by period_start, scope

),

final as (

    select
        reported_periods.period_start,
        reported_periods.period_end,
        coalesce(period_counts.responses, 0) as responses,
        coalesce(period_counts.promoters, 0) as promoters,
        coalesce(period_counts.passives, 0) as passives,
        coalesce(period_counts.detractors, 0) as detractors,
        100.0e0 * (period_counts.promoters - period_counts.detractors) / nullif(period_counts.responses, 0) as nps,
        {{nps_trailing_window_days}} as trailing_window_days,
        coalesce(window_counts.responses, 0) as trailing_responses,
        coalesce(window_counts.promoters, 0) as trailing_promoters,
        coalesce(window_counts.passives, 0) as trailing_passives,
        coalesce(window_counts.detractors, 0) as trailing_detractors,
        100.0e0 * (window_counts.promoters - window_counts.detractors) / nullif(window_counts.responses, 0) as trailing_nps,
        date '{{as_of}}' as as_of
    from reported_periods
    left join answer_counts as period_counts
        on reported_periods.period_start = period_counts.period_start
        and period_counts.scope = 'period'
    left join answer_counts as window_counts
        on reported_periods.period_start = window_counts.period_start
        and window_counts.scope = 'trailing'

)

select * from final
