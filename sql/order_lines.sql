-- One row per line of a purchase up to as_of, read from the items of the order's placed event
-- (checked at ingest: sku, an integer quantity >= 1 and a unit_price are always there). Lines
-- of cancelled and fully refunded orders are left out; a partly refunded order keeps its lines
-- whole, since a refund does not say which line it gave back. Prices are converted to the
-- reporting currency at the order's rate.

with purchases as (

    select * from customer_orders where is_purchase

),

orders_with_items as (

    select
        purchases.order_id,
        purchases.customer_id,
        purchases.order_date,
        purchases.customer_order_number,
        stg_orders.fx_rate,
        stg_orders.items
    from purchases
    inner join stg_orders
        on purchases.order_id = stg_orders.order_id
    where stg_orders.items is not null
        and json_array_length(stg_orders.items) > 0

),

lines as (

    select
        orders_with_items.order_id,
        orders_with_items.customer_id,
        orders_with_items.order_date,
        orders_with_items.customer_order_number,
        orders_with_items.fx_rate,
        numbered.line_index + 1 as line_number,
        json_array_get(orders_with_items.items, numbered.line_index) as line
    from orders_with_items
    cross join unnest(
        sequence(0, cast(json_array_length(orders_with_items.items) as bigint) - 1, 1)
    ) as numbered (line_index)

),

line_fields as (

    select
        order_id,
        customer_id,
        order_date,
        customer_order_number,
        line_number,
        json_extract_scalar(line, '$.sku') as sku,
        -- Stored trimmed, and null when blank (ingest): null is "uncategorised".
        json_extract_scalar(line, '$.category') as category,
        json_extract_scalar(line, '$.name') as product_name,
        cast(json_extract_scalar(line, '$.quantity') as bigint) as quantity,
        fx_rate,
        cast(json_extract_scalar(line, '$.unit_price') as double) as original_unit_price,
        coalesce(cast(json_extract_scalar(line, '$.discount_amount') as double), 0) as original_discount_amount
    from lines

),

-- The purchase that first brought each category to each customer (lines of that purchase in
-- the category are all new to the customer).
first_category_purchases as (

    select
        customer_id,
        category,
        min(customer_order_number) as first_order_number
    from line_fields
    where category is not null
    group by customer_id, category

),

final as (

    select
        line_fields.order_id,
        line_fields.line_number,
        line_fields.customer_id,
        line_fields.order_date,
        line_fields.customer_order_number,
        line_fields.sku,
        line_fields.category,
        line_fields.product_name,
        line_fields.quantity,
        line_fields.original_unit_price * line_fields.fx_rate as unit_price,
        line_fields.original_discount_amount * line_fields.fx_rate as discount_amount,
        -- Converted last: the discount never exceeds the line (ingest checks it), so this is >= 0.
        (line_fields.quantity * line_fields.original_unit_price - line_fields.original_discount_amount)
            * line_fields.fx_rate as line_amount,
        case
            when line_fields.category is null then null
            else line_fields.customer_order_number = first_category_purchases.first_order_number
        end as is_new_category_for_customer,
        date '{{as_of}}' as as_of
    from line_fields
    left join first_category_purchases
        on line_fields.customer_id = first_category_purchases.customer_id
        and line_fields.category = first_category_purchases.category

)

select * from final
