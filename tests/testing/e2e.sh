# Sourced by the end-to-end test scripts: a scratch folder removed at exit (stopping the server
# in $server_pid first), fail (with the server's last words), json (a value of a JSON document on
# stdin), and the demo mesh with its principals' credentials. Needs $meshwork set.
scratch=$(mktemp -d)
server_pid=""
e2e_cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$scratch"
}
trap e2e_cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [[ -f "$scratch/server.err" ]] && tail -n 20 "$scratch/server.err" >&2
  exit 1
}
json() {  # json EXPRESSION < document: prints EXPRESSION over the parsed document `d`
  node -e "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>{const d=JSON.parse(s);console.log($1)})"
}
# e2e_demo DATA_DIR EXAMPLES_DIR ROOT_SECRET: the demo mesh, its JSON report in $scratch/demo.json.
e2e_demo() {
  "$meshwork" --data-dir "$1" demo --examples "$2" --no-serve --json --bootstrap-credentials "root:$3" \
    >"$scratch/demo.json" 2>"$scratch/demo.err" || { cat "$scratch/demo.err"; fail "demo"; }
}
# principal NAME FIELD: client_id or client_secret of a principal the demo created.
principal() { json "d.principals.find(p=>p.name==='$1').$2" <"$scratch/demo.json"; }
# e2e_serve DATA_DIR [SERVE ARGS…]: `meshwork serve` on free loopback ports (HTTP, and
# PostgreSQL unless the args say --pg off) in the background; waits until it
# listens and sets server_pid, base (http[s]://127.0.0.1:PORT), portal_url and pg_port. Its output
# goes to $scratch/server.out and server.err (which fail shows).
e2e_serve() {
  local data="$1" pg_wanted=1 arg
  shift
  for arg in "$@"; do [[ "$arg" == off ]] && pg_wanted=0; done
  local pg_args=(--pg 127.0.0.1:0)
  [[ $pg_wanted == 0 ]] && pg_args=()
  # Not a previous server's lines: a new one truncates the files only once it runs.
  rm -f "$scratch/server.out" "$scratch/server.err"
  "$meshwork" --data-dir "$data" serve --http 127.0.0.1:0 "${pg_args[@]}" "$@" \
    >"$scratch/server.out" 2>"$scratch/server.err" &
  server_pid=$!
  base="" portal_url="" pg_port=""
  for _ in $(seq 1 150); do
    base=$(grep -o 'serving https\?://[0-9.:]*' "$scratch/server.out" 2>/dev/null | head -1 | cut -d' ' -f2)
    portal_url=$(sed -n 's/^meshwork portal \(http[^ ]*\)$/\1/p' "$scratch/server.out" 2>/dev/null)
    pg_port=$(grep -o 'PostgreSQL on 127.0.0.1:[0-9]*' "$scratch/server.out" 2>/dev/null | grep -o '[0-9]*$')
    [[ -n "$base" && -n "$portal_url" && ($pg_wanted == 0 || -n "$pg_port") ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "the server stopped before listening"
    sleep 0.1
  done
  fail "the server did not say where it listens within 15 s"
}
