#!/usr/bin/env bash
# `meshwork demo` as `make demo` runs it: builds the demo mesh from examples/, runs its
# cross-domain query, then serves; the mesh API lists >= 4 domains and >= 5 products with owners,
# versions and SLA status, and `product list --json` says the same.
# Usage: demo_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
meshwork="$1/meshwork"
examples="$2/examples"
scratch=$(mktemp -d)
demo_pid=""
cleanup() {
  [[ -n "$demo_pid" ]] && kill "$demo_pid" 2>/dev/null && wait "$demo_pid" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  tail -30 "$scratch/demo.out" "$scratch/demo.err" >&2
  exit 1
}
json() {
  node -e "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>{const d=JSON.parse(s);console.log($1)})"
}
"$meshwork" --data-dir "$scratch/mesh" demo --examples "$examples" --http 127.0.0.1:0 --pg 127.0.0.1:0 \
  --bootstrap-credentials demo:demo-secret >"$scratch/demo.out" 2>"$scratch/demo.err" &
demo_pid=$!
for _ in $(seq 1 600); do
  grep -q "serving" "$scratch/demo.out" 2>/dev/null && break
  kill -0 "$demo_pid" 2>/dev/null || fail "meshwork demo stopped"
  sleep 0.1
done
base=$(grep -o 'http://[0-9.:]*' "$scratch/demo.out" | tail -1)
[[ -n "$base" ]] || fail "the demo is not serving"
grep -q "^ 2026-07 " "$scratch/demo.out" || fail "the cross-domain query printed no rows"
echo "ok   demo built and serving at $base; its cross-domain query printed rows"
token=$(curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  -d client_id=demo -d client_secret=demo-secret | json 'd.access_token') || fail "token"
domains=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/domains" | json 'd.domains.length')
products=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/products" |
  json 'd.products.filter(p=>p.owner.team&&p.version&&p.sla.status==="fresh").length')
[[ $domains -ge 4 && $products -ge 5 ]] || fail "$domains domains, $products fresh products with owners"
echo "ok   the mesh API lists $domains domains and $products products with owners, versions, SLA status"
kill "$demo_pid" && wait "$demo_pid" 2>/dev/null
demo_pid=""
listed=$("$meshwork" --data-dir "$scratch/mesh" product list --json |
  json 'd.map(p=>p.product+"@"+p.version+":"+p.owner.team+":"+p.sla.status).join(" ")') || fail "product list"
[[ $(wc -w <<<"$listed") -ge 5 ]] || fail "product list --json: $listed"
echo "ok   product list --json: $listed"
# An analyst's credentials work; the analyst sees what the roles allow.
line=$(grep "principal fin_analyst" "$scratch/demo.out")
id=$(awk '{print $3}' <<<"$line" | cut -d: -f1)
secret=$(awk '{print $3}' <<<"$line" | cut -d: -f2)
MESHWORK_CLIENT_ID="$id" MESHWORK_CLIENT_SECRET="$secret" "$meshwork" --data-dir "$scratch/mesh" \
  product list --json | json 'd.map(p=>p.domain).join(" ")' >"$scratch/visible" || fail "analyst listing"
grep -q finance "$scratch/visible" && grep -q customers "$scratch/visible" || fail "fin_analyst sees $(cat "$scratch/visible")"
grep -q logistics "$scratch/visible" && fail "fin_analyst should not see logistics products"
echo "ok   fin_analyst sees finance and customers products, not logistics"
