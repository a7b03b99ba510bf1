-- finance.q3_revenue: booked revenue per customer and day in Q3 2026 (1 July to 30 September),
-- from 30,000 × scale generated invoice lines joined with customers.customers (the input
-- `customers`) for the country, segment and currency of the customer.
--
-- Card numbers exist only inside this query: the output keeps the governance council's keyed
-- mesh_hash() of the card a customer paid with, never the number (policy personal-data,
-- rule card-numbers-hashed, blocks any other value).
WITH invoices AS (
  SELECT
    i AS invoice_id,
    -- customers are numbered 1..N in the master; pick one per invoice
    1 + (hash(i * 16 + 1) % (1000 * coalesce(getvariable('scale'), 1))::UBIGINT)::BIGINT
      AS customer_number,
    DATE '2026-07-01' + (hash(i * 16 + 2) % 92)::INTEGER AS revenue_date,
    (hash(i * 16 + 3) % 6000)::INTEGER AS cents_base,  -- 5 to 65 EUR before the segment factor
    (hash(i * 16 + 4) % 100)::INTEGER AS discount_roll,
    (hash(i * 16 + 5) % 100)::INTEGER AS card_roll
  FROM range(1, 30000 * coalesce(getvariable('scale'), 1)::BIGINT + 1) t(i)
),
priced AS (
  SELECT
    v.*,
    c.customer_id,
    c.country,
    c.segment,
    -- enterprise customers buy bigger baskets
    CAST((500 + v.cents_base) * CASE c.segment WHEN 'enterprise' THEN 12 WHEN 'smb' THEN 3 ELSE 1 END
         / 100.0 AS DECIMAL(14, 2)) AS gross,
    -- a card number per customer, 16 digits, VISA-like: every customer has a first card; a fifth
    -- of them also a second card, which pays 30 % of their invoices
    '4' || lpad((hash(v.customer_number * 16 + CASE WHEN v.card_roll < 30
                                                       AND hash(v.customer_number * 16 + 11) % 5 = 0
                                                  THEN 10 ELSE 9 END)
                 % 1000000000000000)::VARCHAR, 15, '0') AS card_number
  FROM invoices v
  JOIN customers c ON c.customer_number = v.customer_number
)
SELECT
  customer_id,
  revenue_date,
  any_value(country) AS country,
  any_value(segment) AS segment,
  count(*) AS invoices,
  sum(gross) AS gross_revenue,
  sum(CAST(CASE WHEN discount_roll < 15 THEN gross * 0.10 ELSE 0 END AS DECIMAL(14, 2))) AS discounts,
  sum(gross) - sum(CAST(CASE WHEN discount_roll < 15 THEN gross * 0.10 ELSE 0 END AS DECIMAL(14, 2)))
    AS net_revenue,
  'EUR' AS currency,
  -- the card of the day's first invoice, hashed; the raw number never leaves this query
  mesh_hash(arg_min(card_number, invoice_id)) AS card_hash
FROM priced
GROUP BY customer_id, revenue_date
ORDER BY revenue_date, customer_id
