-- One row per order placed up to as_of, in its state at as_of: the commerce fact table that
-- questions beyond the headline tables start from. Purchases are numbered per customer in the
-- order they were placed; a customer's acquisition channel is the channel of their first
-- purchase.

with orders_at_cut as (

    select * from stg_orders

),

purchase_sequence as (

    select
        order_id,
        customer_id,
        channel,
        row_number() over (partition by customer_id order by placed_at, order_id) as customer_order_number,
        lag(purchase_date) over (partition by customer_id order by placed_at, order_id) as previous_purchase_date
    from orders_at_cut
    where is_purchase

),

acquisitions as (

    select
        customer_id,
        channel as acquisition_channel
    from purchase_sequence
    where customer_order_number = 1

),

final as (

    select
        orders_at_cut.order_id,
        orders_at_cut.customer_id,
        orders_at_cut.purchase_date as order_date,
        orders_at_cut.placed_at,
        orders_at_cut.first_event_at,
        case
            when orders_at_cut.is_cancelled then 'cancelled'
            when orders_at_cut.is_fully_refunded then 'refunded'
            when orders_at_cut.refunded_amount > 0 then 'partially_refunded'
            else 'placed'
        end as status,
        orders_at_cut.is_purchase,
        orders_at_cut.total as gross_amount,
        orders_at_cut.refunded_amount,
        case when orders_at_cut.is_purchase then orders_at_cut.net_revenue else cast(0 as double) end as net_amount,
        purchase_sequence.customer_order_number,
        coalesce(purchase_sequence.customer_order_number = 1, false) as is_first_purchase,
        date_diff('day', purchase_sequence.previous_purchase_date, orders_at_cut.purchase_date) as days_since_previous_purchase,
        orders_at_cut.channel,
        acquisitions.acquisition_channel,
        orders_at_cut.currency as original_currency,
        orders_at_cut.original_total as original_gross_amount,
        orders_at_cut.fx_rate,
        date '{{as_of}}' as as_of
    from orders_at_cut
    left join purchase_sequence
        on orders_at_cut.order_id = purchase_sequence.order_id
    left join acquisitions
        on orders_at_cut.customer_id = acquisitions.customer_id

)

select * from final
