-- The rate usable on each day, per currency, up to as_of: the rate dated that day, or else the
-- latest one dated up to 7 days before it (weekends and holidays have none). Defined once here
-- for everything converted: orders (stg_placements) and spend (stg_spend) join on the day.
-- Unlike events, where the first delivery wins, the last rate received for a day counts: a
-- later file corrects an earlier one.

with ranked_deliveries as (

    select
        currency,
        rate_date,
        rate,
        row_number() over (
            partition by event_id
            order by received_at desc, ingest_id desc, record_number desc
        ) as delivery_rank
    from fx_rates

),

rates as (

    select
        currency,
        rate_date,
        rate
    from ranked_deliveries
    where delivery_rank = 1
        and rate_date <= date '{{as_of}}'

),

-- Each rate on its own day and the 7 after it; of several for a day, the latest dated wins.
usable_days as (

    select
        rates.currency,
        cast(days.usable_date as date) as usable_date,
        rates.rate_date,
        rates.rate,
        row_number() over (
            partition by rates.currency, cast(days.usable_date as date)
            order by rates.rate_date desc
        ) as recency_rank
    from rates
    cross join unnest(
        sequence(rates.rate_date, cast(rates.rate_date + interval '7' day as date), interval '1' day)
    ) as days (usable_date)

),

final as (

    select
        currency,
        usable_date,
        rate_date,
        rate
    from usable_days
    where recency_rank = 1
        and usable_date <= date '{{as_of}}'

)

select * from final
