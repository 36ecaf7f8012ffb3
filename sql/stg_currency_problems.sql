-- Why the orders and spend up to as_of cannot be added up in one currency, one row per problem;
-- no rows when they can. Its data test (the table must be empty) stops the run, before anything
-- is published, with these sentences as the message.
--   With a reporting currency: orders (spend) in another currency without a rate dated on their
--   order (spend) date or up to 7 days before it, by currency and run of consecutive dates.
--   Without one: amounts in more than one currency, which cannot be summed.
--   Either way: refund amounts stated in another currency than their order's, which is the
--   currency a refund is read in.

with placements as (

    select * from stg_placements

),

order_events as (

    select * from stg_order_events

),

spend as (

    select * from stg_spend

),

-- Orders and spend events with their currency, date and rate, one row each.
amounts as (

    select 'order' as kind, currency, purchase_date as amount_date, fx_rate from placements

    union all

    select 'spend event' as kind, currency, spend_date as amount_date, fx_rate from spend

),

missing_rate_days as (

    select
        kind,
        currency,
        amount_date,
        count(*) as events
    from amounts
    where fx_rate is null
    group by kind, currency, amount_date

),

-- Consecutive dates share (day number - their rank): gaps and islands.
missing_rate_islands as (

    select
        kind,
        currency,
        amount_date,
        events,
        date_diff('day', date '1970-01-01', amount_date)
            - row_number() over (partition by kind, currency order by amount_date) as island
    from missing_rate_days

),

missing_rate_runs as (

    select
        kind,
        currency,
        min(amount_date) as first_date,
        max(amount_date) as last_date,
        -- Cast: DuckDB sums bigints as 128-bit integers.
        cast(sum(events) as bigint) as events
    from missing_rate_islands
    group by kind, currency, island

),

lake_currencies as (

    select
        currency,
        count(case when kind = 'order' then 1 end) as orders,
        count(case when kind = 'spend event' then 1 end) as spend_events
    from amounts
    group by currency

),

mixed_currencies as (

    select
        array_join(array_agg(
            currency || ' ('
            || case
                when orders = 0 then ''
                when orders = 1 then '1 order'
                else cast(orders as varchar) || ' orders'
            end
            || case when orders > 0 and spend_events > 0 then ', ' else '' end
            || case
                when spend_events = 0 then ''
                when spend_events = 1 then '1 spend event'
                else cast(spend_events as varchar) || ' spend events'
            end
            || ')'
            order by currency
        ), ', ') as currency_list
    from lake_currencies
    where '{{reporting_currency}}' = ''
    having count(*) > 1

),

foreign_refunds as (

    select
        refunds.currency,
        placements.currency as order_currency,
        min(refunds.occurred_date) as first_date,
        max(refunds.occurred_date) as last_date,
        count(distinct refunds.order_id) as orders,
        min(refunds.order_id) as example_order_id
    from order_events as refunds
    inner join placements
        on refunds.order_id = placements.order_id
    where refunds.status = 'refunded'
        and refunds.refunded_amount is not null
        and refunds.currency <> placements.currency
    group by refunds.currency, placements.currency

),

final as (

    select
        'missing_rate' as problem_kind,
        currency,
        first_date,
        last_date,
        events,
        'no ' || currency || ' rate to {{reporting_currency}} dated on or up to 7 days before '
        || case
            when first_date = last_date then cast(first_date as varchar)
            else cast(first_date as varchar) || ' to ' || cast(last_date as varchar)
        end
        || ' (' || cast(events as varchar) || ' ' || kind || case when events = 1 then '' else 's' end
        || '): ingest them with pipeline ingest fx-rates' as problem
    from missing_rate_runs

    union all

    select
        'mixed_currencies' as problem_kind,
        cast(null as varchar) as currency,
        cast(null as date) as first_date,
        cast(null as date) as last_date,
        cast(null as bigint) as events,
        'amounts are in more than one currency, ' || currency_list
        || ', and no reportingCurrency is set to convert them to: set it in the config and ingest exchange rates'
        || ' with pipeline ingest fx-rates' as problem
    from mixed_currencies

    union all

    select
        'refund_currency' as problem_kind,
        currency,
        first_date,
        last_date,
        orders as events,
        'refund amounts in ' || currency || ' for ' || cast(orders as varchar)
        || case when orders = 1 then ' order' else ' orders' end
        || ' placed in ' || order_currency || ' (e.g. order ' || example_order_id || ', refunded '
        || case
            when first_date = last_date then cast(first_date as varchar)
            else 'from ' || cast(first_date as varchar) || ' to ' || cast(last_date as varchar)
        end
        || '): a refund is read in the currency of its order; send it in ' || order_currency as problem
    from foreign_refunds

)

select * from final
