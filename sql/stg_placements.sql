-- One row per order placed up to as_of: its first placed event (the earliest, then the lowest
-- event_id), which gives the order's customer, time, amounts, currency, channel and lines, and
-- the rate that converts its amounts to the reporting currency. An order in the reporting
-- currency, or any order when no reporting currency is set, has rate 1; another currency takes
-- the rate of the order date or the latest earlier one dated at most 7 days before it, and has
-- none (null) without one: stg_currency_problems then stops the run.

with placements as (

    select
        order_id,
        customer_id,
        event_id,
        occurred_at as placed_at,
        occurred_date as purchase_date,
        total,
        currency,
        channel,
        items,
        referred_by,
        row_number() over (partition by order_id order by occurred_at, event_id) as placement_rank
    from stg_order_events
    where status = 'placed'

),

first_placements as (

    select * from placements where placement_rank = 1

),

final as (

    select
        first_placements.order_id,
        first_placements.customer_id,
        first_placements.event_id,
        first_placements.placed_at,
        first_placements.purchase_date,
        first_placements.total,
        first_placements.currency,
        case
            when '{{reporting_currency}}' = '' or first_placements.currency = '{{reporting_currency}}' then cast(1 as double)
            else stg_fx_rates.rate
        end as fx_rate,
        first_placements.channel,
        first_placements.items,
        first_placements.referred_by
    from first_placements
    -- The rate usable on the order date (stg_fx_rates).
    left join stg_fx_rates
        on first_placements.currency = stg_fx_rates.currency
        and first_placements.purchase_date = stg_fx_rates.usable_date

)

select * from final
