-- NPS by RFM segment
-- What each RFM segment thinks of the shop at the newest as_of: each customer's latest survey
-- answer (ever, not only this period), NPS = 100 x (promoters - detractors) / respondents.

select
    segments.segment,
    count(*) as customers,
    count(customers.last_nps_category) as respondents,
    count(case when customers.last_nps_category = 'promoter' then 1 end) as promoters,
    count(case when customers.last_nps_category = 'passive' then 1 end) as passives,
    count(case when customers.last_nps_category = 'detractor' then 1 end) as detractors,
    100.0e0 * (
        count(case when customers.last_nps_category = 'promoter' then 1 end)
        - count(case when customers.last_nps_category = 'detractor' then 1 end)
    ) / nullif(count(customers.last_nps_category), 0) as nps
from latest_rfm_segments as segments
inner join latest_customer_summary as customers
    on segments.customer_id = customers.customer_id
group by segments.segment
order by nps desc nulls last, segments.segment
