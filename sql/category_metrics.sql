-- Per period and product category: who bought it, how much, how many came back to it, and how
-- many came to it from another category (cross-sell). Read from the lines of purchases
-- (order_lines); uncategorised lines are left out.

with categorised_lines as (

    select
        *,
        cast(date_trunc('{{period_unit}}', order_date) as date) as period_start
    from order_lines
    where category is not null

),

-- Each customer's first purchase in each category.
category_adoptions as (

    select
        customer_id,
        category,
        min(customer_order_number) as first_order_number,
        min(order_date) as first_order_date
    from categorised_lines
    group by customer_id, category

),

customer_first_categorised_orders as (

    select
        customer_id,
        min(first_order_number) as first_order_number
    from category_adoptions
    group by customer_id

),

-- A customer came to a category by cross-sell when an earlier purchase of theirs had a line in
-- another category: their first purchase in it is not their first purchase with a category.
adoptions as (

    select
        category_adoptions.customer_id,
        category_adoptions.category,
        category_adoptions.first_order_date,
        cast(date_trunc('{{period_unit}}', category_adoptions.first_order_date) as date) as adoption_period_start,
        category_adoptions.first_order_number > customer_first_categorised_orders.first_order_number as is_cross_sell
    from category_adoptions
    inner join customer_first_categorised_orders
        on category_adoptions.customer_id = customer_first_categorised_orders.customer_id

),

customer_period_categories as (

    select
        period_start,
        category,
        customer_id,
        count(distinct order_id) as orders,
        sum(quantity) as units,
        -- As decimal, so that sums do not depend on the order of the rows.
        sum(cast(line_amount as decimal(38, 6))) as line_revenue
    from categorised_lines
    group by period_start, category, customer_id

),

final as (

    select
        customer_period_categories.period_start,
        customer_period_categories.category,
        count(*) as customers,
        -- Cast: DuckDB sums bigints as 128-bit integers, which Parquet stores as doubles.
        cast(sum(customer_period_categories.orders) as bigint) as orders,
        cast(sum(customer_period_categories.units) as bigint) as units,
        cast(sum(customer_period_categories.line_revenue) as double) as line_revenue,
        count(case when adoptions.first_order_date < customer_period_categories.period_start then 1 end) as repeat_customers,
        cast(count(case when adoptions.first_order_date < customer_period_categories.period_start then 1 end) as double)
            / count(*) as repeat_rate,
        count(case when adoptions.adoption_period_start = customer_period_categories.period_start then 1 end) as new_to_category_customers,
        count(case
            when adoptions.adoption_period_start = customer_period_categories.period_start and adoptions.is_cross_sell then 1
        end) as cross_sell_customers,
        cast(count(case
            when adoptions.adoption_period_start = customer_period_categories.period_start and adoptions.is_cross_sell then 1
        end) as double)
            / nullif(count(case when adoptions.adoption_period_start = customer_period_categories.period_start then 1 end), 0)
            as cross_sell_rate,
        date '{{as_of}}' as as_of
    from customer_period_categories
    inner join adoptions
        on customer_period_categories.customer_id = adoptions.customer_id
        and customer_period_categories.category = adoptions.category
    group by customer_period_categories.period_start, customer_period_categories.category

)

select * from final
