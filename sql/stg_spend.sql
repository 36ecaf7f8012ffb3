-- Marketing spend dated up to as_of, as it counts: the first delivery of each event_id, less the
-- events another one restates (`replaces`), converted to the reporting currency at the rate of
-- its date or the latest one up to 7 days before it (rate 1 in the reporting currency or when
-- none is set; null without a usable rate: stg_currency_problems then stops the run). Events of
-- one day, channel and campaign are kept apart: they add up.

with ranked_deliveries as (

    select
        *,
        row_number() over (
            partition by event_id
            order by received_at, ingest_id, record_number
        ) as delivery_rank
    from spend

),

spend_events as (

    select
        event_id,
        spend_date,
        channel,
        campaign,
        amount,
        currency,
        replaces
    from ranked_deliveries
    where delivery_rank = 1

),

-- Every event named by the `replaces` of another dated up to as_of: a restatement takes effect
-- from its own date (it may move spend to another day), so a run before it still counts what
-- it replaces. In a chain only the last event is named by none.
restated as (

    select distinct replaces as event_id
    from spend_events
    where replaces is not null
        and spend_date <= date '{{as_of}}'

),

counted as (

    select spend_events.*
    from spend_events
    left join restated
        on spend_events.event_id = restated.event_id
    where restated.event_id is null
        and spend_events.spend_date <= date '{{as_of}}'

),

converted as (

    select
        counted.*,
        case
            when '{{reporting_currency}}' = '' or counted.currency = '{{reporting_currency}}' then cast(1 as double)
            else stg_fx_rates.rate
        end as fx_rate
    from counted
    -- The rate usable on the spend date (stg_fx_rates).
    left join stg_fx_rates
        on counted.currency = stg_fx_rates.currency
        and counted.spend_date = stg_fx_rates.usable_date

),

final as (

    select
        event_id,
        spend_date,
        channel,
        campaign,
        currency,
        amount as original_amount,
        fx_rate,
        amount * fx_rate as amount,
        replaces
    from converted

)

select * from final
