#!/usr/bin/env bash
# A real client against a real server: iceberg-js drives `meshwork serve` (token, namespace,
# table, load, schema change, list, rename, drop); rows appended with `meshwork table append`
# into the catalog's table are then read by icebird exactly as meshwork reads them.
# Usage: rest_client_test.sh BUILD_DIR   (exit 77 = skipped: node or the e2e clients missing)
set -uo pipefail
build_dir="$1"
meshwork="$build_dir/meshwork"
e2e="$(cd "$(dirname "$0")/../e2e" && pwd)"
if ! command -v node >/dev/null || [[ ! -d "$e2e/node_modules/iceberg-js" ]]; then
  echo "SKIPPED: node or tests/e2e/node_modules missing; run scripts/bootstrap.sh" >&2
  exit 77
fi
source "$(dirname "$0")/../testing/e2e.sh"
data="$scratch/data"
secret="e2e-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
e2e_serve "$data" --bootstrap-credentials "admin:$secret"
echo "ok   server at $base"

location=$(node "$e2e/iceberg_js_scenario.mjs" "$base" admin "$secret") || fail "iceberg-js scenario"
location=$(tail -1 <<<"$location")

# Rows into the catalog's table, through the metastore's pointer.
printf 'id,region,amount,channel\n1,emea,10.5,web\n2,amer,,store\n3,emea,7.25,\n4,,1.0,web\n' >"$scratch/rows.csv"
"$meshwork" table append --metastore "$data/meshwork.db" --warehouse "$data/warehouse" sales.orders \
  --from "$scratch/rows.csv" >"$scratch/append.log" 2>&1 || { cat "$scratch/append.log" >&2; fail "append through the metastore"; }
table_dir="$data/warehouse/sales/orders"
metadata_file=$(ls -t "$table_dir/metadata/" | grep 'metadata.json$' | head -1)
[[ "$location" != *"$metadata_file" ]] || fail "the append did not make a new metadata version"

"$meshwork" table scan --metastore "$data/meshwork.db" --warehouse "$data/warehouse" sales.orders \
  --format json >"$scratch/ours.jsonl" || fail "meshwork scan"
node "$e2e/icebird_read.mjs" "file://$table_dir" "$metadata_file" >"$scratch/theirs.jsonl" ||
  fail "icebird could not read the catalog's table"
node "$e2e/compare_rows.mjs" "$scratch/ours.jsonl" "$scratch/theirs.jsonl" \
  "id=long,region=string,amount=double,channel=string" || fail "icebird's rows differ"
[[ $(wc -l <"$scratch/theirs.jsonl") == 4 ]] || fail "icebird should read 4 rows"
echo "ok   icebird reads the 4 appended rows as meshwork does"

# The catalog serves the new version to REST clients too.
token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  -d client_id=admin -d "client_secret=$secret" | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))')
served=$(curl -sf -H "Authorization: Bearer $token" "$base/catalog/v1/mesh/namespaces/sales/tables/orders" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)["metadata-location"]))')
[[ "$served" == *"$metadata_file" ]] || fail "loadTable serves $served, not the appended version"
echo "ok   loadTable serves the appended version"
# Server-side scan planning over the appended files (identity-partitioned by region).
plan() {  # plan BODY -> "tasks records" of the completed plan
  curl -sf -X POST -H "Authorization: Bearer $token" "$base/catalog/v1/mesh/namespaces/sales/tables/orders/plan" \
    -d "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s);
      if(p.status!=="completed"||!p["plan-id"])process.exit(1);
      const t=p["file-scan-tasks"];console.log(t.length+" "+t.reduce((n,x)=>n+x["data-file"]["record-count"],0))})'
}
[[ $(plan '{}') == "3 4" ]] || fail "planning the whole table: $(plan '{}')"
[[ $(plan '{"filter":{"type":"eq","term":"region","value":"emea"}}') == "1 2" ]] || fail "planning region = emea"
[[ $(plan '{"filter":{"type":"not","child":{"type":"is-null","term":"region"}}}') == "2 3" ]] || fail "planning region is not null"
[[ $(plan '{"filter":{"type":"and","left":{"type":"gt","term":"id","value":100},"right":true}}') == "0 0" ]] ||
  fail "planning id > 100 (column bounds)"
[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  "$base/catalog/v1/mesh/namespaces/sales/tables/orders/plan" -d '{"filter":{"type":"eq","term":"nope","value":1}}') == 400 ]] ||
  fail "a filter on an unknown column is not a 400"
plan_id=$(curl -sf -X POST -H "Authorization: Bearer $token" "$base/catalog/v1/mesh/namespaces/sales/tables/orders/plan" \
  -d '{}' | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)["plan-id"]))')
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  "$base/catalog/v1/mesh/namespaces/sales/tables/orders/plan/$plan_id") == 200 ]] || fail "fetch planning result"
[[ $(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $token" \
  "$base/catalog/v1/mesh/namespaces/sales/tables/orders/plan/$plan_id") == 204 ]] || fail "cancel planning"
[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  "$base/catalog/v1/mesh/namespaces/sales/tables/orders/tasks" -d '{"plan-task":"bogus"}') == 404 ]] ||
  fail "a bogus plan task is not a 404"
echo "ok   server-side scan planning prunes by partition and column bounds"
metrics=$(curl -sf -H "Authorization: Bearer $token" "$base/metrics") || fail "/metrics"
grep -q 'meshwork_http_requests_total{route="loadTable",method="GET",status="200"}' <<<"$metrics" ||
  fail "/metrics does not count loadTable"
grep -q 'meshwork_catalog_commits_total{outcome="conflict"} 1' <<<"$metrics" ||
  fail "/metrics does not count the stale commit as a conflict"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$base/metrics") == 401 ]] || fail "/metrics without a token"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$base/healthz") == 200 ]] || fail "/healthz"
# An oversized body is refused with 413 before it reaches a handler; the server lives on.
head -c 20000000 /dev/zero | tr '\0' 'x' >"$scratch/huge.json"
[[ $(curl -s -o "$scratch/huge.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  --data-binary @"$scratch/huge.json" "$base/catalog/v1/mesh/namespaces") == 413 ]] || fail "a 20 MB body is not a 413"
grep -q '"code":413' "$scratch/huge.out" || fail "the 413 has no ErrorModel body: $(head -c 200 "$scratch/huge.out")"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$base/healthz") == 200 ]] || fail "the server died after a huge body"
echo "ok   a 20 MB body gets 413 with the ErrorModel"
echo "ok   /metrics counts requests and commits and needs a token; /healthz does not"
grep -q "$secret" "$scratch/server.err" "$scratch/server.out" && fail "the secret appears in the server's output"
echo "ok   the secret never appears in the server's output"

kill -TERM "$server_pid"
wait "$server_pid"
status=$?
server_pid=""
[[ $status == 0 ]] || fail "the server did not stop cleanly on SIGTERM (exit $status)"
echo "ok   SIGTERM stops the server cleanly"
