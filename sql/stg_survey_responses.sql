-- Survey responses known at the as_of cut: one row per event_id (first delivery wins), dated in
-- the business timezone, with their NPS category.

with repeated_event_ids as (

    -- Event ids stored more than once: only those need ranking (as in stg_order_events).
    select event_id
    from surveys
    where event_id is not null
    group by event_id
    having count(*) > 1

),

first_of_repeated as (

    -- Every delivery of a repeated event_id, whatever its date: the first one received must
    -- win even when a later delivery carries an earlier date, so nothing is filtered before
    -- the ranking.
    select *
    from (
        select
            *,
            row_number() over (
                partition by event_id
                order by received_at, ingest_id, record_number
            ) as delivery_rank
        from surveys
        where event_id in (select event_id from repeated_event_ids)
    ) as ranked_deliveries
    where delivery_rank = 1

),

unique_deliveries as (

    select event_id, customer_id, occurred_at, score, survey_id
    from surveys
    -- A row without an event_id (which ingest never writes) is kept, for the grain test to stop the run.
    where event_id is null or event_id not in (select event_id from repeated_event_ids)

    union all

    select event_id, customer_id, occurred_at, score, survey_id
    from first_of_repeated

),

first_deliveries as (

    select
        event_id,
        customer_id,
        occurred_at as responded_at,
        cast(occurred_at at time zone '{{business_timezone}}' as date) as response_date,
        score,
        survey_id
    from unique_deliveries

),

final as (

    select
        event_id,
        customer_id,
        responded_at,
        response_date,
        cast(date_trunc('{{period_unit}}', response_date) as date) as period_start,
        score,
        case
            when score >= {{nps_promoter_min_score}} then 'promoter'
            when score >= {{nps_passive_min_score}} then 'passive'
            else 'detractor'
        end as nps_category,
        survey_id
    from first_deliveries
    where response_date <= date '{{as_of}}'

)

select * from final
