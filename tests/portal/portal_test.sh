#!/usr/bin/env bash
# The developer portal end to end: `meshwork serve` on the demo mesh (plus a product whose
# description, column docs and rows hold markup), driven by Debian's chromium through
# playwright-core (portal_test.mjs). Screenshots go to BUILD_DIR/test-artifacts/.
# Usage: portal_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
meshwork="$build/meshwork"
e2e="$source_dir/tests/e2e"
command -v node >/dev/null || { echo "SKIP: node is not installed"; exit 77; }
[[ -x /usr/bin/chromium ]] || { echo "SKIP: chromium is not installed (scripts/bootstrap.sh installs it)"; exit 77; }
[[ -d "$e2e/node_modules/playwright-core" ]] || { echo "SKIP: playwright-core missing (run scripts/bootstrap.sh)"; exit 77; }
source "$(dirname "${BASH_SOURCE[0]}")/../testing/e2e.sh"
secret="portal-test-secret"
data="$scratch/mesh"
mw() { "$meshwork" --data-dir "$data" "$@"; }
e2e_demo "$data" "$source_dir/examples" "$secret"
mkt_id=$(principal mkt_analyst client_id) mkt_secret=$(principal mkt_analyst client_secret)
gov_id=$(principal gov_officer client_id) gov_secret=$(principal gov_officer client_secret)
[[ -n "$mkt_id" && -n "$gov_id" ]] || fail "the demo created no marketing analyst and governance officer"

# Markup where a product's owner writes text: description, a column doc, and the data itself.
mkdir -p "$scratch/xss"
cat >"$scratch/xss/dataproduct.yaml" <<'YAML'
apiVersion: meshwork/v1
kind: DataProduct
domain: marketing
name: html_snippets
version: 1.0.0
title: Newsletter snippets <b>bold</b>
owner: {team: marketing-web, email: web@example.com}
description: "Snippets of newsletter HTML. <img src=x onerror=\"window.__xss='description'\"> <script>window.__xss='script'</script>"
tags: [marketing, html]
transform:
  sql: >-
    SELECT i AS snippet_id, '<img src=x onerror="window.__xss=''cell''">' || i AS body,
           '+49 30 555 01' || i AS sender_phone
    FROM range(3) t(i)
ports:
  - name: html_snippets
    description: One row per snippet
    columns:
      - {name: snippet_id, type: long, description: Number of the snippet}
      - {name: body, type: string, description: "The HTML <script>window.__xss='doc'</script> as sent"}
      # Personal data the council's rules encrypt (pii.*) but no mask covers: redacted for readers
      # without UNMASK, and the data dictionary must say so.
      - {name: sender_phone, type: string, classification: pii.phone, description: Phone of the sender}
sample_queries:
  - {title: "All snippets <i>ever</i>", sql: "SELECT body, snippet_id FROM marketing.html_snippets ORDER BY snippet_id"}
links:
  - {title: "A script link", url: "javascript:window.__xss='link'"}
YAML
mw product deploy "$scratch/xss" >"$scratch/xss.out" 2>&1 || { cat "$scratch/xss.out"; fail "deploying the markup product"; }

mw serve --http 127.0.0.1:0 --pg 127.0.0.1:0 --no-scheduler --bootstrap-credentials "root:$secret" \
  >"$scratch/server.out" 2>"$scratch/server.err" &
server_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^meshwork portal \(http[^ ]*\)$/\1/p' "$scratch/server.out")
  [[ -n "$url" ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "the server exited"
  sleep 0.1
done
[[ -n "$url" ]] || fail "the server printed no portal address"
pg_port=""
for _ in $(seq 1 50); do
  pg_port=$(sed -n 's/^meshwork serving PostgreSQL on [^ ]*:\([0-9]*\) .*$/\1/p' "$scratch/server.out")
  [[ -n "$pg_port" ]] && break
  sleep 0.1
done
[[ -n "$pg_port" ]] || fail "the server printed no PostgreSQL port"
echo "ok   meshwork serve on the demo mesh: portal at $url"
# The finance domain's owner (created by the demo without printing its secret): new credentials.
token=$(curl -sf -X POST "${url}catalog/v1/oauth/tokens" -d grant_type=client_credentials \
  -d client_id=root -d "client_secret=$secret" | json d.access_token) || fail "root token"
curl -sf -X POST -d '' -H "Authorization: Bearer $token" "${url}api/v1/principals/finn/rotate" \
  >"$scratch/finn.json" || fail "rotating finn's credentials"
finn_id=$(json "d['client-id']" <"$scratch/finn.json")
finn_secret=$(json "d['client-secret']" <"$scratch/finn.json")

PORTAL_URL="$url" MKT_ID="$mkt_id" MKT_SECRET="$mkt_secret" FINN_ID="$finn_id" FINN_SECRET="$finn_secret" \
  GOV_ID="$gov_id" GOV_SECRET="$gov_secret" PG_PORT="$pg_port" \
  E2E_DIR="$e2e" \
  ARTIFACTS="$build/test-artifacts" XSS_PRODUCT=marketing.html_snippets \
  timeout 150 node "$source_dir/tests/portal/portal_test.mjs" || fail "the browser test failed (screenshots in $build/test-artifacts)"
echo "ok   screenshots in $build/test-artifacts/portal-*.png"
grep -E "products/deploy|access-requests" "$scratch/server.err" | sed "s/^/server: /"
