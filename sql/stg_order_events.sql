-- Order events known at the as_of cut: one row per event_id (the first delivery received wins),
-- each dated in the business timezone.

with source_events as (

    -- Every delivery, whatever its date: the first one received must win even when a later
    -- delivery of the same event_id carries an earlier date, so nothing is filtered before
    -- the ranking.
    select * from orders

),

ranked_deliveries as (

    select
        *,
        row_number() over (
            partition by event_id
            order by received_at, ingest_id, record_number
        ) as delivery_rank
    from source_events

),

first_deliveries as (

    select
        event_id,
        order_id,
        customer_id,
        occurred_at,
        cast(occurred_at at time zone '{{business_timezone}}' as date) as occurred_date,
        status,
        total,
        currency,
        refunded_amount,
        channel,
        items,
        referred_by
    from ranked_deliveries
    where delivery_rank = 1

),

final as (

    select *
    from first_deliveries
    where occurred_date <= date '{{as_of}}'

)

select * from final
