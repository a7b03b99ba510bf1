#!/usr/bin/env bash
# meshwork with its warehouse on an S3-compatible server (s3rver, started here): doctor checks
# the store; iceberg-js drives `meshwork serve --warehouse s3://…`; the CLI appends and scans
# through the metastore; SQL over the server reads through the read-through cache; icebird reads
# the table straight from s3rver; REST remote signing (authorized, refused outside the table's
# location or for a read-only principal); faults (503s for a while, s3rver killed mid-upload):
# retries, a clear error, no commit, staging cleaned; the next append after recovery succeeds;
# multipart uploads whose parts all fail are retried, aborted and commit nothing.
# Per-domain storage: a domain created with its own bucket on a second s3rver that accepts only
# the domain's key (storage profile), tables created through REST land there, CLI append/scan,
# SQL and remote signing use the domain's credentials; cross-domain placements are refused; a
# second server on the same catalog picks the domain up without a restart; a data product deployed
# into the domain lands in its bucket; doctor probes each domain's store.
# Usage: s3_warehouse_test.sh BUILD_DIR   (exit 77 = skipped: node or the e2e clients missing)
set -uo pipefail
build_dir="$1"
meshwork="$build_dir/meshwork"
e2e="$(cd "$(dirname "$0")/../e2e" && pwd)"
s3rver="$e2e/node_modules/s3rver/bin/s3rver.js"
if ! command -v node >/dev/null || [[ ! -d "$e2e/node_modules/iceberg-js" || ! -f "$s3rver" ]]; then
  echo "SKIPPED: node or tests/e2e/node_modules (iceberg-js, s3rver) missing; run scripts/bootstrap.sh" >&2
  exit 77
fi
scratch=$(mktemp -d)
server_pid="" s3_pid="" proxy_pid="" append_pid="" fin_pid="" server_b_pid=""
cleanup() {
  for pid in "$append_pid" "$server_pid" "$server_b_pid" "$proxy_pid" "$s3_pid" "$fin_pid"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "--- server log (tail)" >&2
  tail -40 "$scratch/server.log" >&2 2>/dev/null
  exit 1
}
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
s3_port=$(free_port)
start_s3rver() {
  # --openssl-legacy-provider: s3rver's continuation tokens use DES (see tests/storage/s3_server.cc).
  node --openssl-legacy-provider "$s3rver" -d "$scratch/s3" -a 127.0.0.1 -p "$s3_port" --silent \
    --configure-bucket meshwh >>"$scratch/s3rver.log" 2>&1 &
  s3_pid=$!
  wait_port "$s3_port" || fail "s3rver did not start: $(tail -5 "$scratch/s3rver.log")"
}
mkdir -p "$scratch/s3"
start_s3rver
# meshwork reaches s3rver through a fault-injecting proxy (pass-through unless told otherwise).
proxy_port=$(free_port)
node "$e2e/s3_fault_proxy.mjs" "$proxy_port" "http://127.0.0.1:$s3_port" "$scratch/fail-writes" \
  "$scratch/writes.log" >"$scratch/proxy.log" 2>&1 &
proxy_pid=$!
wait_port "$proxy_port" || fail "the fault proxy did not start"
echo "ok   s3rver on $s3_port, fault proxy on $proxy_port"
# The finance domain's own store: another s3rver that knows only the key FINKEY.
fin_port=$(free_port)
mkdir -p "$scratch/fin-s3"
node --openssl-legacy-provider "$e2e/s3rver_with_keys.mjs" "$fin_port" "$scratch/fin-s3" findata FINKEY fin-secret \
  >"$scratch/fin-s3rver.log" 2>&1 &
fin_pid=$!
wait_port "$fin_port" || fail "the finance s3rver did not start: $(tail -5 "$scratch/fin-s3rver.log")"
cat >"$scratch/profiles.yaml" <<PROFILES
profiles:
  finance:
    endpoint: http://127.0.0.1:$fin_port
    path_style: true
    conditional_writes: false
    access_key_id: FINKEY
    secret_access_key: fin-secret
  wrong-keys:
    endpoint: http://127.0.0.1:$fin_port
    conditional_writes: false
    access_key_id: S3RVER
    secret_access_key: S3RVER
PROFILES
export MESHWORK_STORAGE_PROFILES_FILE="$scratch/profiles.yaml"

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$proxy_port"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3
export MESHWORK_S3_CONDITIONAL_WRITES=false  # s3rver ignores If-None-Match
warehouse="s3://meshwh/mesh"
data="$scratch/data"
mkdir -p "$data"

# doctor: each step of the object-store check passes; a wrong endpoint fails the reachability line.
MESHWORK_WAREHOUSE="$warehouse" "$meshwork" --data-dir "$data" doctor >"$scratch/doctor.out" 2>&1
for step in "s3 credentials" "s3 reachable" "s3 write" "s3 read" "s3 delete"; do
  grep -Eq "^  ok +$step" "$scratch/doctor.out" || { cat "$scratch/doctor.out" >&2; fail "doctor: $step"; }
done
dead_port=$(free_port)
AWS_ENDPOINT_URL="http://127.0.0.1:$dead_port" MESHWORK_WAREHOUSE="$warehouse" "$meshwork" --data-dir "$data" doctor \
  >"$scratch/doctor-dead.out" 2>&1 && fail "doctor passes with an unreachable store"
grep -Eq "^  FAIL +s3 reachable .*no answer from S3 warehouse" "$scratch/doctor-dead.out" ||
  { cat "$scratch/doctor-dead.out" >&2; fail "doctor's reachability failure is unclear"; }
echo "ok   doctor: credentials, reachable, write/read/delete of a probe; unreachable store reported"

secret="e2e-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
served_url() {  # served_url OUT_FILE -> the server's http://address once it says "serving"
  for _ in $(seq 1 200); do
    grep -q "serving" "$1" 2>/dev/null && break
    sleep 0.05
  done
  grep -o 'http://[0-9.:]*' "$1" | head -1
}
start_server() {
  "$meshwork" --data-dir "$data" serve --http 127.0.0.1:0 --pg off --warehouse "$warehouse" \
    --bootstrap-credentials "admin:$secret" --no-scheduler >"$scratch/server.out" 2>>"$scratch/server.log" &
  server_pid=$!
  base=$(served_url "$scratch/server.out")
  [[ -n "$base" ]] || fail "the server did not start: $(cat "$scratch/server.out")"
}
start_server
echo "ok   meshwork serve --warehouse $warehouse at $base"
# A second server on the same catalog database, with a data folder (cache, staging) of its own.
# It starts before the treasury domain (below) exists: it must pick up that domain's own storage
# when it first meets it, without a restart.
"$meshwork" --data-dir "$scratch/data-b" serve --http 127.0.0.1:0 --pg off --warehouse "$warehouse" \
  --metastore "$data/meshwork.db" --no-scheduler >"$scratch/server-b.out" 2>>"$scratch/server-b.log" &
server_b_pid=$!
base_b=$(served_url "$scratch/server-b.out")
[[ -n "$base_b" ]] || fail "the second server did not start: $(cat "$scratch/server-b.out" "$scratch/server-b.log")"
echo "ok   a second server on the same catalog database at $base_b"

location=$(node "$e2e/iceberg_js_scenario.mjs" "$base" admin "$secret") || fail "iceberg-js scenario on S3"
location=$(tail -1 <<<"$location")
[[ "$location" == s3://meshwh/mesh/sales/orders/metadata/*.metadata.json ]] || fail "metadata location $location"
[[ -n $(find "$scratch/s3/meshwh/mesh/sales/orders/metadata" -name '*.metadata.json*' 2>/dev/null) ]] ||
  fail "no metadata object in s3rver's bucket"
echo "ok   iceberg-js scenario (create, load, commit, rename, drop) with the warehouse on s3rver"

# The CLI stages under $TMPDIR/meshwork-UID (it has no data dir of its own).
export TMPDIR="$scratch/tmp"
mkdir -p "$TMPDIR"
cli_staging="$TMPDIR/meshwork-$(id -u)/staging"
cli() { "$meshwork" table "$1" --metastore "$data/meshwork.db" --warehouse "$warehouse" "${@:2}"; }
printf 'id,region,amount,channel\n1,emea,10.5,web\n2,amer,,store\n3,emea,7.25,\n4,,1.0,web\n' >"$scratch/rows.csv"
cli append sales.orders --from "$scratch/rows.csv" >"$scratch/append.log" 2>&1 ||
  { cat "$scratch/append.log" >&2; fail "append to the S3 table through the metastore"; }
cli scan sales.orders --format json >"$scratch/ours.jsonl" || fail "meshwork scan from S3"
[[ $(wc -l <"$scratch/ours.jsonl") == 4 ]] || fail "meshwork scan reads $(wc -l <"$scratch/ours.jsonl") rows, not 4"
[[ -z $(find "$cli_staging" -type f 2>/dev/null) ]] || fail "staged files left behind: $(find "$cli_staging" -type f)"
[[ -n $(find "$scratch/s3/meshwh/mesh/sales/orders/data" -name '*.parquet*' 2>/dev/null) ]] || fail "no data object in s3rver"
echo "ok   CLI append uploads the Parquet files to s3rver (staging cleaned); scan reads 4 rows back"

# A table made by the CLI alone (create, append, scan) in the S3 warehouse.
cli create sales.shipments --schema 'id long not null, carrier string' >/dev/null 2>"$scratch/create.err" ||
  { cat "$scratch/create.err" >&2; fail "table create in the S3 warehouse"; }
printf 'id,carrier\n1,dhl\n2,ups\n' >"$scratch/ship.csv"
cli append sales.shipments --from "$scratch/ship.csv" >/dev/null 2>&1 || fail "append to the new table"
[[ $(cli scan sales.shipments --format csv | tail -n +2 | sort | tr '\n' ' ') == "1,dhl 2,ups " ]] ||
  fail "scan of the new table: $(cli scan sales.shipments --format csv)"
echo "ok   table create/append/scan via the CLI on s3rver"

table_dir=s3://meshwh/mesh/sales/orders
token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  -d client_id=admin -d "client_secret=$secret" | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).access_token))')
loaded=$(curl -sf -H "Authorization: Bearer $token" "$base/catalog/v1/mesh/namespaces/sales/tables/orders") ||
  fail "loadTable"
metadata_location=$(node -e 'const t=JSON.parse(process.argv[1]);console.log(t["metadata-location"])' "$loaded")
metadata_file=${metadata_location##*/}
MESHWORK_S3_ENDPOINT="http://127.0.0.1:$s3_port" node "$e2e/icebird_read.mjs" "$table_dir" "$metadata_file" \
  >"$scratch/theirs.jsonl" || fail "icebird could not read the table from s3rver"
node "$e2e/compare_rows.mjs" "$scratch/ours.jsonl" "$scratch/theirs.jsonl" \
  "id=long,region=string,amount=double,channel=string" || fail "icebird's rows differ"
echo "ok   icebird reads the table straight from s3rver, rows as meshwork's"

# loadTable and /config advertise remote signing.
node -e 'const t=JSON.parse(process.argv[1]);const c=t.config;
  if(c["s3.remote-signing-enabled"]!=="true"||c["signer.endpoint"]!=="v1/mesh/namespaces/sales/tables/orders/sign")
  {console.error(JSON.stringify(c));process.exit(1)}' "$loaded" || fail "loadTable config lacks remote signing"
curl -sf -H "Authorization: Bearer $token" "$base/catalog/v1/config" | grep -q '"s3.remote-signing-enabled":"true"' ||
  fail "/config does not advertise remote signing"
echo "ok   loadTable's config and /config advertise s3.remote-signing-enabled and signer.endpoint"

# SQL over the server: the locked engine reads the S3 files through the read-through cache.
rows=$(node -e 'console.log(JSON.stringify({sql: "SELECT count(*), sum(id) FROM sales.orders"}))' |
  curl -sf -X POST -H "Authorization: Bearer $token" "$base/api/v1/query" --data-binary @- |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).rows.map(r=>r.join(",")).join(";")))') ||
  fail "SQL over the S3 table"
[[ "$rows" == "4,10" ]] || fail "SQL over the S3 table gave '$rows'"
[[ -n $(find "$data/cache" -type f -name '*parquet*' 2>/dev/null) ]] || fail "the query did not go through the cache"
echo "ok   SQL through the server reads the S3 files via the cache ($(find "$data/cache" -type f | wc -l) cached files)"

# ---- Remote signing ----
as_admin() { MESHWORK_CLIENT_ID=admin MESHWORK_CLIENT_SECRET="$secret" "$meshwork" "$@" --server "$base"; }
created=$(as_admin principal create reader --json) || fail "principal create"
reader_id=$(sed -n 's/.*"client-id":"\([^"]*\)".*/\1/p' <<<"$created")
reader_secret=$(sed -n 's/.*"client-secret":"\([^"]*\)".*/\1/p' <<<"$created")
as_admin role create readers >/dev/null && as_admin role assign readers reader >/dev/null &&
  as_admin grant add --role readers --privilege READ_DATA --on table:sales.orders >/dev/null || fail "grant READ_DATA"
reader_token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  --data-urlencode "client_id=$reader_id" --data-urlencode "client_secret=$reader_secret" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
data_key=$(cd "$scratch/s3/meshwh" && find mesh/sales/orders/data -name '*.parquet._S3rver_object' | head -1)
data_key=${data_key%._S3rver_object}
[[ -n "$data_key" ]] || fail "no data object to sign for"
s3_url="http://127.0.0.1:$proxy_port"  # the store meshwork signs for (the proxy passes to s3rver)
sign() {  # sign TOKEN METHOD URL -> response body in $scratch/signed, HTTP status on stdout
  node -e 'console.log(JSON.stringify({region:"us-east-1",method:process.argv[1],uri:process.argv[2],
    headers:{"x-amz-content-sha256":["UNSIGNED-PAYLOAD"],"User-Agent":["e2e"]}}))' "$2" "$3" |
    curl -s -o "$scratch/signed" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
      "$base/catalog/v1/mesh/namespaces/sales/tables/orders/sign" --data-binary @-
}
send_signed() {  # send_signed METHOD URL [BODY_FILE] -> the store's HTTP status
  mapfile -t headers < <(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
    for(const [k,v] of Object.entries(r.headers))console.log(k+": "+v.join(","))' "$scratch/signed")
  local args=()
  for header in "${headers[@]}"; do args+=(-H "$header"); done
  if [[ -n "${3:-}" ]]; then args+=(--data-binary "@$3"); fi
  curl -s -o "$scratch/store.out" -w '%{http_code}' -X "$1" "${args[@]}" "$2"
}
[[ $(sign "$reader_token" GET "$s3_url/meshwh/$data_key") == 200 ]] || fail "signing a GET for the reader: $(cat "$scratch/signed")"
grep -q '"Authorization":\["AWS4-HMAC-SHA256 Credential=S3RVER/' "$scratch/signed" || fail "no SigV4 Authorization: $(cat "$scratch/signed")"
[[ $(send_signed GET "$s3_url/meshwh/$data_key") == 200 ]] || fail "s3rver refused the signed GET: $(head -c 300 "$scratch/store.out")"
cmp -s "$scratch/store.out" "$scratch/s3/meshwh/$data_key._S3rver_object" || fail "the signed GET returned other bytes"
echo "ok   a GET signed for the read-only principal is accepted by s3rver and returns the data file"
[[ $(sign "$reader_token" PUT "$s3_url/meshwh/mesh/sales/orders/data/evil.parquet") == 403 ]] ||
  fail "a PUT signed for a read-only principal: $(cat "$scratch/signed")"
grep -q "lacks WRITE_DATA on table sales.orders" "$scratch/signed" || fail "403 for PUT is unclear: $(cat "$scratch/signed")"
for outside in "$s3_url/meshwh/mesh/sales/orders-other/data/x.parquet" "$s3_url/meshwh/mesh/logistics/shipments/metadata/x" \
  "$s3_url/other-bucket/mesh/sales/orders/x" "$s3_url/meshwh/mesh/sales/orders"; do
  [[ $(sign "$token" GET "$outside") == 403 ]] || fail "signing $outside outside the table: $(cat "$scratch/signed")"
  grep -q "outside the location of table sales.orders" "$scratch/signed" || fail "403 is unclear: $(cat "$scratch/signed")"
done
[[ $(sign "$token" GET "http://evil.example:80/meshwh/$data_key") == 400 ]] || fail "signing for another host"
echo "ok   refused with 403: PUT by the read-only principal, URIs outside the table's location; other hosts 400"
printf 'written through remote signing' >"$scratch/put.body"
[[ $(sign "$token" PUT "$s3_url/meshwh/mesh/sales/orders/data/signed-put.bin") == 200 ]] || fail "signing a PUT for admin"
[[ $(send_signed PUT "$s3_url/meshwh/mesh/sales/orders/data/signed-put.bin" "$scratch/put.body") == 200 ]] ||
  fail "s3rver refused the signed PUT: $(cat "$scratch/store.out")"
cmp -s "$scratch/put.body" "$scratch/s3/meshwh/mesh/sales/orders/data/signed-put.bin._S3rver_object" || fail "the signed PUT did not land"
[[ $(sign "$token" DELETE "$s3_url/meshwh/mesh/sales/orders/data/signed-put.bin") == 200 ]] || fail "signing a DELETE"
[[ $(send_signed DELETE "$s3_url/meshwh/mesh/sales/orders/data/signed-put.bin") == 204 ]] || fail "the signed DELETE"
echo "ok   PUT and DELETE signed for a WRITE_DATA principal are accepted by s3rver"

# ---- Per-domain storage: a namespace location honoured by table creation through REST ----
rest() { curl -s -o "$scratch/rest.out" -w '%{http_code}' -H "Authorization: Bearer $token" "$@"; }
[[ $(rest -X POST "$base/catalog/v1/mesh/namespaces" \
  -d '{"namespace":["finance"],"properties":{"location":"s3://meshwh/mesh/domains/finance"}}') == 200 ]] ||
  fail "create a namespace with its own location: $(cat "$scratch/rest.out")"
[[ $(rest -X POST "$base/catalog/v1/mesh/namespaces/finance/tables" \
  -d '{"name":"ledger","schema":{"type":"struct","fields":[{"id":1,"name":"id","required":true,"type":"long"}]}}') == 200 ]] ||
  fail "create a table in it: $(cat "$scratch/rest.out")"
grep -q '"location":"s3://meshwh/mesh/domains/finance/ledger"' "$scratch/rest.out" ||
  fail "the table is not under the domain's location: $(head -c 400 "$scratch/rest.out")"
[[ -n $(find "$scratch/s3/meshwh/mesh/domains/finance/ledger/metadata" -type f 2>/dev/null) ]] ||
  fail "no metadata object under the domain's prefix"
[[ $(rest -X POST "$base/catalog/v1/mesh/namespaces" \
  -d '{"namespace":["hr"],"properties":{"location":"s3://other-bucket/hr"}}') == 400 ]] ||
  fail "a namespace in another bucket: $(cat "$scratch/rest.out")"
grep -q "not a folder inside this catalog's warehouse" "$scratch/rest.out" && grep -q "meshwork.storage-profile" "$scratch/rest.out" ||
  fail "unclear: $(cat "$scratch/rest.out")"
echo "ok   a domain's namespace location (its own prefix) places its tables, through REST; another bucket without a profile 400"

# ---- Per-domain storage: a bucket of its own with credentials of its own ----
as_admin domain create treasury --owner treasurer --location s3://findata/mesh --storage-profile finance \
  >"$scratch/domain.out" 2>&1 || fail "domain create with its own storage: $(cat "$scratch/domain.out")"
grep -q '"storage_profile": "finance"' "$scratch/domain.out" && grep -q '"location": "s3://findata/mesh"' "$scratch/domain.out" ||
  fail "domain create output: $(cat "$scratch/domain.out")"
[[ $(rest "$base/catalog/v1/mesh/namespaces/treasury") == 200 ]] || fail "load the treasury namespace"
grep -q '"meshwork.storage-profile":"finance"' "$scratch/rest.out" || fail "the profile is not recorded: $(cat "$scratch/rest.out")"
grep -q 'fin-secret' "$scratch/rest.out" "$data/meshwork.db"* && fail "the domain's secret is stored in the catalog"
[[ $(rest -X POST "$base/catalog/v1/mesh/namespaces/treasury/tables" \
  -d '{"name":"ledger","schema":{"type":"struct","fields":[{"id":1,"name":"id","required":true,"type":"long"},{"id":2,"name":"account","required":false,"type":"string"}]}}') == 200 ]] ||
  fail "createTable in the treasury domain: $(cat "$scratch/rest.out")"
grep -q '"location":"s3://findata/mesh/ledger"' "$scratch/rest.out" || fail "not under the domain's bucket: $(head -c 400 "$scratch/rest.out")"
grep -q "\"s3.endpoint\":\"http://127.0.0.1:$fin_port\"" "$scratch/rest.out" || fail "loadTable config names another store: $(head -c 600 "$scratch/rest.out")"
[[ -n $(find "$scratch/fin-s3/findata/mesh/ledger/metadata" -type f 2>/dev/null) ]] || fail "no metadata object in the domain's bucket"
[[ -z $(find "$scratch/s3/meshwh" -path '*ledger*' -path '*treasury*' 2>/dev/null) ]] || fail "treasury files in the warehouse bucket"
printf 'id,account\n1,cash\n2,bank\n3,\n' >"$scratch/ledger.csv"
cli append treasury.ledger --from "$scratch/ledger.csv" >"$scratch/ledger.log" 2>&1 ||
  fail "CLI append to the treasury table: $(cat "$scratch/ledger.log")"
[[ -n $(find "$scratch/fin-s3/findata/mesh/ledger/data" -name '*.parquet*' 2>/dev/null) ]] || fail "no data object in the domain's bucket"
[[ $(cli scan treasury.ledger --format csv | tail -n +2 | sort | tr '\n' ' ') == "1,cash 2,bank 3, " ]] ||
  fail "scan of the treasury table: $(cli scan treasury.ledger --format csv 2>&1)"
sql_rows() {  # sql_rows BASE SQL -> rows as "a,b;c,d"
  node -e 'console.log(JSON.stringify({sql: process.argv[1]}))' "$2" |
    curl -sf -X POST -H "Authorization: Bearer $token" "$1/api/v1/query" --data-binary @- |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).rows.map(r=>r.join(",")).join(";")))'
}
rows=$(sql_rows "$base" "SELECT count(*), sum(id) FROM treasury.ledger") || fail "SQL over the treasury table"
[[ "$rows" == "3,6" ]] || fail "SQL over the treasury table gave '$rows'"
echo "ok   domain treasury in s3://findata/mesh (profile finance, a store that knows only its key): REST createTable, CLI append/scan and SQL go there"
# The second server, started before treasury existed, reads its table and places new ones in its
# bucket (not in the warehouse, where it would put them if it did not know the domain's storage).
rows=$(sql_rows "$base_b" "SELECT count(*), sum(id) FROM treasury.ledger") ||
  fail "SQL over the treasury table through the second server: $(tail -5 "$scratch/server-b.log")"
[[ "$rows" == "3,6" ]] || fail "the second server read '$rows' from treasury.ledger"
[[ $(curl -s -o "$scratch/rest.out" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -X POST "$base_b/catalog/v1/mesh/namespaces/treasury/tables" \
  -d '{"name":"journal","schema":{"type":"struct","fields":[{"id":1,"name":"id","required":true,"type":"long"}]}}') == 200 ]] ||
  fail "createTable in treasury through the second server: $(cat "$scratch/rest.out")"
grep -q '"location":"s3://findata/mesh/journal"' "$scratch/rest.out" ||
  fail "the second server placed treasury.journal elsewhere: $(head -c 400 "$scratch/rest.out")"
[[ -n $(find "$scratch/fin-s3/findata/mesh/journal/metadata" -type f 2>/dev/null) ]] || fail "no journal metadata in the domain's bucket"
echo "ok   the second server (no restart) reads treasury.ledger (3 rows) and creates treasury.journal in s3://findata/mesh"

# A data product of the treasury domain, deployed through the server: its table, data and metadata
# go to the domain's bucket; SQL reads it back.
mkdir -p "$scratch/products" && (cd "$scratch/products" && "$meshwork" product init treasury/balances >/dev/null) ||
  fail "product init"
MESHWORK_CLIENT_ID=admin MESHWORK_CLIENT_SECRET="$secret" "$meshwork" product deploy "$scratch/products/balances" \
  --server "$base" >"$scratch/deploy.out" 2>&1 || fail "deploy into the treasury domain: $(cat "$scratch/deploy.out")"
grep -q "published treasury.balances" "$scratch/deploy.out" || fail "deploy output: $(cat "$scratch/deploy.out")"
[[ -n $(find "$scratch/fin-s3/findata/mesh" -path '*balances*' -name '*.parquet._S3rver_object' 2>/dev/null) ]] ||
  fail "no data file of treasury.balances in the domain's bucket: $(find "$scratch/fin-s3" -type f | head)"
[[ -z $(find "$scratch/s3/meshwh" -path '*balances*' 2>/dev/null) ]] || fail "treasury.balances files in the warehouse bucket"
product_rows=$(sql_rows "$base" "SELECT count(*) FROM treasury.balances") || fail "SQL over the deployed product"
[[ "$product_rows" -gt 0 ]] || fail "treasury.balances has '$product_rows' rows"
echo "ok   product treasury.balances deployed into the domain's bucket ($product_rows rows through SQL)"
ledger_key=$(cd "$scratch/fin-s3/findata" && find mesh/ledger/data -name '*.parquet._S3rver_object' | head -1)
ledger_key=${ledger_key%._S3rver_object}
fin_url="http://127.0.0.1:$fin_port"
sign_for() {  # sign_for TABLE_PATH METHOD URL -> HTTP status; body in $scratch/signed
  node -e 'console.log(JSON.stringify({region:"us-east-1",method:process.argv[1],uri:process.argv[2],
    headers:{"x-amz-content-sha256":["UNSIGNED-PAYLOAD"]}}))' "$2" "$3" |
    curl -s -o "$scratch/signed" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
      "$base/catalog/v1/mesh/namespaces/$1/sign" --data-binary @-
}
[[ $(sign_for treasury/tables/ledger GET "$fin_url/findata/$ledger_key") == 200 ]] || fail "signing for the treasury table: $(cat "$scratch/signed")"
grep -q '"Authorization":\["AWS4-HMAC-SHA256 Credential=FINKEY/' "$scratch/signed" || fail "not signed with the domain's key: $(cat "$scratch/signed")"
[[ $(send_signed GET "$fin_url/findata/$ledger_key") == 200 ]] || fail "the domain's store refused the signed GET: $(head -c 300 "$scratch/store.out")"
cmp -s "$scratch/store.out" "$scratch/fin-s3/findata/$ledger_key._S3rver_object" || fail "the signed GET returned other bytes"
[[ $(sign_for sales/tables/orders GET "$fin_url/findata/$ledger_key") == 400 ]] || fail "sales.orders signs for the finance store: $(cat "$scratch/signed")"
echo "ok   remote signing for treasury.ledger uses the domain's key (FINKEY), accepted by its store; sales.orders cannot sign there"
[[ $(rest -X POST "$base/catalog/v1/mesh/namespaces/sales/tables" \
  -d '{"name":"sneaky","location":"s3://findata/mesh/sneaky","schema":{"type":"struct","fields":[{"id":1,"name":"id","required":true,"type":"long"}]}}') == 403 ]] ||
  fail "a sales table placed in the treasury bucket: $(cat "$scratch/rest.out")"
grep -q "outside its domain's storage" "$scratch/rest.out" || fail "unclear: $(cat "$scratch/rest.out")"
[[ $(rest -X POST "$base/catalog/v1/mesh/namespaces" \
  -d '{"namespace":["audit"],"properties":{"location":"s3://findata/audit","meshwork.storage-profile":"nope"}}') == 404 ]] ||
  fail "an unknown storage profile: $(cat "$scratch/rest.out")"
grep -q "storage profile 'nope' is not configured" "$scratch/rest.out" && grep -q "finance" "$scratch/rest.out" || fail "unclear: $(cat "$scratch/rest.out")"
[[ $(rest -X POST "$base/catalog/v1/mesh/namespaces" \
  -d '{"namespace":["audit"],"properties":{"location":"s3://findata/mesh/audit","meshwork.storage-profile":"finance"}}') == 409 ]] ||
  fail "storage overlapping treasury's: $(cat "$scratch/rest.out")"
[[ $(rest -X POST "$base/catalog/v1/mesh/namespaces/treasury/properties" -d '{"updates":{"location":"s3://findata/other"}}') == 400 ]] || fail "moving a domain's storage: $(cat "$scratch/rest.out")"
grep -q "fixed when it is created" "$scratch/rest.out" || fail "unclear: $(cat "$scratch/rest.out")"
[[ $(rest -X POST "$base/catalog/v1/mesh/namespaces" \
  -d '{"namespace":["audit"],"properties":{"location":"s3://findata/audit","meshwork.storage-profile":"wrong-keys"}}') == 200 ]] ||
  fail "a domain on the wrong-keys profile: $(cat "$scratch/rest.out")"
# (A HEAD answer has no error body; the error still names S3's reason, from a one-byte GET.)
[[ $(rest -X POST "$base/catalog/v1/mesh/namespaces/audit/tables" \
  -d '{"name":"log","schema":{"type":"struct","fields":[{"id":1,"name":"id","required":true,"type":"long"}]}}') == 403 ]] ||
  fail "the store accepted the warehouse's key: $(cat "$scratch/rest.out")"
grep -q "S3 warehouse s3://findata/audit at http://127.0.0.1:$fin_port" "$scratch/rest.out" &&
  grep -q "InvalidAccessKeyId" "$scratch/rest.out" || fail "unclear: $(cat "$scratch/rest.out")"
# doctor probes every domain's own store with its profile: treasury's works, audit's keys are refused.
MESHWORK_WAREHOUSE="$warehouse" "$meshwork" --data-dir "$data" doctor >"$scratch/doctor-domains.out" 2>&1 &&
  fail "doctor passes although domain audit's store refuses its keys"
for step in credentials reachable write read delete; do
  grep -Eq "^  ok +s3 treasury $step" "$scratch/doctor-domains.out" ||
    { cat "$scratch/doctor-domains.out" >&2; fail "doctor: s3 treasury $step"; }
done
grep -Eq "^  FAIL +s3 audit reachable .*InvalidAccessKeyId.*domain audit, s3://findata/audit via profile 'wrong-keys'" \
  "$scratch/doctor-domains.out" || { cat "$scratch/doctor-domains.out" >&2; fail "doctor on audit's refused keys"; }
grep -Eq "^  ok +metastore .* 2 with storage of their own" "$scratch/doctor-domains.out" ||
  { cat "$scratch/doctor-domains.out" >&2; fail "doctor's metastore line"; }
echo "ok   refused: a sales table in treasury's bucket (403), an unknown profile (404), overlapping storage (409), moving it; a profile with the wrong key is refused by the store"

# ---- Faults ----
snapshots() { cli snapshots sales.orders --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).length))'; }
before=$(snapshots)
count_rows() { cli scan sales.orders --format json | wc -l; }
# 1. The store answers 503 to every write for a while: retries, then a clear error, no commit.
touch "$scratch/fail-writes"
: >"$scratch/writes.log"
started=$(date +%s%N)
cli append sales.orders --from "$scratch/rows.csv" >"$scratch/fault1.log" 2>&1 && fail "an append succeeded while writes fail"
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
grep -q "cannot upload the staged data file" "$scratch/fault1.log" && grep -q "HTTP 503 SlowDown" "$scratch/fault1.log" &&
  grep -q "after 5 attempts" "$scratch/fault1.log" || { cat "$scratch/fault1.log" >&2; fail "the 503 failure is unclear"; }
[[ $(grep -c '^PUT' "$scratch/writes.log") -ge 5 ]] || fail "fewer than 5 attempts reached the store"
[[ $(snapshots) == "$before" ]] || fail "a snapshot was committed although the upload failed"
[[ $(count_rows) == 4 ]] || fail "the table changed after a failed append"
[[ -z $(find "$cli_staging" -type f 2>/dev/null) ]] || fail "staging not cleaned after a failed upload"
echo "ok   503 on every write: $(grep -c '^PUT' "$scratch/writes.log") attempts in ${elapsed_ms} ms, then: $(grep -o 'cannot upload[^(]*' "$scratch/fault1.log" | head -1)"
rm -f "$scratch/fail-writes"
cli append sales.orders --from "$scratch/rows.csv" >/dev/null 2>&1 || fail "the append after the 503s stopped"
[[ $(count_rows) == 8 ]] || fail "the append after recovery did not add 4 rows"
echo "ok   once the store answers again the next append succeeds (8 rows)"
node -e 'let s="id,region,amount,channel\n";for(let i=0;i<1500000;i++)s+=`${i},r${i%97},${i*0.5},c${i%13}\n`;
  require("fs").writeFileSync(process.argv[1],s)' "$scratch/big.csv"
# 2. Multipart uploads (threshold lowered so the big file's Parquet goes up in 1 MiB parts): every
#    part upload fails → retried, then AbortMultipartUpload, a clear error, no commit.
export MESHWORK_S3_MULTIPART_THRESHOLD=2097152 MESHWORK_S3_PART_SIZE=1048576
cli create sales.big --schema 'id long, region string, amount double, channel string' >/dev/null 2>&1 || fail "create sales.big"
big_snapshots() { cli snapshots sales.big --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).length))'; }
echo parts >"$scratch/fail-writes"
: >"$scratch/writes.log"
cli append sales.big --from "$scratch/big.csv" >"$scratch/fault-parts.log" 2>&1 && fail "an append succeeded while part uploads fail"
rm -f "$scratch/fail-writes"
grep -q "uploads" "$scratch/writes.log" || fail "no multipart upload was started: $(head -5 "$scratch/writes.log")"
[[ $(grep -c '^PUT .*partNumber=' "$scratch/writes.log") -ge 5 ]] || fail "the failed part was not retried"
grep -q '^DELETE .*uploadId=' "$scratch/writes.log" || fail "the failed multipart upload was not aborted"
grep -q "part 1 of\|part [0-9]* of" "$scratch/fault-parts.log" && grep -q "HTTP 503 SlowDown" "$scratch/fault-parts.log" ||
  { cat "$scratch/fault-parts.log" >&2; fail "the multipart failure is unclear"; }
grep -q '^POST .*uploadId=' "$scratch/writes.log" && fail "a failed multipart upload was completed"
[[ $(big_snapshots) == 0 ]] || fail "a snapshot was committed although the multipart upload failed"
[[ -z $(find "$cli_staging" -type f 2>/dev/null) ]] || fail "staging not cleaned after a failed multipart upload"
echo "ok   multipart: every part fails → $(grep -c '^PUT .*partNumber=' "$scratch/writes.log") part attempts, aborted (DELETE ?uploadId), no commit: $(grep -o 'part [0-9]* of [0-9]*' "$scratch/fault-parts.log" | head -1)"
: >"$scratch/writes.log"
cli append sales.big --from "$scratch/big.csv" >"$scratch/multipart-ok.log" 2>&1 || fail "multipart append: $(cat "$scratch/multipart-ok.log")"
grep -q '^POST .*uploadId=' "$scratch/writes.log" || fail "the healthy append did not complete a multipart upload"
[[ $(big_snapshots) == 1 ]] || fail "sales.big has $(big_snapshots) snapshots after the multipart append"
unset MESHWORK_S3_MULTIPART_THRESHOLD MESHWORK_S3_PART_SIZE
echo "ok   the same file with the store healthy goes up in $(grep -c '^PUT .*partNumber=' "$scratch/writes.log") parts, completed, committed"
# 3. s3rver killed in the middle of an upload (a file large enough for a multipart upload).
before=$(snapshots)
: >"$scratch/writes.log"
cli append sales.orders --from "$scratch/big.csv" >"$scratch/fault2.log" 2>&1 &
append_pid=$!
for _ in $(seq 1 2400); do
  [[ -s "$scratch/writes.log" ]] && break
  sleep 0.05
done
[[ -s "$scratch/writes.log" ]] || fail "the big append never started uploading"
kill -9 "$s3_pid"; wait "$s3_pid" 2>/dev/null; s3_pid=""
wait "$append_pid"; status=$?; append_pid=""
[[ $status != 0 ]] || fail "the append succeeded although s3rver died mid-upload"
grep -Eq "no answer from S3 warehouse|HTTP 5" "$scratch/fault2.log" || { cat "$scratch/fault2.log" >&2; fail "the failure is unclear"; }
[[ -z $(find "$cli_staging" -type f 2>/dev/null) ]] || fail "staging not cleaned after s3rver died"
start_s3rver
[[ $(snapshots) == "$before" ]] || fail "a snapshot was committed although s3rver died mid-upload"
[[ $(count_rows) == 8 ]] || fail "the table changed after the failed upload"
echo "ok   s3rver killed mid-upload: $(grep -o 'no answer from S3[^:]*' "$scratch/fault2.log" | head -1); no commit, staging cleaned"
cli append sales.orders --from "$scratch/rows.csv" >/dev/null 2>&1 || fail "the append after s3rver restarted"
[[ $(count_rows) == 12 ]] || fail "the append after restart did not add 4 rows"
echo "ok   s3rver restarted: the next append succeeds (12 rows)"

kill -TERM "$server_b_pid"; wait "$server_b_pid"; server_b_pid=""
kill -TERM "$server_pid"; wait "$server_pid"; status=$?; server_pid=""
[[ $status == 0 ]] || fail "the server did not stop cleanly (exit $status)"
echo "ok   all S3 warehouse checks passed"
