#!/usr/bin/env bash
# A PostgreSQL wire client from tests/e2e against `meshwork serve --pg` on the demo mesh: builds
# the mesh in a temporary directory, serves it on free ports, runs the node script (arguments
# HOST PORT USER PASSWORD SERVER_PID), then checks that the server is still alive and that it
# stops cleanly on SIGTERM.
# Usage: pg_clients_test.sh BUILD_DIR SOURCE_DIR SCRIPT.mjs [serve flags…]
#   (exit 77 = skipped: node or tests/e2e/node_modules/pg missing)
set -uo pipefail
build_dir="$1"
source_dir="$2"
script="$source_dir/tests/e2e/$3"
shift 3
meshwork="$build_dir/meshwork"
if ! command -v node >/dev/null || [[ ! -d "$source_dir/tests/e2e/node_modules/pg" ]]; then
  echo "SKIPPED: node or tests/e2e/node_modules/pg missing; run scripts/bootstrap.sh" >&2
  exit 77
fi
source "$source_dir/tests/testing/e2e.sh"

secret="pg-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
e2e_demo "$scratch/mesh" "$source_dir/examples" "$secret"
e2e_serve "$scratch/mesh" --no-scheduler --bootstrap-credentials "root:$secret" "$@"
port="$pg_port"
echo "ok   demo mesh served on PostgreSQL port $port (server pid $server_pid)"

# --no-deprecation: pg's own Client#cancel reads its deprecated activeQuery.
TZ=UTC node --no-deprecation "$script" 127.0.0.1 "$port" root "$secret" "$server_pid" ||
  fail "$(basename "$script")"
kill -0 "$server_pid" 2>/dev/null || fail "the server died"
kill "$server_pid"
wait "$server_pid"
status=$?
server_pid=""
[[ $status -eq 0 ]] || fail "meshwork serve exited with $status on SIGTERM"
grep -q "meshwork stopped" "$scratch/server.out" || fail "meshwork serve did not say it stopped"
echo "ok   the server was alive at the end and stopped cleanly on SIGTERM"
