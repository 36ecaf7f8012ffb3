-- The calendar of periods, from the first period with a purchase or a survey response to the
-- period that holds as_of, with no gaps: an empty period is still a period.

with first_purchase as (

    select min(purchase_date) as first_date from stg_purchases

),

first_response as (

    select min(response_date) as first_date from stg_survey_responses

),

bounds as (

    select
        -- least() is null-propagating in Trino but not in DuckDB: coalesce both sides first.
        cast(date_trunc(
            '{{period_unit}}',
            least(
                coalesce(first_purchase.first_date, first_response.first_date),
                coalesce(first_response.first_date, first_purchase.first_date)
            )
        ) as date) as first_period_start,
        cast(date_trunc('{{period_unit}}', date '{{as_of}}') as date) as last_period_start
    from first_purchase
    cross join first_response
    where coalesce(first_purchase.first_date, first_response.first_date) is not null

),

spine as (

    select cast(generated.period_start as date) as period_start
    from bounds
    cross join unnest(
        sequence(bounds.first_period_start, bounds.last_period_start, {{period_step}})
    ) as generated (period_start)

),

final as (

    select
        period_start,
        cast(period_start + {{period_step}} - interval '1' day as date) as period_end,
        row_number() over (order by period_start) - 1 as period_index
    from spine

)

select * from final
