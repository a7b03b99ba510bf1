-- marketing.customer_segments: one row per customer, combining three domains:
--   customers   = customers.customers   (who: segment, country, opt-in)
--   revenue     = finance.q3_revenue    (what they spent in Q3 2026)
--   shipments   = logistics.shipments   (how their parcels were delivered in H1 2026)
-- into a value tier, a churn risk and the next best action for campaign targeting.
WITH spend AS (
  SELECT customer_id, sum(net_revenue) AS q3_net_revenue, count(*) AS q3_active_days
  FROM revenue
  GROUP BY customer_id
),
deliveries AS (
  SELECT
    customer_id,
    count(*) AS h1_shipments,
    count(*) FILTER (WHERE delivered_at > promised_at) AS h1_late_deliveries,
    count(*) FILTER (WHERE status = 'lost') AS h1_lost_parcels
  FROM shipments
  GROUP BY customer_id
),
scored AS (
  SELECT
    c.customer_id,
    c.segment,
    c.country,
    c.marketing_opt_in,
    coalesce(s.q3_net_revenue, 0) AS q3_net_revenue,
    coalesce(s.q3_active_days, 0) AS q3_active_days,
    coalesce(d.h1_shipments, 0) AS h1_shipments,
    coalesce(d.h1_late_deliveries, 0) AS h1_late_deliveries,
    coalesce(d.h1_lost_parcels, 0) AS h1_lost_parcels,
    coalesce(d.h1_late_deliveries / nullif(d.h1_shipments, 0), 0) AS late_delivery_share
  FROM customers c
  LEFT JOIN spend s USING (customer_id)
  LEFT JOIN deliveries d USING (customer_id)
),
tiered AS (
  SELECT
    *,
    CASE WHEN q3_net_revenue >= 10000 THEN 'platinum'
         WHEN q3_net_revenue >= 3000 THEN 'gold'
         WHEN q3_net_revenue >= 1000 THEN 'silver'
         WHEN q3_net_revenue > 0 THEN 'bronze'
         ELSE 'inactive' END AS value_tier,
    CASE WHEN late_delivery_share >= 0.12 OR h1_lost_parcels >= 2 THEN 'high'
         WHEN late_delivery_share >= 0.09 OR h1_lost_parcels = 1 THEN 'medium'
         ELSE 'low' END AS churn_risk
  FROM scored
)
SELECT
  customer_id, segment, country, value_tier, churn_risk,
  q3_net_revenue, q3_active_days, h1_shipments, h1_late_deliveries, h1_lost_parcels,
  late_delivery_share, marketing_opt_in,
  CASE WHEN value_tier IN ('platinum', 'gold') AND churn_risk = 'high' THEN 'apologize_and_retain'
       WHEN value_tier = 'platinum' THEN 'vip_care'
       WHEN value_tier = 'inactive' THEN 'win_back'
       WHEN churn_risk = 'high' THEN 'service_recovery'
       WHEN value_tier IN ('silver', 'bronze') AND marketing_opt_in THEN 'upsell'
       ELSE 'nurture' END AS next_best_action
FROM tiered
ORDER BY customer_id
