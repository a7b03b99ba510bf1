#!/usr/bin/env bash
# The governance council's rules, tried as a new user would on the demo mesh:
#  - Finance deploys q3_revenue with card numbers hashed by plain sha256 → exit 1, the rule and
#    the column named, nothing published; with mesh_hash() it deploys.
#  - An unclassified column of e-mail addresses is caught at deploy.
#  - Through psql, HTTP and `meshwork sql` the marketing analyst sees masked e-mails and only
#    the customers of their country; the governance officer (UNMASK) sees clear values.
#  - Loading that table through the Iceberg REST API as the analyst is refused with 403.
#  - UNMASK on a classification, principal attributes through the API, and the audit log
#    (/api/v1/audit and mesh.audit) showing each decision, for the governance role only.
#  - `policy test` of a stricter rule lists exactly the products that would fail.
#  - Bad policy files are refused at `policy apply` with file:line and the reason.
# Usage: governance_e2e_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
meshwork="$1/meshwork"
examples="$2/examples"
command -v node >/dev/null || { echo "SKIP: node is not installed"; exit 77; }
source "$(dirname "${BASH_SOURCE[0]}")/../testing/e2e.sh"
secret="governance-test-secret"
data="$scratch/mesh"
mw() { "$meshwork" --data-dir "$data" "$@"; }
e2e_demo "$data" "$examples" "$secret"
mkt_id=$(principal mkt_analyst client_id) mkt_secret=$(principal mkt_analyst client_secret)
gov_id=$(principal gov_officer client_id) gov_secret=$(principal gov_officer client_secret)
[[ -n "$mkt_id" && -n "$gov_id" ]] || fail "the demo created no analyst and officer"
echo "ok   demo mesh with the council's policies: $(mw policy list --json | json 'd.rules.length') rules"

# 1. Card numbers hashed with plain sha256: blocked, nothing published.
cp -r "$examples/finance/q3_revenue" "$scratch/q3"
sed -i 's/mesh_hash(arg_min(card_number, invoice_id))/sha256(arg_min(card_number, invoice_id))/' \
  "$scratch/q3/transform.sql"
sed -i 's/^version: 1.0.0/version: 1.0.1/; s/pattern: "mh1:\[0-9a-f\]{64}"/pattern: "[0-9a-z:]+"/' \
  "$scratch/q3/dataproduct.yaml"
before=$(mw product show finance.q3_revenue --json | json 'd.version')
mw product deploy "$scratch/q3" >"$scratch/deploy.out" 2>&1
code=$?
[[ $code == 1 ]] || { cat "$scratch/deploy.out"; fail "deploy without mesh_hash exited $code, not 1"; }
grep -q "card-numbers-hashed" "$scratch/deploy.out" && grep -q "card_hash" "$scratch/deploy.out" ||
  { cat "$scratch/deploy.out"; fail "the report does not name the rule and the column"; }
grep -q "mesh_hash(card_hash)" "$scratch/deploy.out" || { cat "$scratch/deploy.out"; fail "no fix given"; }
[[ $(mw product show finance.q3_revenue --json | json 'd.version') == "$before" ]] ||
  fail "the blocked deploy published a version"
sed -i 's/sha256(arg_min(card_number, invoice_id))/mesh_hash(arg_min(card_number, invoice_id))/' \
  "$scratch/q3/transform.sql"
mw product deploy "$scratch/q3" >"$scratch/deploy2.out" 2>&1 || { cat "$scratch/deploy2.out"; fail "deploy with mesh_hash"; }
[[ $(mw product show finance.q3_revenue --json | json 'd.version') == "1.0.1" ]] || fail "1.0.1 not published"
echo "ok   card numbers hashed with sha256: exit 1 naming card-numbers-hashed and card_hash, nothing published; with mesh_hash() it deploys"

# 2. An unclassified column of e-mail addresses.
mkdir -p "$scratch/contacts"
cat >"$scratch/contacts/dataproduct.yaml" <<'EOF'
apiVersion: meshwork/v1
kind: DataProduct
domain: marketing
name: contacts
version: 1.0.0
owner: {team: marketing, email: marketing@example.com}
description: Newsletter contacts
transform:
  sql: SELECT i AS contact_number, 'person' || i || '@example.com' AS reply_to FROM range(100) t(i)
ports:
  - name: contacts
    description: One row per contact
    columns:
      - {name: contact_number, type: long, description: Number}
      - {name: reply_to, type: string, description: Where replies go}
EOF
mw product deploy "$scratch/contacts" >"$scratch/contacts.out" 2>&1 && fail "unclassified e-mails were published"
grep -q "no-unclassified-emails" "$scratch/contacts.out" && grep -q "marketing.contacts.reply_to" "$scratch/contacts.out" ||
  { cat "$scratch/contacts.out"; fail "the e-mail detector's report"; }
grep -q "person1@example.com" "$scratch/contacts.out" && fail "the report shows a sampled value in clear"
echo "ok   an unclassified column of e-mail addresses is caught at deploy (value redacted in the report)"
# A column of US social security numbers among the fields of a text-only export: the national
# id detector (format and reserved values) catches it; classified pii.national_id it deploys.
sed -e 's/name: contacts/name: payroll_export/' -e 's/Newsletter contacts/Payroll export/' \
  -e "s/'person' || i || '@example.com' AS reply_to/(100 + i)::VARCHAR || '-' || (10 + i % 80)::VARCHAR || '-' || (1000 + i)::VARCHAR AS tax_ref/" \
  -e 's/name: reply_to, type: string, description: Where replies go/name: tax_ref, type: string, description: Tax reference/' \
  "$scratch/contacts/dataproduct.yaml" >"$scratch/payroll.yaml"
mkdir -p "$scratch/payroll" && mv "$scratch/payroll.yaml" "$scratch/payroll/dataproduct.yaml"
# A daily promise, so that the stricter rule of section 5 has nothing to say about it.
printf 'sla:\n  freshness: 1d\n' >>"$scratch/payroll/dataproduct.yaml"
mw product deploy "$scratch/payroll" >"$scratch/payroll.out" 2>&1 && fail "unclassified social security numbers were published"
grep -q "no-unclassified-national-ids" "$scratch/payroll.out" && grep -q "marketing.payroll_export.tax_ref" "$scratch/payroll.out" &&
  grep -q "100 of 100 sampled values look like national_id" "$scratch/payroll.out" ||
  { cat "$scratch/payroll.out"; fail "the national id detector's report"; }
grep -q "100-10-1000" "$scratch/payroll.out" && fail "the report shows a social security number in clear"
sed -i 's/description: Tax reference}/description: Tax reference, classification: pii.national_id}/' \
  "$scratch/payroll/dataproduct.yaml"
mw product deploy "$scratch/payroll" >"$scratch/payroll2.out" 2>&1 ||
  { cat "$scratch/payroll2.out"; fail "the classified payroll export did not deploy"; }
echo "ok   an unclassified column of social security numbers is caught at deploy by the national id detector; classified pii.national_id it deploys"

# 3. Masks and row filters on every path.
e2e_serve "$data" --no-scheduler --bootstrap-credentials "root:$secret"
query="SELECT email, country FROM customers.customers ORDER BY customer_number"
as_psql() { PGPASSWORD="$2" psql -X -At -F, "host=127.0.0.1 port=$pg_port dbname=mesh user=$1" -c "$3"; }
as_http() {
  local token
  token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
    -d client_id="$1" -d client_secret="$2" | json 'd.access_token')
  node -e 'console.log(JSON.stringify({sql: process.argv[1]}))' "$3" |
    curl -sf -X POST -H "Authorization: Bearer $token" "$base/api/v1/query" --data-binary @- |
    json 'd.rows.map(r=>r.join(",")).join("\n")'
}
as_cli() {
  MESHWORK_CLIENT_ID="$1" MESHWORK_CLIENT_SECRET="$2" "$meshwork" --data-dir "$data" sql "$3" --format csv | tail -n +2
}
if command -v psql >/dev/null; then
  as_psql "$mkt_id" "$mkt_secret" "$query" >"$scratch/mkt.psql" || fail "psql as the analyst"
else
  echo "note: psql missing, the psql path is skipped"
fi
as_http "$mkt_id" "$mkt_secret" "$query" >"$scratch/mkt.http" || fail "HTTP as the analyst"
as_cli "$mkt_id" "$mkt_secret" "$query" >"$scratch/mkt.cli" || fail "meshwork sql as the analyst"
for path in http cli psql; do
  [[ -f "$scratch/mkt.$path" ]] || continue
  [[ -s "$scratch/mkt.$path" ]] || fail "$path: the analyst sees no rows"
  grep -qv '^\*\*\*@[a-z.]*,DE$' "$scratch/mkt.$path" &&
    { grep -v '^\*\*\*@[a-z.]*,DE$' "$scratch/mkt.$path" | head -3; fail "$path: the analyst sees a clear e-mail or another country"; }
done
cmp -s "$scratch/mkt.http" "$scratch/mkt.cli" || fail "HTTP and meshwork sql differ for the analyst"
[[ ! -f "$scratch/mkt.psql" ]] || cmp -s "$scratch/mkt.http" "$scratch/mkt.psql" || fail "HTTP and psql differ"
as_http "$gov_id" "$gov_secret" "$query" >"$scratch/gov.http" || fail "HTTP as the officer"
grep -q '^[a-z0-9.]*@[a-z.]*,FR$' "$scratch/gov.http" || fail "the officer (UNMASK) does not see clear e-mails of every country"
as_http "$mkt_id" "$mkt_secret" "EXPLAIN $query" >"$scratch/explain" || fail "EXPLAIN as the analyst"
grep -q "mask email by personal-data/mask-emails" "$scratch/explain" &&
  grep -q "row filter personal-data/customers-by-country" "$scratch/explain" || { cat "$scratch/explain"; fail "EXPLAIN names no policies"; }
echo "ok   the marketing analyst sees $(wc -l <"$scratch/mkt.http") masked DE customers through HTTP, meshwork sql and psql; the officer sees clear values; EXPLAIN names the policies"

# 4. The Iceberg REST API is no side door.
token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  -d client_id="$mkt_id" -d client_secret="$mkt_secret" | json 'd.access_token')
status=$(curl -s -o "$scratch/load.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
  "$base/catalog/v1/mesh/namespaces/customers/tables/customers")
[[ $status == 403 ]] || fail "loading customers.customers through /catalog as the analyst answered $status"
grep -q "personal-data/" "$scratch/load.json" || { cat "$scratch/load.json"; fail "the 403 names no policy"; }
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  "$base/catalog/v1/mesh/namespaces/marketing/tables/campaign_performance")
[[ $status == 200 ]] || fail "a table without policies answered $status"
echo "ok   loadTable through /catalog: 403 naming the policy for customers.customers, 200 for campaign_performance"

# 4b. UNMASK on one classification: the support agent sees e-mails in clear, names masked.
sup_id=$(principal support_agent client_id) sup_secret=$(principal support_agent client_secret)
as_http "$sup_id" "$sup_secret" "SELECT email, name FROM customers.customers ORDER BY customer_number LIMIT 5" >"$scratch/sup.http" ||
  fail "HTTP as the support agent"
grep -qv '^[a-z0-9.]*@[a-z.]*,\*\*\*\*$' "$scratch/sup.http" &&
  { head -3 "$scratch/sup.http"; fail "the support agent (UNMASK on pii.email) does not see clear e-mails and masked names"; }
echo "ok   UNMASK on classification:pii.email: the support agent sees e-mails in clear, names stay redacted"

# 4c. Principal attributes through the mesh API drive the row filter.
root_token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  -d client_id=root -d client_secret="$secret" | json 'd.access_token')
curl -sf -X PUT -H "Authorization: Bearer $root_token" "$base/api/v1/principals/mkt_analyst/attributes" \
  --data-binary '{"attributes": {"country": "FR"}}' >/dev/null || fail "setting attributes as root"
status=$(curl -s -o "$scratch/attr.json" -w '%{http_code}' -X PUT -H "Authorization: Bearer $token" \
  "$base/api/v1/principals/mkt_analyst/attributes" --data-binary '{"attributes": {"all_countries": "true"}}')
[[ $status == 403 ]] || fail "the analyst set its own attributes ($status)"
[[ $(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/principals/mkt_analyst/attributes" | json 'd.attributes.country') == FR ]] ||
  fail "the analyst cannot read its own attributes"
as_http "$mkt_id" "$mkt_secret" "$query" >"$scratch/mkt-fr.http" || fail "HTTP as the analyst in FR"
[[ -s "$scratch/mkt-fr.http" ]] && ! grep -qv ',FR$' "$scratch/mkt-fr.http" || fail "after country=FR the analyst does not see only FR customers"
echo "ok   attributes through PUT /api/v1/principals/mkt_analyst/attributes: the analyst now sees $(wc -l <"$scratch/mkt-fr.http") FR customers; the analyst cannot change them (403)"

# 4d. The audit shows each decision, for the governance role only.
gov_token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  -d client_id="$gov_id" -d client_secret="$gov_secret" | json 'd.access_token')
curl -sf -H "Authorization: Bearer $gov_token" \
  "$base/api/v1/audit?principal=mkt_analyst&operation=query&securable=customers.customers&limit=1000" >"$scratch/audit.json" ||
  fail "GET /api/v1/audit as the officer"
channels=$(json '[...new Set(d.records.map(r=>r.channel))].sort().join(",")' <"$scratch/audit.json")
expected_channels="cli,http"
[[ -f "$scratch/mkt.psql" ]] && expected_channels="cli,http,pg"
[[ $channels == "$expected_channels" ]] || { head -c 2000 "$scratch/audit.json"; fail "audit channels '$channels', expected '$expected_channels'"; }
rows=$(wc -l <"$scratch/mkt.http")
json "d.records.filter(r=>r.channel==='http' && r.rows===$rows && r.decision==='allowed' && r.policies.includes('customers.customers.email:personal-data/mask-emails') && r.policies.includes('customers.customers:personal-data/customers-by-country') && /^[0-9a-f]{16}\$/.test(r.fingerprint)).length" <"$scratch/audit.json" | grep -qv '^0$' ||
  { head -c 2000 "$scratch/audit.json"; fail "no audit record of the analyst's HTTP query with its policies, fingerprint and $rows rows"; }
curl -sf -H "Authorization: Bearer $gov_token" "$base/api/v1/audit?principal=mkt_analyst&decision=denied&limit=1000" >"$scratch/denied.json" ||
  fail "GET /api/v1/audit?decision=denied"
json "d.records.filter(r=>r.operation==='raw_access' && r.securables[0]==='customers.customers' && /personal-data/.test(r.reason)).length" <"$scratch/denied.json" | grep -qv '^0$' ||
  { head -c 2000 "$scratch/denied.json"; fail "the refused loadTable is not in the audit with its reason"; }
json "d.records.filter(r=>r.operation==='MANAGE_MESH' && r.channel==='http').length" <"$scratch/denied.json" | grep -qv '^0$' ||
  fail "the analyst's refused attribute change is not in the audit"
status=$(curl -s -o "$scratch/audit403.json" -w '%{http_code}' -H "Authorization: Bearer $token" "$base/api/v1/audit")
[[ $status == 403 ]] && grep -q READ_AUDIT "$scratch/audit403.json" || fail "the analyst read the audit log ($status)"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $gov_token" "$base/api/v1/audit?since=yesterday")
[[ $status == 400 ]] || fail "a bad since= answered $status"
if [[ -f "$scratch/mkt.psql" ]]; then
  as_psql "$gov_id" "$gov_secret" "SELECT count(*) FROM mesh.audit WHERE principal = 'mkt_analyst' AND operation = 'query' AND list_contains(securables, 'customers.customers') AND channel = 'pg' AND allowed" >"$scratch/mesh-audit" ||
    fail "mesh.audit through psql as the officer"
  [[ $(cat "$scratch/mesh-audit") -ge 1 ]] || fail "mesh.audit shows no psql query of the analyst"
  as_psql "$mkt_id" "$mkt_secret" "SELECT count(*) FROM mesh.audit" >"$scratch/mesh-audit-mkt" 2>&1 &&
    fail "the analyst read mesh.audit"
  grep -q READ_AUDIT "$scratch/mesh-audit-mkt" || { cat "$scratch/mesh-audit-mkt"; fail "the refusal of mesh.audit does not name READ_AUDIT"; }
fi
policy_changes=$(as_cli "$gov_id" "$gov_secret" "SELECT count(*) FROM mesh.audit WHERE operation IN ('policy_apply', 'set_attributes')") ||
  fail "mesh.audit through meshwork sql"
[[ $policy_changes -ge 2 ]] || fail "mesh.audit shows $policy_changes policy/attribute changes, expected the demo's apply and the attribute change"
echo "ok   audit: the analyst's queries over $channels with policies, fingerprint and rows; the refused loadTable and attribute change; policy changes; /api/v1/audit and mesh.audit are READ_AUDIT only"
kill -TERM "$server_pid" && wait "$server_pid"
server_pid=""

# 5. policy test: a stricter rule lists exactly the products that would fail.
mkdir -p "$scratch/stricter"
cp "$examples"/policies/*.yaml "$scratch/stricter/"
cat >"$scratch/stricter/sla.yaml" <<'EOF'
apiVersion: meshwork/v1
kind: Policy
name: sla-required
rules:
  - id: freshness-at-most-one-day
    description: Every product promises data at most one day old
    severity: block
    check:
      kind: metadata
      sql: SELECT name AS "where", 'freshness is ' || coalesce(freshness, 'not set') AS message FROM product, sla WHERE coalesce(freshness, '') <> '1d'
EOF
mw policy test "$scratch/stricter" --json >"$scratch/test.json"
[[ $? == 1 ]] || fail "policy test with failures exited 0"
expected=$(for p in "$examples"/*/*/dataproduct.yaml; do
  folder=$(dirname "$p"); domain=$(basename "$(dirname "$folder")"); name=$(basename "$folder")
  grep -q '^  freshness: 1d$' "$p" || echo "$domain.$name"
done | sort | tr '\n' ' ')
actual=$(json 'd.findings.filter(f=>f.rule==="freshness-at-most-one-day").map(f=>f.where).sort().join(" ")' <"$scratch/test.json")
[[ "$actual " == "$expected" ]] || fail "policy test lists '$actual', expected '$expected'"
echo "ok   policy test of a stricter rule lists exactly: $actual"

# 6. Bad policy files are refused with where and why; the set in force stays.
version=$(mw policy list --json | json 'd.version')
bad() {  # name, YAML, expected message fragment
  mkdir -p "$scratch/bad-$1"
  printf '%s\n' "$2" >"$scratch/bad-$1/policy.yaml"
  mw policy apply "$scratch/bad-$1" >"$scratch/bad.out" 2>&1 && fail "bad policy $1 was applied"
  grep -q "$3" "$scratch/bad.out" || { cat "$scratch/bad.out"; fail "bad policy $1: expected '$3'"; }
}
bad syntax $'kind: Policy\nname: x\nrules: [ {id: a' "YAML syntax error"
bad kind $'kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: magic}}' "unknown check kind 'magic'"
bad sql $'kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: metadata, sql: "SELEC nothing"}}' "cannot run"
bad table $'kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: metadata, sql: "SELECT * FROM secrets"}}' "secrets"
bad empty_mask $'kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: mask, mask: hash}}' "selects no columns"
bad location $'kind: Policy\nname: x\nrules:\n  - {id: a, description: d, check: {kind: data, detector: dna}}' "policy.yaml:4"
[[ $(mw policy list --json | json 'd.version') == "$version" ]] || fail "a refused apply changed the policy set"
echo "ok   bad policy files refused with where and why; policy set v$version stays in force"
