-- customers.customers: 1,000 × scale generated customers (deterministic: everything derives from
-- the customer number n through hash() and md5(), no random()). hash(n * 16 + k) is one
-- independent pseudo-random stream per k; hash(n, 'k') would not do: DuckDB combines the hashes of
-- its arguments by XOR, so hash(n, 'a') % 24 and hash(n, 'b') % 24 would be correlated.
-- The country of customer n is countries[hash(n * 16 + 3) % 20 + 1]: logistics.shipments uses the
-- same formula for the destination country.
-- customer_id = md5('customer-' || n)::UUID: other generators (logistics.shipments) use the same
-- formula to refer to customers without a join.
WITH params AS (
  SELECT 1000 * coalesce(getvariable('scale'), 1)::BIGINT AS customers
),
numbered AS (
  SELECT
    n,
    (hash(n * 16 + 1) % 24)::INTEGER AS f,
    (hash(n * 16 + 2) % 24)::INTEGER AS l,
    (hash(n * 16 + 3) % 20)::INTEGER AS g,
    (hash(n * 16 + 4) % 100)::INTEGER AS s
  FROM params, range(1, params.customers + 1) t(n)
)
SELECT
  md5('customer-' || n::VARCHAR)::UUID AS customer_id,
  n AS customer_number,
  first_names[f + 1] || ' ' || last_names[l + 1] AS name,
  -- e-mail local parts are plain ASCII: strip accents and spaces from the names
  replace(lower(strip_accents(first_names[f + 1] || '.' || last_names[l + 1])), ' ', '')
    || '.' || n::VARCHAR
    || '@' || ['example.com', 'example.org', 'example.net', 'mail.example.com'][(hash(n * 16 + 5) % 4)::INTEGER + 1]
    AS email,
  countries[g + 1] AS country,
  cities[g + 1] AS city,
  CASE WHEN s < 70 THEN 'consumer' WHEN s < 92 THEN 'smb' ELSE 'enterprise' END AS segment,
  DATE '2022-01-01' + CAST(hash(n * 16 + 6) % 1642 AS INTEGER) AS signup_date,  -- to 2026-06-30
  hash(n * 16 + 7) % 100 < 62 AS marketing_opt_in,
  CAST(CASE WHEN s < 70 THEN 500 + hash(n * 16 + 8) % 20 * 250
            WHEN s < 92 THEN 5000 + hash(n * 16 + 8) % 40 * 1000
            ELSE 50000 + hash(n * 16 + 8) % 90 * 5000 END AS DECIMAL(12, 2)) AS credit_limit
FROM numbered,
  (SELECT
     ['Anna', 'Ben', 'Chloé', 'David', 'Elif', 'Finn', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Karin',
      'Luca', 'Marie', 'Noah', 'Olga', 'Pablo', 'Quinn', 'Rosa', 'Sven', 'Tara', 'Umut', 'Vera',
      'Wim', 'Zoe'] AS first_names,
     ['Meyer', 'Dubois', 'de Vries', 'García', 'Rossi', 'Huber', 'Peeters', 'Lindqvist', 'Nowak',
      'Smith', 'Schmidt', 'Martin', 'Jansen', 'López', 'Bianchi', 'Gruber', 'Maes', 'Berg',
      'Kowalski', 'Jones', 'Fischer', 'Bernard', 'Bakker', 'Fernández'] AS last_names,
     ['DE', 'DE', 'DE', 'DE', 'FR', 'FR', 'FR', 'NL', 'NL', 'ES', 'ES', 'IT', 'IT', 'AT', 'BE',
      'SE', 'PL', 'GB', 'GB', 'DE'] AS countries,
     ['Berlin', 'Hamburg', 'Munich', 'Cologne', 'Paris', 'Lyon', 'Marseille', 'Amsterdam',
      'Rotterdam', 'Madrid', 'Barcelona', 'Milan', 'Rome', 'Vienna', 'Brussels', 'Stockholm',
      'Warsaw', 'London', 'Manchester', 'Frankfurt'] AS cities) AS lists
ORDER BY n
