-- Exchange rates to the reporting currency known at the as_of cut: one per currency and day.
-- Unlike events, where the first delivery wins, the last rate received for a day counts: a
-- later file corrects an earlier one.

with ranked_deliveries as (

    select
        currency,
        rate_date,
        rate,
        row_number() over (
            partition by event_id
            order by received_at desc, ingest_id desc, record_number desc
        ) as delivery_rank
    from fx_rates

),

final as (

    select
        currency,
        rate_date,
        rate
    from ranked_deliveries
    where delivery_rank = 1
        and rate_date <= date '{{as_of}}'

)

select * from final
