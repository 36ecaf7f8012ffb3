-- One row per order placed up to as_of, in its state at as_of: the commerce fact table that
-- questions beyond the headline tables start from. Purchases are numbered per customer in the
-- order they were placed; a customer's acquisition channel is the channel of their first
-- purchase.

with orders_at_cut as (

    select * from stg_orders

),

-- One ordering of each customer's orders, purchases first and then by time, read three ways: a
-- purchase's row number is its number among the purchases, the row before it the previous
-- purchase, and the first row the first purchase (when there is one). One sort instead of a
-- self-join: on 10M orders it halves the step.
numbered as (

    select
        *,
        row_number() over (
            partition by customer_id order by case when is_purchase then 0 else 1 end, placed_at, order_id
        ) as order_rank,
        lag(purchase_date) over (
            partition by customer_id order by case when is_purchase then 0 else 1 end, placed_at, order_id
        ) as previous_order_date,
        first_value(case when is_purchase then channel end) over (
            partition by customer_id order by case when is_purchase then 0 else 1 end, placed_at, order_id
            rows between unbounded preceding and unbounded following
        ) as acquisition_channel
    from orders_at_cut

),

final as (

    select
        order_id,
        customer_id,
        purchase_date as order_date,
        placed_at,
        first_event_at,
        case
            when is_cancelled then 'cancelled'
            when is_fully_refunded then 'refunded'
            when refunded_amount > 0 then 'partially_refunded'
            else 'placed'
        end as status,
        is_purchase,
        total as gross_amount,
        refunded_amount,
        case when is_purchase then net_revenue else cast(0 as double) end as net_amount,
        case when is_purchase then order_rank end as customer_order_number,
        is_purchase and order_rank = 1 as is_first_purchase,
        case when is_purchase then date_diff('day', previous_order_date, purchase_date) end as days_since_previous_purchase,
        channel,
        acquisition_channel,
        referred_by,
        currency as original_currency,
        original_total as original_gross_amount,
        fx_rate,
        date '{{as_of}}' as as_of
    from numbered

)

select * from final
