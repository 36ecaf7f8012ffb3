-- One row per placed order with its state at the as_of cut: cancelled, refunded (partly or
-- fully) and whether it still counts as a purchase. The first placed event (stg_placements)
-- gives the order's customer, time, amounts, channel and lines. Amounts are in the reporting
-- currency: the order's total and refunds converted at the order's rate. An order without a
-- usable rate is left out; stg_currency_problems stops the run before anything is published.

with order_events as (

    select * from stg_order_events

),

first_placements as (

    select * from stg_placements where fx_rate is not null

),

cancellations as (

    select
        order_id,
        count(*) as cancellation_events,
        min(occurred_at) as first_cancelled_at
    from order_events
    where status = 'cancelled'
    group by order_id

),

refunds as (

    select
        order_id,
        count(*) as refund_events,
        min(occurred_at) as first_refunded_at,
        -- A refund event without an amount refunds the whole order.
        count(case when refunded_amount is null then 1 end) as full_refund_events,
        -- As decimal, so that partial refunds add up the same in any order.
        coalesce(cast(sum(cast(refunded_amount as decimal(38, 6))) as double), 0) as stated_refunded_amount
    from order_events
    where status = 'refunded'
    group by order_id

),

-- Refunds are stated in the order's own currency: capped and compared with its total there.
order_states as (

    select
        first_placements.order_id,
        first_placements.customer_id,
        first_placements.placed_at,
        first_placements.purchase_date,
        -- The earliest event: the placement, unless a cancel or refund is dated before it (any
        -- other placed event is later than the first one).
        least(
            first_placements.placed_at,
            coalesce(cancellations.first_cancelled_at, first_placements.placed_at),
            coalesce(refunds.first_refunded_at, first_placements.placed_at)
        ) as first_event_at,
        first_placements.total as original_total,
        first_placements.currency,
        first_placements.fx_rate,
        first_placements.channel,
        first_placements.items,
        first_placements.referred_by,
        coalesce(cancellations.cancellation_events, 0) > 0 as is_cancelled,
        coalesce(refunds.refund_events, 0) > 0 as has_refund,
        case
            when refunds.full_refund_events > 0 then first_placements.total
            when refunds.refund_events > 0
                then least(refunds.stated_refunded_amount, first_placements.total)
            else cast(0 as double)
        end as original_refunded_amount
    from first_placements
    left join cancellations
        on first_placements.order_id = cancellations.order_id
    left join refunds
        on first_placements.order_id = refunds.order_id

),

final as (

    select
        order_id,
        customer_id,
        placed_at,
        purchase_date,
        first_event_at,
        original_total * fx_rate as total,
        currency,
        original_total,
        fx_rate,
        channel,
        items,
        referred_by,
        is_cancelled,
        -- Partial refunds that add up to the total are a full refund, whatever the float noise.
        has_refund and original_refunded_amount >= original_total - 1e-6 as is_fully_refunded,
        not is_cancelled and not (has_refund and original_refunded_amount >= original_total - 1e-6) as is_purchase,
        original_refunded_amount * fx_rate as refunded_amount,
        (original_total - original_refunded_amount) * fx_rate as net_revenue
    from order_states

)

select * from final
