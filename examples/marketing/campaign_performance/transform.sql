-- marketing.campaign_performance: per campaign and day, from 50,000 × scale generated campaign
-- events (one per ad impression or e-mail sent) joined with customers.customers (the input
-- `customers`) for the audience: e-mail campaigns only reach customers who opted in, and a
-- conversion by a customer who signed up in 2026 counts as a new-customer conversion.
-- Deterministic: hash(i * 16 + k) is one pseudo-random stream per k; no random().
WITH campaigns (campaign_key, campaign_id, campaign_name, channel, target_segment, starts, days,
                cpm, cpc, click_per_mille, conversion_percent) AS (
  VALUES
    -- click_per_mille: clicked events per 1,000 (an event stands for 100 impressions, a click on it
    -- for 5 clicks, so the click-through rate is click_per_mille / 20,000);
    -- conversion_percent: orders per 100 clicks
    (0, 'CMP-2606-SUMMER', 'Summer sale teaser', 'email', 'consumer', DATE '2026-06-01', 30, 5.00, 0.00, 500, 6),
    (1, 'CMP-2606-SEARCH', 'Always-on search', 'search', 'all', DATE '2026-06-01', 122, 8.00, 0.45, 700, 5),
    (2, 'CMP-2606-SOCIAL', 'Summer lookbook', 'social', 'consumer', DATE '2026-06-15', 45, 6.50, 0.20, 200, 3),
    (3, 'CMP-2607-SALE', 'Summer sale', 'email', 'all', DATE '2026-07-01', 21, 5.00, 0.00, 650, 9),
    (4, 'CMP-2607-DISPLAY', 'Summer sale banners', 'display', 'consumer', DATE '2026-07-01', 31, 3.20, 0.10, 60, 2),
    (5, 'CMP-2607-SMB', 'SMB starter bundle', 'search', 'smb', DATE '2026-07-10', 40, 11.00, 0.80, 600, 7),
    (6, 'CMP-2608-B2S', 'Back to school', 'social', 'consumer', DATE '2026-08-01', 31, 6.00, 0.25, 250, 4),
    (7, 'CMP-2608-ENT', 'Enterprise webinar series', 'email', 'enterprise', DATE '2026-08-05', 35, 8.00, 0.00, 800, 10),
    (8, 'CMP-2608-RETARGET', 'Cart retargeting', 'display', 'all', DATE '2026-08-15', 46, 4.50, 0.15, 150, 6),
    (9, 'CMP-2609-AUTUMN', 'Autumn collection', 'social', 'consumer', DATE '2026-09-01', 30, 6.80, 0.22, 220, 3),
    (10, 'CMP-2609-PARTNER', 'Partner co-marketing', 'partner', 'smb', DATE '2026-09-01', 30, 2.00, 0.50, 400, 8),
    (11, 'CMP-2609-WINBACK', 'Win-back', 'email', 'all', DATE '2026-09-10', 21, 5.00, 0.00, 450, 5)
),
events AS (
  SELECT
    i AS event_id,
    (hash(i * 16 + 1) % 12)::INTEGER AS campaign_key,
    1 + (hash(i * 16 + 2) % (1000 * coalesce(getvariable('scale'), 1))::UBIGINT)::BIGINT AS customer_number,
    (hash(i * 16 + 3) % 1000)::INTEGER AS day_roll,
    (hash(i * 16 + 4) % 1000)::INTEGER AS click_roll,
    (hash(i * 16 + 5) % 100)::INTEGER AS conversion_roll,
    (hash(i * 16 + 6) % 18000)::INTEGER AS basket_cents
  FROM range(1, 50000 * coalesce(getvariable('scale'), 1)::BIGINT + 1) t(i)
),
reached AS (
  SELECT
    k.campaign_id, k.campaign_name, k.channel, k.target_segment, k.cpm, k.cpc,
    k.starts + (e.day_roll * k.days // 1000) AS activity_date,
    c.customer_id,
    c.signup_date >= DATE '2026-01-01' AS new_customer,
    e.click_roll < k.click_per_mille AS clicked,
    e.click_roll < k.click_per_mille AND e.conversion_roll < k.conversion_percent AS converted,
    (1500 + e.basket_cents) / 100.0
      * CASE c.segment WHEN 'enterprise' THEN 6 WHEN 'smb' THEN 2 ELSE 1 END AS basket
  FROM events e
  JOIN campaigns k USING (campaign_key)
  JOIN customers c ON c.customer_number = e.customer_number
  -- targeting: e-mails only to customers who opted in; segment campaigns only to their segment
  WHERE (k.channel <> 'email' OR c.marketing_opt_in)
    AND (k.target_segment = 'all' OR k.target_segment = c.segment)
),
daily AS (
SELECT
  campaign_id,
  activity_date,
  any_value(campaign_name) AS campaign_name,
  any_value(channel) AS channel,
  any_value(target_segment) AS target_segment,
  -- every generated event stands for 100 impressions (or e-mails sent), and a click on it
  -- for 5 clicks with their conversions: the rates stay those of the campaign table
  100 * count(*) AS impressions,
  5 * count(*) FILTER (WHERE clicked) AS clicks,
  5 * count(*) FILTER (WHERE converted) AS conversions,
  5 * count(*) FILTER (WHERE converted AND new_customer) AS new_customer_conversions,
  count(DISTINCT customer_id) AS unique_customers,
  CAST(100 * count(*) * any_value(cpm) / 1000 + 5 * count(*) FILTER (WHERE clicked) * any_value(cpc)
       AS DECIMAL(12, 2)) AS spend,
  CAST(5 * coalesce(sum(basket) FILTER (WHERE converted), 0) AS DECIMAL(14, 2)) AS revenue_attributed
FROM reached
GROUP BY campaign_id, activity_date
)
SELECT
  *,
  clicks / impressions AS click_through_rate,
  CASE WHEN clicks > 0 THEN conversions / clicks END AS conversion_rate,
  CASE WHEN spend > 0 THEN CAST(revenue_attributed / spend AS DOUBLE) END AS roas
FROM daily
ORDER BY activity_date, campaign_id
