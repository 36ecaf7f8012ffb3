-- Purchases: placed orders not cancelled and not fully refunded by the as_of cut, dated by
-- their placed event, with net revenue after refunds.

with orders_at_cut as (

    select * from stg_orders

),

final as (

    select
        order_id,
        customer_id,
        placed_at,
        purchase_date,
        cast(date_trunc('{{period_unit}}', purchase_date) as date) as period_start,
        currency,
        total as gross_amount,
        refunded_amount,
        net_revenue
    from orders_at_cut
    where is_purchase

)

select * from final
