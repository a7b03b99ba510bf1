#!/usr/bin/env bash
# Data products as a new user meets them, through the real interfaces:
#   - from nothing to a published product in three commands (init, edit transform.sql, deploy to
#     a server), then found by search, shown in lineage, loaded through the Iceberg REST catalog
#     and read by icebird;
#   - a column removed without a major bump fails with exit 1 and the diff; with a major bump v2
#     is published beside v1, which icebird still reads;
#   - a failing quality rule blocks, naming the rule, the column and failing rows;
#   - bad specs get file:line:column errors;
#   - kill -9 during a deploy leaves the old version published and no stray files after the next
#     start.
# Usage: product_e2e_test.sh BUILD_DIR   (exit 77 = skipped: node or the e2e clients missing)
set -uo pipefail
build_dir="$1"
meshwork="$build_dir/meshwork"
e2e="$(cd "$(dirname "$0")/../e2e" && pwd)"
if ! command -v node >/dev/null || [[ ! -d "$e2e/node_modules/icebird" ]]; then
  echo "SKIPPED: node or tests/e2e/node_modules missing; run scripts/bootstrap.sh" >&2
  exit 77
fi
source "$(dirname "$0")/../testing/e2e.sh"
cd "$scratch" || exit 1

data="$scratch/data"
secret="e2e-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
e2e_serve "$data" --bootstrap-credentials "admin:$secret"
export MESHWORK_CLIENT_ID=admin MESHWORK_CLIENT_SECRET="$secret"

# 1. Three commands: init, edit, deploy.
"$meshwork" product init shop/daily_sales >init.out || fail "product init"
sed -i 's/count(\*) AS orders/count(DISTINCT order_id) AS orders/' daily_sales/transform.sql
grep -q 'count(DISTINCT order_id)' daily_sales/transform.sql || fail "could not edit transform.sql"
"$meshwork" product deploy daily_sales --server "$base" >deploy.out 2>&1 || { cat deploy.out; fail "deploy"; }
grep -q "published shop.daily_sales v1.0.0" deploy.out || { cat deploy.out; fail "deploy did not say it published"; }
echo "ok   init, edit transform.sql, deploy: published shop.daily_sales v1.0.0"

token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  -d client_id=admin -d "client_secret=$secret" | json 'd.access_token')
api() { curl -sf -H "Authorization: Bearer $token" "$base$1"; }
[[ $(api "/api/v1/search?q=revenue%20country" | json 'd.hits.map(h=>h.product).join(",")') == "shop.daily_sales" ]] ||
  fail "search does not find the product"
[[ $(api "/api/v1/search?q=revenue&tag=nope" | json 'd.hits.length') == 0 ]] || fail "the tag facet does not filter"
[[ $(api "/api/v1/lineage/shop/daily_sales" | json 'd.edges.map(e=>e.from+">"+e.to).join(",")') == \
  "file:shop.daily_sales/data/orders.csv>shop.daily_sales" ]] || fail "lineage of the file input"
[[ $(api "/api/v1/products" | json 'd.products.map(p=>p.product+"@"+p.version+"/"+p.sla.status).join(",")') == \
  "shop.daily_sales@1.0.0/fresh" ]] || fail "product listing"
curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/products" | grep -q 401 || fail "the product API answers without a token"
api "/api/v1/openapi.json" | json 'Object.keys(d.paths).length' | grep -qE '^[0-9]{2}$' || fail "openapi document"
echo "ok   found by search (facets filter), listed with SLA status, lineage from its input file"

# Through the Iceberg REST catalog, then read by icebird.
read_table() {  # read_table NAMESPACE TABLE -> rows as JSON lines
  local location
  location=$(api "/catalog/v1/mesh/namespaces/$1/tables/$2" | json 'd["metadata-location"]') || return 1
  node "$e2e/icebird_read.mjs" "${location%/metadata/*}" "${location##*/}"
}
read_table shop daily_sales >v1.jsonl || fail "icebird cannot read shop.daily_sales"
[[ $(wc -l <v1.jsonl) == 9 ]] || fail "icebird reads $(wc -l <v1.jsonl) rows, expected 9"
grep -q '"country":"DE"' v1.jsonl || fail "icebird rows lack the data"
echo "ok   icebird reads the 9 rows of shop.daily_sales through the catalog's metadata location"

# 2. A column removed without a major bump: exit 1 and the diff; then with a major bump.
sed -i 's/version: 1.0.0/version: 1.1.0/; /name: orders, type: long/d' daily_sales/dataproduct.yaml
sed -i 's/  count(DISTINCT order_id) AS orders,//' daily_sales/transform.sql
"$meshwork" product deploy daily_sales --server "$base" >breaking.out 2>&1
rc=$?
[[ $rc == 1 ]] || { cat breaking.out; fail "a breaking change at 1.1.0 exited $rc, not 1"; }
grep -q "daily_sales.orders: column removed" breaking.out || { cat breaking.out; fail "no readable diff"; }
grep -q "need a major version" breaking.out || { cat breaking.out; fail "no verdict"; }
sed -i 's/version: 1.1.0/version: 2.0.0/' daily_sales/dataproduct.yaml
"$meshwork" product deploy daily_sales --server "$base" >major.out 2>&1 || { cat major.out; fail "deploy v2"; }
read_table shop daily_sales_v2 >v2.jsonl || fail "icebird cannot read v2"
read_table shop daily_sales >v1-again.jsonl || fail "icebird cannot read v1 after v2"
[[ $(wc -l <v1-again.jsonl) == 9 ]] && grep -q '"orders"' v1-again.jsonl || fail "v1 changed"
grep -q '"orders"' v2.jsonl && fail "v2 still has the removed column"
echo "ok   removing a column: exit 1 with the diff at 1.1.0; at 2.0.0 v2 is published beside v1, which still reads"

# 3. A failing quality rule blocks and names rule, column and rows.
sed -i 's/version: 2.0.0/version: 2.0.1/; s/values: \[DE, FR, NL, ES\]/values: [DE, FR]/' daily_sales/dataproduct.yaml
"$meshwork" product deploy daily_sales --server "$base" >quality.out 2>&1
rc=$?
[[ $rc == 1 ]] || { cat quality.out; fail "a failing quality rule exited $rc"; }
grep -q "quality rule 'accepted_values(country)' failed on column country" quality.out ||
  { cat quality.out; fail "the failure does not name the rule and column"; }
grep -q '"country":"NL"' quality.out || { cat quality.out; fail "no failing rows shown"; }
[[ $(api "/api/v1/products/shop/daily_sales" | json 'd.version') == "2.0.0" ]] || fail "2.0.0 is no longer published"
echo "ok   a failing error-severity rule blocks, naming the rule, the column and failing rows"

# Lifecycle through the CLI: status, history, ODCS export and import, rollback, deprecate, delete.
"$meshwork" product status shop.daily_sales --server "$base" | json 'd.scorecard.score' | grep -qE '^[0-9]+$' ||
  fail "product status has no scorecard"
[[ $("$meshwork" product history shop.daily_sales --server "$base" | json 'd.versions.map(v=>v.action+"@"+v.version).join(",")') == \
  "deploy@1.0.0,deploy@2.0.0" ]] || fail "history"
"$meshwork" product export daily_sales --format odcs --output contract.odcs.yaml || fail "export to ODCS"
grep -q "kind: DataContract" contract.odcs.yaml && grep -q "physicalName: shop.daily_sales" contract.odcs.yaml ||
  fail "the ODCS contract lacks its kind or tables"
"$meshwork" product import contract.odcs.yaml --dir reimported >import.out || fail "import from ODCS"
cmp -s reimported/dataproduct.yaml daily_sales/dataproduct.yaml || fail "the ODCS round trip changed the spec"
cmp -s reimported/transform.sql daily_sales/transform.sql || fail "the ODCS round trip changed the SQL"
"$meshwork" product deprecate shop.daily_sales --major 1 --sunset 2020-01-01 --message "use v2" --server "$base" >/dev/null ||
  fail "deprecate v1"
"$meshwork" product delete shop.daily_sales --major 2 --server "$base" >delete.out 2>&1 &&
  fail "deleting the active v2 should be refused"
grep -q "a line goes only after its sunset" delete.out || { cat delete.out; fail "delete refusal"; }
"$meshwork" product delete shop.daily_sales --major 1 --server "$base" >/dev/null || fail "delete v1 after its sunset"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  "$base/catalog/v1/mesh/namespaces/shop/tables/daily_sales") == 404 ]] || fail "v1's table is still there"
echo "ok   status with scorecard, history, ODCS export/import round trip, deprecate, delete after the sunset"

# SQL over HTTP: firewalled, pinned, authorized.
sql() { curl -s -X POST -H "Authorization: Bearer $token" "$base/api/v1/query" -d "$1"; }
[[ $(sql '{"sql":"SELECT count(*) AS n FROM shop.daily_sales_v2"}' | json 'd.rows[0][0]+"@"+d.tables[0].name') == "9@shop.daily_sales_v2" ]] ||
  fail "a query over HTTP"
[[ $(sql '{"sql":"SELECT *\n FROM read_csv(\u0027/etc/passwd\u0027)"}' | json 'd.error.code+":"+d.error.line+":"+d.error.column') == "400:2:7" ]] ||
  fail "the firewall over HTTP: $(sql '{"sql":"SELECT * FROM read_csv(\u0027/etc/passwd\u0027)"}')"
[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/api/v1/query" -d '{"sql":"SELECT 1"}') == 401 ]] ||
  fail "the query API answers without a token"
echo "ok   POST /api/v1/query: a query over a product, the firewall's refusal with line and column, 401 without a token"

# 4. Bad specs: line-accurate errors.
mkdir -p bad && cp daily_sales/transform.sql bad/ && mkdir -p bad/data && cp daily_sales/data/orders.csv bad/data/
sed 's/^tags:/tagz:/' daily_sales/dataproduct.yaml >bad/dataproduct.yaml
"$meshwork" product validate bad >bad.out 2>&1
[[ $? == 1 ]] || fail "an unknown key should exit 1"
grep -qE "dataproduct.yaml:[0-9]+:1: unknown key 'tagz' in the spec; hint: did you mean 'tags'" bad.out ||
  { cat bad.out; fail "unknown key error"; }
sed 's/SELECT/SELEKT/' daily_sales/transform.sql >bad/transform.sql
cp daily_sales/dataproduct.yaml bad/dataproduct.yaml
"$meshwork" product validate bad --server "$base" >badsql.out 2>&1
[[ $? == 1 ]] || { cat badsql.out; fail "SQL that does not parse should exit 1"; }
grep -qE "transform.sql:[0-9]+" badsql.out || { cat badsql.out; fail "the SQL error does not name transform.sql:line"; }
grep -q "$scratch/data" badsql.out && fail "the server's upload folder leaks into the error"
cp daily_sales/transform.sql bad/transform.sql
printf '  - name: secret\n    port: hr.salaries\n' >extra && sed -i '/^inputs:/r extra' bad/dataproduct.yaml
"$meshwork" product validate bad --server "$base" >missing.out 2>&1
[[ $? == 1 ]] || { cat missing.out; fail "a missing input should exit 1"; }
grep -qE "dataproduct.yaml:[0-9]+:[0-9]+: input port hr.salaries \(major 1\) is not published" missing.out ||
  { cat missing.out; fail "missing input error"; }
echo "ok   bad specs: unknown key, SQL that does not parse, a missing input: exit 1 with file:line"

# 5. kill -9 during a deploy (local mode, a write big enough to catch).
kill "$server_pid" && wait "$server_pid" 2>/dev/null
server_pid=""
unset MESHWORK_CLIENT_ID MESHWORK_CLIENT_SECRET
mkdir -p big
cat >big/dataproduct.yaml <<'EOF'
apiVersion: meshwork/v1
kind: DataProduct
domain: shop
name: events
version: 1.0.0
owner: {team: shop}
transform:
  sql: SELECT i AS id, md5(i::VARCHAR) AS payload FROM range(getvariable('rows')) t(i)
ports:
  - name: events
    columns:
      - {name: id, type: long, nullable: false, description: Event}
      - {name: payload, type: string, description: Payload}
EOF
"$meshwork" --data-dir "$data" product deploy big --var rows=1000 >small.out 2>&1 || { cat small.out; fail "small deploy"; }
table_dir="$data/warehouse/shop/events"
before=$(find "$table_dir/data" -type f | sort)
sed -i 's/version: 1.0.0/version: 1.0.1/' big/dataproduct.yaml
"$meshwork" --data-dir "$data" product deploy big --var rows=30000000 >killed.out 2>&1 &
deploy_pid=$!
for _ in $(seq 1 600); do  # until the write has begun: new files in the table's data folder
  [[ "$(find "$table_dir/data" -type f | sort)" != "$before" ]] && break
  sleep 0.05
done
kill -9 "$deploy_pid" 2>/dev/null
wait "$deploy_pid" 2>/dev/null
[[ "$(find "$table_dir/data" -type f | sort)" != "$before" ]] || fail "the deploy was not caught writing"
"$meshwork" --data-dir "$data" product show shop.events --json >after.json 2>after.err || { cat after.err; fail "show after kill"; }
[[ $(json 'd.version + "/" + d.ports[0].records' <after.json) == "1.0.0/1000" ]] || fail "the old version is not what is published"
[[ "$(find "$table_dir/data" -type f | sort)" == "$before" ]] ||
  fail "stray files after the next start: $(find "$table_dir/data" -type f | wc -l) files"
echo "ok   kill -9 while writing: 1.0.0 stays published, the next start removed the stray files"
