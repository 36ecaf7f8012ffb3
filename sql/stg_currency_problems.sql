-- Why the orders up to as_of cannot be added up in one currency, one row per problem; no rows
-- when they can. Its data test (the table must be empty) stops the run, before anything is
-- published, with these sentences as the message.
--   With a reporting currency: orders in another currency without a rate dated on their order
--   date or up to 7 days before it, by currency and run of consecutive order dates.
--   Without one: orders in more than one currency, which cannot be summed.
--   Either way: refund amounts stated in another currency than their order's, which is the
--   currency a refund is read in.

with placements as (

    select * from stg_placements

),

order_events as (

    select * from stg_order_events

),

missing_rate_days as (

    select
        currency,
        purchase_date,
        count(*) as orders
    from placements
    where fx_rate is null
    group by currency, purchase_date

),

-- Consecutive dates share (day number - their rank): gaps and islands.
missing_rate_islands as (

    select
        currency,
        purchase_date,
        orders,
        date_diff('day', date '1970-01-01', purchase_date)
            - row_number() over (partition by currency order by purchase_date) as island
    from missing_rate_days

),

missing_rate_runs as (

    select
        currency,
        min(purchase_date) as first_date,
        max(purchase_date) as last_date,
        -- Cast: DuckDB sums bigints as 128-bit integers.
        cast(sum(orders) as bigint) as orders
    from missing_rate_islands
    group by currency, island

),

lake_currencies as (

    select
        currency,
        count(*) as orders
    from placements
    group by currency

),

mixed_currencies as (

    select
        array_join(array_agg(currency || ' (' || cast(orders as varchar) || case when orders = 1 then ' order)' else ' orders)' end
            order by currency), ', ') as currency_list
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
        orders,
        'no ' || currency || ' rate to {{reporting_currency}} dated on or up to 7 days before '
        || case
            when first_date = last_date then cast(first_date as varchar)
            else cast(first_date as varchar) || ' to ' || cast(last_date as varchar)
        end
        || ' (' || cast(orders as varchar) || case when orders = 1 then ' order' else ' orders' end
        || '): ingest them with pipeline ingest fx-rates' as problem
    from missing_rate_runs

    union all

    select
        'mixed_currencies' as problem_kind,
        cast(null as varchar) as currency,
        cast(null as date) as first_date,
        cast(null as date) as last_date,
        cast(null as bigint) as orders,
        'orders are in more than one currency, ' || currency_list
        || ', and no reportingCurrency is set to convert them to: set it in the config and ingest exchange rates'
        || ' with pipeline ingest fx-rates' as problem
    from mixed_currencies

    union all

    select
        'refund_currency' as problem_kind,
        currency,
        first_date,
        last_date,
        orders,
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
