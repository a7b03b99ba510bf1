#!/usr/bin/env bash
# psql (Debian's postgresql-client) against `meshwork serve` on the demo mesh: SCRAM login with a
# principal's client id and secret, \dn, \dt marketing.*, \d finance.q3_revenue, and a
# cross-domain join of marketing and finance products that returns the same rows through psql,
# `meshwork sql` and POST /api/v1/query. Also the refusals a psql user meets: a wrong password,
# a wrong database, sslmode=require without TLS, the firewall.
# Usage: psql_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
meshwork="$1/meshwork"
examples="$2/examples"
command -v psql >/dev/null || { echo "SKIP: psql is not installed (apt install postgresql-client)"; exit 77; }
command -v node >/dev/null || { echo "SKIP: node is not installed"; exit 77; }
source "$2/tests/testing/e2e.sh"
secret="psql-test-secret"
data="$scratch/mesh"
e2e_demo "$data" "$examples" "$secret"
e2e_serve "$data" --no-scheduler --bootstrap-credentials "root:$secret"
echo "ok   demo mesh served: HTTP $base, PostgreSQL 127.0.0.1:$pg_port"

export PGHOST=127.0.0.1 PGPORT="$pg_port" PGUSER=root PGDATABASE=mesh PGPASSWORD="$secret"
export PGCONNECT_TIMEOUT=10 PSQLRC=/dev/null
run_psql() { psql -X -v ON_ERROR_STOP=1 "$@"; }

run_psql -c '\dn' >"$scratch/dn.out" 2>&1 || { cat "$scratch/dn.out"; fail "\\dn"; }
for domain in customers finance logistics marketing; do
  grep -q "^ $domain " "$scratch/dn.out" || { cat "$scratch/dn.out"; fail "\\dn does not list $domain"; }
done
grep -q "pg_catalog\|information_schema" "$scratch/dn.out" && fail "\\dn lists system schemas"
echo "ok   \\dn lists the domains"

run_psql -c '\dt marketing.*' >"$scratch/dt.out" 2>&1 || { cat "$scratch/dt.out"; fail "\\dt"; }
grep -q "marketing *| campaign_performance *| table" "$scratch/dt.out" ||
  { cat "$scratch/dt.out"; fail "\\dt marketing.* does not list campaign_performance"; }
grep -q "finance" "$scratch/dt.out" && fail "\\dt marketing.* lists another domain's tables"
echo "ok   \\dt marketing.* lists marketing's tables only"

run_psql -c '\d finance.q3_revenue' >"$scratch/d.out" 2>&1 || { cat "$scratch/d.out"; fail "\\d"; }
grep -q 'Table "finance.q3_revenue"' "$scratch/d.out" || { cat "$scratch/d.out"; fail "\\d title"; }
grep -q "net_revenue *| numeric(14,2) *| *| not null" "$scratch/d.out" ||
  { cat "$scratch/d.out"; fail "\\d finance.q3_revenue: net_revenue numeric(14,2) not null"; }
grep -q "revenue_date *| date" "$scratch/d.out" || { cat "$scratch/d.out"; fail "\\d: revenue_date"; }
run_psql -c '\d+ marketing.campaign_performance' >"$scratch/dplus.out" 2>&1 ||
  { cat "$scratch/dplus.out"; fail "\\d+"; }
grep -q "Campaign code" "$scratch/dplus.out" || { cat "$scratch/dplus.out"; fail "\\d+ shows no column docs"; }
echo "ok   \\d finance.q3_revenue shows its columns and types; \\d+ the column docs"

# The same cross-domain join three ways: psql, meshwork sql, HTTP.
join="SELECT date_trunc('month', f.revenue_date)::DATE AS month, f.segment,
  sum(f.net_revenue) AS revenue, max(m.spend) AS spend
FROM finance.q3_revenue f
JOIN (SELECT date_trunc('month', activity_date)::DATE AS month, target_segment,
             sum(spend) AS spend
      FROM marketing.campaign_performance GROUP BY 1, 2) m
  ON m.month = date_trunc('month', f.revenue_date)::DATE AND m.target_segment = f.segment
GROUP BY 1, 2 ORDER BY 1, 2"
run_psql -At -F, -c "$join" >"$scratch/psql.csv" 2>&1 || { cat "$scratch/psql.csv"; fail "the join over psql"; }
[[ $(wc -l <"$scratch/psql.csv") -ge 3 ]] || { cat "$scratch/psql.csv"; fail "the join returned too few rows"; }
"$meshwork" --data-dir "$data" sql "$join" --format csv | tail -n +2 >"$scratch/cli.csv" ||
  fail "the join through meshwork sql"
diff "$scratch/psql.csv" "$scratch/cli.csv" >/dev/null ||
  { diff "$scratch/psql.csv" "$scratch/cli.csv" | head; fail "psql and meshwork sql differ"; }
token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  -d client_id=root -d client_secret="$secret" | json 'd.access_token') || fail "token"
node -e 'console.log(JSON.stringify({sql: process.argv[1]}))' "$join" >"$scratch/request.json"
curl -sf -X POST -H "Authorization: Bearer $token" "$base/api/v1/query" --data-binary @"$scratch/request.json" |
  json 'd.rows.map(r=>r.map(v=>v===null?"":String(v)).join(",")).join("\n")' >"$scratch/http.csv" ||
  fail "the join over HTTP"
diff "$scratch/psql.csv" "$scratch/http.csv" >/dev/null ||
  { diff "$scratch/psql.csv" "$scratch/http.csv" | head; fail "psql and HTTP differ"; }
echo "ok   a marketing × finance join: $(wc -l <"$scratch/psql.csv") rows, the same through psql, meshwork sql and HTTP"

# Discovery and session statements from psql.
[[ $(run_psql -At -c "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'finance' AND table_name = 'q3_revenue'") -ge 5 ]] ||
  fail "information_schema.columns"
[[ $(run_psql -At -c "SELECT classification FROM mesh.catalog.columns WHERE table_name = 'customers' AND column_name = 'email'") == pii* ]] ||
  fail "mesh.catalog.columns classifications"
[[ $(run_psql -At -c "SET search_path TO finance" -c "SELECT count(*) > 0 FROM q3_revenue") == *t ]] ||
  fail "search_path in a psql session"
echo "ok   information_schema, mesh.catalog and search_path from psql"

# Pruning and time travel, seen from psql.
run_psql -At -c "EXPLAIN SELECT count(*) FROM logistics.shipments WHERE shipped_at >= TIMESTAMP '2026-05-01'" \
  >"$scratch/explain.out" 2>&1 || { cat "$scratch/explain.out"; fail "EXPLAIN"; }
kept=$(grep -o 'data files [0-9]* of [0-9]* kept' "$scratch/explain.out" | head -1)
[[ $kept =~ data\ files\ ([0-9]+)\ of\ ([0-9]+) ]] && ((BASH_REMATCH[1] > 0 && BASH_REMATCH[1] < BASH_REMATCH[2])) ||
  { cat "$scratch/explain.out"; fail "EXPLAIN shows no pruning on the partitioned shipments"; }
[[ $(run_psql -At -c "SELECT count(*) FROM finance.q3_revenue AT (VERSION => 'v1.0.0')") == \
  $(run_psql -At -c "SELECT count(*) FROM finance.q3_revenue") ]] || fail "AT (VERSION => tag) over psql"
echo "ok   EXPLAIN over psql: logistics.shipments $kept; AT (VERSION => 'v1.0.0') reads the tagged snapshot"

# What a psql user is refused, and how.
PGPASSWORD=wrong psql -X -c 'SELECT 1' >"$scratch/wrong.out" 2>&1 && fail "a wrong password was accepted"
grep -q 'password authentication failed for user "root"' "$scratch/wrong.out" ||
  { cat "$scratch/wrong.out"; fail "wrong password message"; }
psql -X -d other -c 'SELECT 1' >"$scratch/db.out" 2>&1 && fail "another database was accepted"
grep -q 'database "other" does not exist' "$scratch/db.out" || { cat "$scratch/db.out"; fail "wrong database message"; }
psql -X "sslmode=require" -c 'SELECT 1' >"$scratch/ssl.out" 2>&1 && fail "sslmode=require without TLS connected"
grep -qi "server does not support SSL" "$scratch/ssl.out" || { cat "$scratch/ssl.out"; fail "sslmode=require message"; }
run_psql -c "SELECT * FROM read_csv('/etc/passwd')" >"$scratch/fw.out" 2>&1 && fail "the firewall let read_csv through"
grep -q "read_csv() is not allowed" "$scratch/fw.out" || { cat "$scratch/fw.out"; fail "firewall message"; }
run_psql -c "SELECT 1" >/dev/null 2>&1 || fail "the server stopped serving after the refusals"
echo "ok   refused with clear messages: wrong password, wrong database, sslmode=require, read_csv"

kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
echo "ok   the server stopped cleanly"

# With a certificate the same port speaks TLS: sslmode=require connects encrypted.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$scratch/key.pem" -out "$scratch/cert.pem" \
  -days 1 -subj "/CN=127.0.0.1" >/dev/null 2>&1 || fail "openssl could not make a test certificate"
e2e_serve "$data" --no-scheduler --tls-cert "$scratch/cert.pem" --tls-key "$scratch/key.pem" \
  --bootstrap-credentials "root:$secret"
export PGPORT="$pg_port"
psql -X "sslmode=require" -c '\conninfo' -c 'SELECT count(*) FROM finance.q3_revenue' >"$scratch/tls.out" 2>&1 ||
  { cat "$scratch/tls.out"; fail "psql over TLS"; }
grep -q "SSL connection (protocol: TLSv1" "$scratch/tls.out" || { cat "$scratch/tls.out"; fail "not encrypted"; }
echo "ok   with --tls-cert, psql sslmode=require connects over $(grep -o 'TLSv1[.0-9]*' "$scratch/tls.out" | head -1)"
