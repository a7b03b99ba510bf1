#!/usr/bin/env bash
# Three `meshwork serve` processes share one PostgreSQL metastore and one warehouse; 16 clients
# commit appends to one table through all three. Every commit succeeds or gets 409 and retries;
# no append is lost; the metadata log is linear.
# Usage: multi_server_test.sh BUILD_DIR   (needs the postgres CTest fixture; 77 = skipped)
set -uo pipefail
build_dir="$1"
meshwork="$build_dir/meshwork"
e2e="$(cd "$(dirname "$0")/../e2e" && pwd)"
fixture="${MESHWORK_TEST_POSTGRES_DIR:-}"
if [[ -z "$fixture" || ! -f "$fixture/port" ]] || ! command -v node >/dev/null; then
  echo "SKIPPED: no PostgreSQL fixture (MESHWORK_TEST_POSTGRES_DIR) or no node" >&2
  exit 77
fi
port=$(cat "$fixture/port")
bin=$(ls -d /usr/lib/postgresql/*/bin | sort | tail -1)
database="multi_server_$$"
"$bin/createdb" -h 127.0.0.1 -p "$port" -U meshwork "$database" || { echo "FAIL: createdb" >&2; exit 1; }
url="postgresql://meshwork@127.0.0.1:$port/$database"
scratch=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  "$bin/dropdb" -h 127.0.0.1 -p "$port" -U meshwork "$database" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for log in "$scratch"/server-*.log "$scratch"/server-*.out; do tail -n 5 "$log" >&2; done
  exit 1
}
secret="multi-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
bases=()
for i in 1 2 3; do
  "$meshwork" --data-dir "$scratch/data-$i" serve --http 127.0.0.1:0 --pg 127.0.0.1:0 --metastore "$url" \
    --warehouse "$scratch/warehouse" --bootstrap-credentials "admin:$secret" \
    >"$scratch/server-$i.out" 2>"$scratch/server-$i.log" &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 1 200); do grep -q serving "$scratch/server-$i.out" 2>/dev/null && break; sleep 0.05; done
  base=$(grep -o 'http://[0-9.:]*' "$scratch/server-$i.out" | head -1)
  [[ -n "$base" ]] || fail "server $i did not start"
  bases+=("$base")
done
echo "ok   3 servers on one PostgreSQL: ${bases[*]}"
token=$(curl -sf -X POST "${bases[0]}/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  -d client_id=admin -d "client_secret=$secret" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[[ -n "$token" ]] || fail "token"
auth="Authorization: Bearer $token"
curl -sf -X POST -H "$auth" "${bases[1]}/catalog/v1/mesh/namespaces" -d '{"namespace":["sales"]}' >/dev/null ||
  fail "create namespace"
curl -sf -X POST -H "$auth" "${bases[2]}/catalog/v1/mesh/namespaces/sales/tables" -d '{"name":"events",
  "schema":{"type":"struct","fields":[{"id":1,"name":"id","required":true,"type":"long"}]},
  "properties":{"write.metadata.previous-versions-max":"1000"}}' >/dev/null || fail "create table"
# A token from one server works on the others (shared signing key).
node "$e2e/concurrent_commits.mjs" "$token" 16 10 "${bases[@]}" || fail "concurrent commits"
