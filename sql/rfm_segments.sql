-- RFM: recency (days since the last purchase) and monetary value (net revenue) scored 1-5 by
-- quintile of rank among customers (5 = best; tied values share a score), frequency
-- (purchases) by fixed purchase counts (rfm.frequencyThresholds), then the recency and
-- frequency scores mapped to named segments. Quintiles would not do for frequency: most
-- customers tie on one purchase, and quintiles of tied counts skip scores, so that some
-- segments could never occur.

with customers as (

    select * from customer_summary where as_of = date '{{as_of}}'

),

ranks as (

    select
        customer_id,
        days_since_last_purchase,
        purchases,
        net_revenue,
        -- percent_rank puts tied values at the same rank, so ties always share a score.
        percent_rank() over (order by days_since_last_purchase desc) as recency_rank,
        -- Money is ranked in cents, so float noise in a sum never splits a tie.
        percent_rank() over (order by round(net_revenue, 2)) as monetary_rank
    from customers

),

scores as (

    select
        customer_id,
        days_since_last_purchase,
        purchases,
        net_revenue,
        least(5, 1 + cast(floor(5 * recency_rank) as integer)) as r_score,
        case
            when purchases >= {{rfm_f5_min_purchases}} then 5
            when purchases >= {{rfm_f4_min_purchases}} then 4
            when purchases >= {{rfm_f3_min_purchases}} then 3
            when purchases >= {{rfm_f2_min_purchases}} then 2
            else 1
        end as f_score,
        least(5, 1 + cast(floor(5 * monetary_rank) as integer)) as m_score
    from ranks

),

final as (

    select
        customer_id,
        r_score,
        f_score,
        m_score,
        cast(r_score as varchar) || cast(f_score as varchar) || cast(m_score as varchar) as rfm_cell,
        case
            when r_score = 5 and f_score >= 4 then 'champions'
            when r_score >= 3 and f_score >= 4 then 'loyal_customers'
            when r_score >= 4 and f_score between 2 and 3 then 'potential_loyalists'
            when r_score = 5 and f_score = 1 then 'new_customers'
            when r_score = 4 and f_score = 1 then 'promising'
            when r_score = 3 and f_score = 3 then 'need_attention'
            when r_score = 3 and f_score <= 2 then 'about_to_sleep'
            when r_score <= 2 and f_score = 5 then 'cannot_lose_them'
            when r_score <= 2 and f_score between 3 and 4 then 'at_risk'
            else 'hibernating'
        end as segment,
        days_since_last_purchase,
        purchases,
        net_revenue,
        date '{{as_of}}' as as_of
    from scores

)

select * from final
