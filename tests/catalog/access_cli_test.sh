#!/usr/bin/env bash
# Access management end to end: `meshwork principal|role|grant|whoami` against a real server;
# the grants take effect on the Iceberg REST API (200 vs 403 naming the privilege); rotation
# revokes tokens; secrets never appear again after creation (API, listings, server log).
# Usage: access_cli_test.sh BUILD_DIR
set -uo pipefail
build_dir="$1"
meshwork="$build_dir/meshwork"
scratch=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  cat "$scratch/server.log" >&2
  exit 1
}
root_secret="root-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
"$meshwork" --data-dir "$scratch/data" serve --http 127.0.0.1:0 --pg 127.0.0.1:0 \
  --bootstrap-credentials "root-id:$root_secret" >"$scratch/server.out" 2>"$scratch/server.log" &
server_pid=$!
for _ in $(seq 1 100); do grep -q serving "$scratch/server.out" 2>/dev/null && break; sleep 0.05; done
base=$(grep -o 'http://[0-9.:]*' "$scratch/server.out" | head -1)
[[ -n "$base" ]] || fail "server did not start"

as_root() { MESHWORK_CLIENT_ID=root-id MESHWORK_CLIENT_SECRET="$root_secret" "$meshwork" "$@" --server "$base"; }
token_of() {
  curl -sf -X POST "$base/catalog/v1/oauth/tokens" -d grant_type=client_credentials \
    --data-urlencode "client_id=$1" --data-urlencode "client_secret=$2" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}
status() { curl -s -o "$scratch/body" -w '%{http_code}' "$@"; }

created=$(as_root principal create alice --json) || fail "principal create"
alice_id=$(sed -n 's/.*"client-id":"\([^"]*\)".*/\1/p' <<<"$created")
alice_secret=$(sed -n 's/.*"client-secret":"\([^"]*\)".*/\1/p' <<<"$created")
[[ -n "$alice_id" && -n "$alice_secret" ]] || fail "no credentials in: $created"
as_root role create analysts --description "reads sales" >/dev/null || fail "role create"
as_root role assign analysts alice >/dev/null || fail "role assign"
root_token=$(token_of root-id "$root_secret")
[[ $(status -X POST -H "Authorization: Bearer $root_token" "$base/catalog/v1/mesh/namespaces" \
  -d '{"namespace":["sales"]}') == 200 ]] || fail "create namespace"
[[ $(status -X POST -H "Authorization: Bearer $root_token" "$base/catalog/v1/mesh/namespaces/sales/tables" \
  -d '{"name":"orders","schema":{"type":"struct","fields":[{"id":1,"name":"id","required":true,"type":"long"}]}}') == 200 ]] ||
  fail "create table"
echo "ok   root created principal alice, role analysts, sales.orders"

alice_token=$(token_of "$alice_id" "$alice_secret")
[[ $(status -H "Authorization: Bearer $alice_token" "$base/catalog/v1/mesh/namespaces/sales/tables/orders") == 403 ]] ||
  fail "alice can load the table before any grant"
grep -q "lacks READ_METADATA on table sales.orders" "$scratch/body" || fail "403 does not name the privilege: $(cat "$scratch/body")"
as_root grant add --role analysts --privilege READ_DATA --on namespace:sales >/dev/null || fail "grant add"
[[ $(status -H "Authorization: Bearer $alice_token" "$base/catalog/v1/mesh/namespaces/sales/tables/orders") == 200 ]] ||
  fail "READ_DATA on namespace:sales does not let alice load sales.orders"
[[ $(status -X POST -H "Authorization: Bearer $alice_token" "$base/catalog/v1/mesh/namespaces/sales/tables" \
  -d '{"name":"x","schema":{"type":"struct","fields":[]}}') == 403 ]] || fail "alice may create tables"
grep -q "lacks CREATE_TABLE on namespace sales" "$scratch/body" || fail "403 body: $(cat "$scratch/body")"
echo "ok   grants take effect: 403 naming the privilege, then 200"

who=$(MESHWORK_CLIENT_ID="$alice_id" MESHWORK_CLIENT_SECRET="$alice_secret" "$meshwork" whoami --server "$base" --json) ||
  fail "whoami"
grep -q '"roles":\["analysts"\]' <<<"$who" || fail "whoami: $who"
grep -q '"privilege":"READ_DATA"' <<<"$who" || fail "whoami grants: $who"
MESHWORK_CLIENT_ID="$alice_id" MESHWORK_CLIENT_SECRET="$alice_secret" "$meshwork" principal list --server "$base" \
  >/dev/null 2>"$scratch/denied" && fail "alice may list principals"
grep -q "lacks MANAGE_MESH on mesh" "$scratch/denied" || fail "principal list denial: $(cat "$scratch/denied")"
listed=$(as_root principal list --json) || fail "principal list"
grep -q '"alice"' <<<"$listed" || fail "alice missing from $listed"
echo "ok   whoami shows roles and grants; only MANAGE_MESH lists principals"

rotated=$(as_root principal rotate alice --json) || fail "rotate"
new_secret=$(sed -n 's/.*"client-secret":"\([^"]*\)".*/\1/p' <<<"$rotated")
[[ $(status -H "Authorization: Bearer $alice_token" "$base/catalog/v1/mesh/namespaces/sales/tables/orders") == 401 ]] ||
  fail "a token from before the rotation still works"
[[ -z "$(token_of "$alice_id" "$alice_secret")" ]] || fail "the old secret still gets tokens"
[[ -n "$(token_of "$alice_id" "$new_secret")" ]] || fail "the new secret gets no token"
echo "ok   rotation revokes old tokens and the old secret"

for secret in "$alice_secret" "$new_secret" "$root_secret"; do
  grep -q "$secret" "$scratch/server.log" "$scratch/server.out" && fail "a secret is in the server output"
  grep -q "$secret" <<<"$listed$who" && fail "a secret is in a listing"
done
grep -rqa "$new_secret" "$scratch/data" && fail "a secret is stored in the data dir"
echo "ok   secrets appear only once, in the creating response"
as_root grant revoke --role analysts --privilege READ_DATA --on namespace:sales >/dev/null || fail "revoke"
[[ $(as_root grant list --role analysts --json) == "[]" ]] || fail "grant list after revoke"
echo "ok   revoke"

# TLS: the same server over HTTPS with a self-signed certificate; plain HTTP gets no answer.
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$scratch/key.pem" -out "$scratch/cert.pem" \
    -days 1 -subj "/CN=127.0.0.1" >/dev/null 2>&1 || fail "openssl could not make a certificate"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null
  "$meshwork" --data-dir "$scratch/data" serve --http 127.0.0.1:0 --pg 127.0.0.1:0 --tls-cert "$scratch/cert.pem" \
    --tls-key "$scratch/key.pem" >"$scratch/tls.out" 2>"$scratch/server.log" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q serving "$scratch/tls.out" 2>/dev/null && break; sleep 0.05; done
  tls_base=$(grep -o 'https://[0-9.:]*' "$scratch/tls.out" | head -1)
  [[ -n "$tls_base" ]] || fail "the TLS server did not start: $(cat "$scratch/tls.out")"
  [[ $(curl -s --cacert "$scratch/cert.pem" -o /dev/null -w '%{http_code}' "$tls_base/healthz") == 200 ]] ||
    fail "HTTPS /healthz"
  token=$(curl -sf --cacert "$scratch/cert.pem" -X POST "$tls_base/catalog/v1/oauth/tokens" \
    -d grant_type=client_credentials -d client_id=root-id --data-urlencode "client_secret=$root_secret" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  [[ -n "$token" ]] || fail "a token over HTTPS"
  plain=${tls_base/https:/http:}
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$plain/healthz") == 000 ]] || fail "plain HTTP on the TLS port answered"
  echo "ok   HTTPS with --tls-cert/--tls-key; plain HTTP is not served"
fi
