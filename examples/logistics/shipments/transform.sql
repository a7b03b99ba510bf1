-- logistics.shipments: 100,000 × scale generated shipments over the first half of 2026
-- (--var scale=100 gives 10 million rows). Deterministic: every value derives from the shipment
-- number i through hash(i * 16 + k), one independent stream per k (hash(i, 'k') would
-- XOR one hash(i) with constants: correlated streams); no random(), no joins.
--
-- Shipments are numbered in shipping order, so the output is already clustered by month (the
-- partitioning). The customer of a shipment is computed with the customer master's own formula,
-- md5('customer-' || n)::UUID with n in 1..1,000 × scale, and its destination country with the
-- master's hash(n * 16 + 3), so the references rule into customers.customers holds without a join.
--
-- Speed: carriers and service levels are small integers until the final SELECT (lists are
-- indexed, strings are not compared per row), and the scale is inlined rather than cross-joined
-- from a one-row CTE. Constants are UBIGINT where they meet hash(): UBIGINT % BIGINT would be
-- computed in HUGEINT, several times slower.
WITH base AS (
  SELECT
    i AS shipment_id,
    1000000000 + (i * 4) // 5 AS order_id,  -- every fifth order ships in two parcels
    (hash(i * 16 + 1) % 100)::INTEGER AS c,
    (hash(i * 16 + 2) % 10)::INTEGER AS sv,
    (hash(i * 16 + 3) % 5)::INTEGER AS wh,
    (hash(i * 16 + 4) % 3000)::INTEGER AS w,
    (hash(i * 16 + 5) % 1000)::INTEGER AS fate,
    (hash(i * 16 + 6) % 25)::INTEGER - 12 AS noise_hours,
    -- 2026-01-01 00:00:00 UTC + i's share of the 181 days to 2026-07-01, plus a little jitter
    1767225600 + (i - 1) * 15638400 // (100000 * coalesce(getvariable('scale'), 1))
      + (hash(i * 16 + 7) % least(900, 15638400 // (100000 * coalesce(getvariable('scale'), 1)))::UBIGINT)::BIGINT
      AS shipped_epoch
  FROM range(1, 100000 * coalesce(getvariable('scale'), 1)::BIGINT + 1) t(i)
),
routed AS (
  SELECT
    *,
    1 + (hash(order_id * 16 + 8) % (1000 * coalesce(getvariable('scale'), 1))::UBIGINT)::BIGINT AS customer_number,
    -- 1 DHL 30 %, 2 DPD 20 %, 3 UPS 15 %, 4 GLS 15 %, 5 PostNL 10 %, 6 FedEx 10 %
    CASE WHEN c < 30 THEN 1 WHEN c < 50 THEN 2 WHEN c < 65 THEN 3 WHEN c < 80 THEN 4
         WHEN c < 90 THEN 5 ELSE 6 END AS ci,
    -- 1 economy 20 %, 2 standard 60 %, 3 express 20 %
    CASE WHEN sv < 2 THEN 1 WHEN sv < 8 THEN 2 ELSE 3 END AS si
  FROM base
),
located AS (
  SELECT
    *,
    -- the customer master's country list, indexed by the customer's hash(n * 16 + 3)
    ['DE', 'DE', 'DE', 'DE', 'FR', 'FR', 'FR', 'NL', 'NL', 'ES', 'ES', 'IT', 'IT', 'AT', 'BE',
     'SE', 'PL', 'GB', 'GB', 'DE'][(hash(customer_number * 16 + 3) % 20)::INTEGER + 1]
      AS destination_country
  FROM routed
),
timed AS (
  SELECT
    *,
    [5, 3, 1][si] + CASE WHEN destination_country IN ('DE', 'AT') THEN 0 ELSE 1 END AS promised_days,
    -- transit time in hours: by service level and carrier, plus noise, plus rare incidents
    -- (at least two hours: nobody delivers before the truck has left)
    greatest(2, CAST([96, 42, 12][si] * [1.0, 1.1, 0.95, 1.15, 1.05, 0.9][ci]
         + noise_hours
         + CASE WHEN fate % 100 < 6 THEN 72 ELSE 0 END  -- 6 %: a missed hand-over, three days late
         -- the February storm: parcels DPD and GLS picked up 9-15 Feb 2026 are a day late
         + CASE WHEN ci IN (2, 4) AND shipped_epoch BETWEEN 1770595200 AND 1771200000
                THEN 30 ELSE 0 END
         + CASE WHEN destination_country IN ('DE', 'AT') THEN 0 ELSE 16 END
         AS INTEGER)) AS transit_hours
  FROM located
),
fated AS (
  SELECT
    *,
    CASE WHEN fate < 3 THEN 4  -- lost
         WHEN shipped_epoch + transit_hours * 3600 > 1782864000 THEN 3  -- in transit on 2026-07-01
         WHEN fate < 15 THEN 2  -- returned
         ELSE 1 END AS st  -- delivered
  FROM timed
)
SELECT
  shipment_id,
  order_id,
  md5('customer-' || customer_number::VARCHAR)::UUID AS customer_id,
  'MW' || ['DH', 'DP', 'UP', 'GL', 'PO', 'FE'][ci] || lpad(shipment_id::VARCHAR, 10, '0')
    AS tracking_number,
  ['DHL', 'DPD', 'UPS', 'GLS', 'PostNL', 'FedEx'][ci] AS carrier,
  ['economy', 'standard', 'express'][si] AS service_level,
  ['delivered', 'returned', 'in_transit', 'lost'][st] AS status,
  ['BER-1', 'HAM-1', 'AMS-1', 'MAD-1', 'MIL-1'][wh + 1] AS origin_warehouse,
  destination_country,
  CAST(0.2 + w / 100.0 AS DECIMAL(8, 2)) AS weight_kg,
  CAST([3.9, 5.9, 14.9][si] + w * 0.0012 AS DECIMAL(10, 2)) AS shipping_cost,
  to_timestamp(shipped_epoch) AS shipped_at,
  to_timestamp(shipped_epoch + promised_days * 86400) AS promised_at,
  CASE WHEN st <= 2 THEN to_timestamp(shipped_epoch + transit_hours * 3600) END AS delivered_at
FROM fated
