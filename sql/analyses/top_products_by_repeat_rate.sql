-- Top products by repeat rate
-- The products customers come back for, at the newest as_of: for each sku bought by at least 20
-- customers, how many bought it in two purchases or more, and its line revenue (order_lines:
-- purchases only, before refunds). The 50 with the highest repeat rate.

with customer_products as (

    select
        sku,
        customer_id,
        count(distinct order_id) as purchases,
        sum(line_amount) as line_revenue
    from latest_order_lines
    group by sku, customer_id

)

select
    sku,
    count(*) as customers,
    count(case when purchases >= 2 then 1 end) as repeat_customers,
    cast(count(case when purchases >= 2 then 1 end) as double) / count(*) as repeat_rate,
    sum(line_revenue) as line_revenue
from customer_products
group by sku
having count(*) >= 20
order by repeat_rate desc, customers desc, sku
limit 50
