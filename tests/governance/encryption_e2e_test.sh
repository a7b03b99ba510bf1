#!/usr/bin/env bash
# Encryption at rest on the demo mesh, as an operator and a raw reader would see it:
#  - The master key comes from MESHWORK_MASTER_KEY; without it a deploy under encrypt rules
#    fails, saying how to set it.
#  - The Parquet files of customers.customers hold only ciphertext in name and email (pii.*),
#    read with hyparquet and with plain DuckDB (`meshwork table scan`, meshwork's engine without
#    its key store, reading the files as any engine would).
#  - marketing.newsletter (another domain) stores e-mails of customers; their deterministic
#    ciphertext equals the customer master's, and through meshwork the governance officer joins
#    the two domains on them, in clear; the marketing analyst sees masks, never ciphertext.
#  - `meshwork key rotate` gives new writes a new key version; data written before stays
#    readable (time travel), and the server reads both.
#  - A server with the wrong master key refuses queries of encrypted columns, naming the column.
# Usage: encryption_e2e_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
meshwork="$1/meshwork"
examples="$2/examples"
e2e="$2/tests/e2e"
if ! command -v node >/dev/null || [[ ! -d "$e2e/node_modules/hyparquet" ]]; then
  echo "SKIP: node or tests/e2e/node_modules missing; run scripts/bootstrap.sh"
  exit 77
fi
source "$(dirname "${BASH_SOURCE[0]}")/../testing/e2e.sh"
secret="encryption-test-secret"
data="$scratch/mesh"
export MESHWORK_MASTER_KEY=$(openssl rand -hex 32)
mw() { "$meshwork" --data-dir "$data" "$@"; }
e2e_demo "$data" "$examples" "$secret"
[[ ! -e "$data/demo-master.key" ]] || fail "the demo generated a key although MESHWORK_MASTER_KEY is set"
mkt_id=$(principal mkt_analyst client_id) mkt_secret=$(principal mkt_analyst client_secret)
gov_id=$(principal gov_officer client_id) gov_secret=$(principal gov_officer client_secret)
echo "ok   demo mesh under MESHWORK_MASTER_KEY: $(mw key list --json | json 'd.map(k=>k.scope).join(", ")')"

# 1. Raw readers see ciphertext only.
files=$(find "$data/warehouse/customers" -name '*.parquet' | sort)
[[ -n "$files" ]] || fail "no data files of customers.customers"
# shellcheck disable=SC2086
node "$e2e/parquet_columns.mjs" name,email,country $files >"$scratch/raw.hyparquet" || fail "hyparquet"
rows=$(wc -l <"$scratch/raw.hyparquet")
[[ $rows -eq 1000 ]] || fail "hyparquet read $rows rows, not 1000"
bad=$(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n")
  const bad = lines.map(JSON.parse).filter(([name, email, country]) =>
    !name.startsWith("me1:dom.customers.v1:") ||
    !email.startsWith("me1:det.encrypt-emails-joinable.v1:") ||
    /@example\.|[A-Z][a-z]+ [A-Z]/.test(name + email) || !/^[A-Z]{2}$/.test(country))
  console.log(bad.length)' "$scratch/raw.hyparquet")
[[ $bad == 0 ]] || { head -3 "$scratch/raw.hyparquet"; fail "hyparquet sees $bad rows with clear personal data"; }
mw table scan --warehouse "$data/warehouse" --metastore "$data/meshwork.db" customers.customers --format csv --limit 1000 \
  >"$scratch/raw.duckdb" 2>"$scratch/raw.err" || { cat "$scratch/raw.err"; fail "plain DuckDB scan"; }
[[ $(grep -c 'me1:det.encrypt-emails-joinable.v1:' "$scratch/raw.duckdb") -eq 1000 ]] ||
  { head -3 "$scratch/raw.duckdb"; fail "plain DuckDB does not see 1000 encrypted e-mails"; }
grep -q '@example\.' "$scratch/raw.duckdb" && fail "plain DuckDB sees a clear e-mail address"
echo "ok   hyparquet and plain DuckDB (read_parquet through meshwork table scan) see only ciphertext in name and email of $rows customers; country in clear"

# 2. Another domain with customers' e-mails: deterministic ciphertext, joinable.
mkdir -p "$scratch/newsletter"
cat >"$scratch/newsletter/dataproduct.yaml" <<'YAML'
apiVersion: meshwork/v1
kind: DataProduct
domain: marketing
name: newsletter
version: 1.0.0
title: Newsletter subscribers
description: Who subscribed to the newsletter, by e-mail address.
owner: {team: marketing, email: marketing@example.com}
inputs:
  - {name: customers, port: customers.customers}
transform:
  sql: SELECT email, 'weekly' AS frequency FROM customers WHERE customer_number % 10 = 0
ports:
  - name: newsletter
    description: One row per subscriber.
    columns:
      - {name: email, type: string, classification: pii.email, description: Subscriber address}
      - {name: frequency, type: string, description: How often they get it}
sla: {freshness: 1d}
YAML
mw product deploy "$scratch/newsletter" >"$scratch/newsletter.out" 2>&1 ||
  { cat "$scratch/newsletter.out"; fail "deploying marketing.newsletter"; }
# shellcheck disable=SC2046
node "$e2e/parquet_columns.mjs" email $(find "$data/warehouse/marketing" -path '*newsletter*' -name '*.parquet') \
  >"$scratch/newsletter.raw" || fail "hyparquet on marketing.newsletter"
matched=$(node -e '
  const fs = require("fs")
  const master = new Set(fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map(l => JSON.parse(l)[1]))
  const letters = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map(l => JSON.parse(l)[0])
  console.log(letters.filter(e => e.startsWith("me1:det.") && master.has(e)).length + "/" + letters.length)' \
  "$scratch/raw.hyparquet" "$scratch/newsletter.raw")
[[ $matched == 100/100 ]] || fail "only $matched newsletter ciphertexts equal the customer master's"
echo "ok   marketing.newsletter: its 100 encrypted e-mails equal customers.customers' ciphertext (deterministic, joinable by raw engines too)"

# 3. Through meshwork: the officer sees clear values and joins; the analyst sees masks.
kill_server() { [[ -n "$server_pid" ]] && kill -TERM "$server_pid" && wait "$server_pid"; server_pid=""; }
start_server() { e2e_serve "$data" --no-scheduler; }
as_http() {
  local token
  token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
    -d client_id="$1" -d client_secret="$2" | json 'd.access_token')
  node -e 'console.log(JSON.stringify({sql: process.argv[1]}))' "$3" |
    curl -s -X POST -H "Authorization: Bearer $token" "$base/api/v1/query" --data-binary @-
}
rows_of() { json 'd.rows ? d.rows.map(r=>r.join(",")).join("\n") : "ERROR " + JSON.stringify(d)'; }
as_cli() {
  MESHWORK_CLIENT_ID="$1" MESHWORK_CLIENT_SECRET="$2" "$meshwork" --data-dir "$data" sql "$3" --format csv | tail -n +2
}
start_server
join="SELECT count(*) AS subscribers, count(DISTINCT c.country) AS countries, min(c.email) AS first FROM marketing.newsletter n JOIN customers.customers c ON c.email = n.email"
as_http "$gov_id" "$gov_secret" "$join" | rows_of >"$scratch/join.gov"
grep -qE '^100,[0-9]+,[a-z.]+\.[0-9]+@example\.[a-z.]+$' "$scratch/join.gov" ||
  { cat "$scratch/join.gov"; fail "the officer's join across domains on the encrypted e-mail"; }
as_cli "$gov_id" "$gov_secret" "SELECT name, email FROM customers.customers WHERE customer_number = 7" >"$scratch/gov.cli" ||
  fail "meshwork sql as the officer"
grep -qE '^[A-Z][a-zé]+ [A-Za-zé ]+,[a-z.]+\.7@example\.[a-z.]+$' "$scratch/gov.cli" ||
  { cat "$scratch/gov.cli"; fail "the officer does not see clear values through meshwork sql"; }
as_cli "$mkt_id" "$mkt_secret" "SELECT name, email FROM customers.customers ORDER BY customer_number" >"$scratch/mkt.cli" ||
  fail "meshwork sql as the analyst"
[[ -s "$scratch/mkt.cli" ]] || fail "the analyst sees no rows"
grep -vqE '^\*\*\*\*,\*\*\*@([a-z]+\.)?example\.[a-z]+$' "$scratch/mkt.cli" &&
  { grep -vE '^\*\*\*\*,\*\*\*@([a-z]+\.)?example\.[a-z]+$' "$scratch/mkt.cli" | head -3; fail "the analyst sees clear text or ciphertext"; }
as_http "$mkt_id" "$mkt_secret" "SELECT email FROM marketing.newsletter" | rows_of >"$scratch/mkt.newsletter"
grep -q 'me1:' "$scratch/mkt.newsletter" && fail "the analyst sees ciphertext in marketing.newsletter"
as_http "$mkt_id" "$mkt_secret" "EXPLAIN SELECT * FROM customers.customers" | json 'd.rows.map(r=>r.join(" ")).join("\n")' >"$scratch/explain"
grep -q 'decrypt email (deterministic)' "$scratch/explain" && grep -q 'decrypt name (randomized)' "$scratch/explain" &&
  grep -q 'mask email by personal-data/mask-emails' "$scratch/explain" ||
  { head -12 "$scratch/explain"; fail "EXPLAIN does not name the decryption and the masks"; }
as_http "$gov_id" "$gov_secret" "SELECT mesh_decrypt(email, 'x') FROM customers.customers" >"$scratch/udf.json"
grep -q 'mesh_decrypt' "$scratch/udf.json" && ! grep -q '"rows"' "$scratch/udf.json" ||
  { cat "$scratch/udf.json"; fail "user SQL may call mesh_decrypt"; }
echo "ok   through meshwork: the officer joins newsletter × customers on the encrypted e-mail ($(cut -d, -f1 "$scratch/join.gov") matches) in clear; the analyst sees $(wc -l <"$scratch/mkt.cli") masked rows, no ciphertext; EXPLAIN names decryption; mesh_decrypt() refused"

# 4. Rotation: new writes use the new version; older data stays readable.
kill_server
mw key rotate --domain customers >"$scratch/rotate.out" 2>&1 || { cat "$scratch/rotate.out"; fail "key rotate"; }
grep -q 'dom.customers .* current v2 of 2' "$scratch/rotate.out" || { cat "$scratch/rotate.out"; fail "rotation did not add v2"; }
sed 's/^version: 1.0.0/version: 1.0.1/' "$examples/customers/customers/dataproduct.yaml" >"$scratch/customers.yaml"
cp -r "$examples/customers/customers" "$scratch/customers" && mv "$scratch/customers.yaml" "$scratch/customers/dataproduct.yaml"
mw product deploy "$scratch/customers" >"$scratch/redeploy.out" 2>&1 || { cat "$scratch/redeploy.out"; fail "redeploy after rotation"; }
mw table scan --warehouse "$data/warehouse" --metastore "$data/meshwork.db" customers.customers --format csv --limit 5 >"$scratch/rotated.raw" 2>/dev/null
grep -q 'me1:dom.customers.v2:' "$scratch/rotated.raw" || { cat "$scratch/rotated.raw"; fail "new writes do not use v2"; }
start_server
old=$(as_http "$gov_id" "$gov_secret" "SELECT name FROM customers.customers AT (VERSION => 'v1.0.0') WHERE customer_number = 7" | rows_of)
now=$(as_http "$gov_id" "$gov_secret" "SELECT name FROM customers.customers WHERE customer_number = 7" | rows_of)
[[ -n "$old" && "$old" == "$now" && "$old" != ERROR* && "$old" != me1:* ]] ||
  fail "v1.0.0 (key v1) and v1.0.1 (key v2) read '$old' and '$now'"
echo "ok   key rotate: v1.0.1 written under dom.customers.v2; v1.0.0 (v1) still reads '$old' through time travel"

# 5. Fail closed: a server with another master key refuses to show anything of the encrypted
#    columns (altered values are covered by the unit tests: the GCM tag and SIV catch them).
MESHWORK_MASTER_KEY=$(openssl rand -hex 32) start_server
as_http "$gov_id" "$gov_secret" "SELECT name FROM customers.customers" >"$scratch/wrong.json"
grep -q '"rows"' "$scratch/wrong.json" && fail "a server with the wrong master key returned rows"
grep -q 'fingerprint' "$scratch/wrong.json" && grep -q 'column name of customers.customers' "$scratch/wrong.json" ||
  { cat "$scratch/wrong.json"; fail "the refusal does not name the column and the master key mismatch"; }
plain=$(as_http "$gov_id" "$gov_secret" "SELECT count(*), min(country) FROM customers.customers" | rows_of)
[[ $plain == 1000,* ]] || fail "columns that are not encrypted should stay readable: $plain"
echo "     $(json "JSON.stringify(d).slice(0, 400)" <"$scratch/wrong.json")"
echo "ok   wrong master key: queries of encrypted columns refused naming the column and the key fingerprints; other columns readable"
kill_server

# 6. Without the master key: deploys under encrypt rules refuse, saying how to set it.
unset MESHWORK_MASTER_KEY
sed -i 's/^version: 1.0.1/version: 1.0.2/' "$scratch/customers/dataproduct.yaml"
mw product deploy "$scratch/customers" >"$scratch/nokey.out" 2>&1 && fail "a deploy without the master key succeeded"
grep -q 'MESHWORK_MASTER_KEY' "$scratch/nokey.out" || { cat "$scratch/nokey.out"; fail "the error does not say how to set the master key"; }
echo "     $(grep -m1 MESHWORK_MASTER_KEY "$scratch/nokey.out" | cut -c1-300)"
echo "ok   without MESHWORK_MASTER_KEY the deploy is refused and says how to set it"
