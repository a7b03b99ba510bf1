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
