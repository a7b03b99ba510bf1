-- logistics.shipping_delays: delivery performance per carrier and shipping day, aggregated from
-- logistics.shipments (the input `shipments`). Delays are measured against the promised time;
-- parcels still in transit or lost count as shipped but not (yet) as delivered.
--
-- Hours are computed from epoch_us() differences: subtracting two TIMESTAMPTZ values goes through
-- ICU's calendar arithmetic and is about ten times slower on millions of rows.
WITH timed AS (
  SELECT
    carrier,
    CAST(shipped_at AS DATE) AS ship_date,  -- the engine's time zone is UTC
    status,
    delivered_at IS NOT NULL AS delivered,
    delivered_at <= promised_at AS on_time,
    (epoch_us(delivered_at) - epoch_us(shipped_at)) / 3600e6 AS transit_hours,
    -- hours after the promised time, 0 for parcels delivered on time
    greatest(epoch_us(delivered_at) - epoch_us(promised_at), 0) / 3600e6 AS delay_hours
  FROM shipments
)
SELECT
  carrier,
  ship_date,
  count(*) AS shipments,
  count(*) FILTER (WHERE delivered) AS delivered,
  count(*) FILTER (WHERE on_time) AS on_time,
  count(*) FILTER (WHERE NOT on_time) AS late,
  count(*) FILTER (WHERE status = 'in_transit') AS in_transit,
  count(*) FILTER (WHERE status = 'lost') AS lost,
  coalesce(count(*) FILTER (WHERE on_time) / nullif(count(*) FILTER (WHERE delivered), 0), 0)
    AS on_time_rate,
  avg(transit_hours) AS avg_transit_hours,
  coalesce(avg(delay_hours), 0) AS avg_delay_hours,
  coalesce(quantile_cont(delay_hours, 0.95), 0) AS p95_delay_hours,
  coalesce(max(delay_hours), 0) AS max_delay_hours
FROM timed
GROUP BY carrier, ship_date
ORDER BY ship_date, carrier
