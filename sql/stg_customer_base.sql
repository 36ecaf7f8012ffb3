-- The active customer base, defined once for every table that counts it (period_metrics,
-- clv_summary, customer_summary's is_active and so the campaigns): a customer is in the base
-- on day d when they have a purchase dated in [d - window + 1, d]. A purchase on day d keeps
-- them in the base on days d ... d + window - 1, so the days a customer is in the base form
-- spells: a purchase more than a window after the previous one starts a new spell. Spells of
-- one customer never overlap, so "in the base on day d" is "has a spell holding d", at most once.

with customer_purchase_days as (

    select distinct customer_id, purchase_date from stg_purchases

),

purchase_day_gaps as (

    select
        customer_id,
        purchase_date,
        case
            when lag(purchase_date) over (partition by customer_id order by purchase_date)
                >= cast(purchase_date - interval '{{activity_window_days}}' day as date) then 0
            else 1
        end as starts_spell
    from customer_purchase_days

),

numbered_purchase_days as (

    select
        customer_id,
        purchase_date,
        -- Cast: DuckDB sums integers as 128-bit ones.
        cast(sum(starts_spell) over (
            partition by customer_id
            order by purchase_date
            rows between unbounded preceding and current row
        ) as bigint) as spell_number
    from purchase_day_gaps

),

final as (

    select
        customer_id,
        spell_number,
        min(purchase_date) as active_from,
        cast(max(purchase_date) + interval '{{activity_window_days}}' day - interval '1' day as date) as active_until,
        count(*) as purchase_days
    from numbered_purchase_days
    group by customer_id, spell_number

)

select * from final
