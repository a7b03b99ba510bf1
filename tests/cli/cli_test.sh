#!/usr/bin/env bash
# End-to-end checks of the meshwork command as a user runs it: versions, doctor, usage errors and
# their exit codes, configuration errors, and an installed copy that finds libduckdb.so on its own.
# Usage: cli_test.sh BUILD_DIR
set -uo pipefail
build_dir="$1"
meshwork="$build_dir/meshwork"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0

# run NAME EXPECTED_EXIT CMD...: runs CMD without LD_LIBRARY_PATH, captures stdout+stderr in $out.
run() {
  local name="$1" expected="$2"
  shift 2
  out=$(cd "$scratch" && env -u LD_LIBRARY_PATH "$@" 2>&1)
  local code=$?
  if [[ "$code" != "$expected" ]]; then
    echo "FAIL $name: exit $code, expected $expected; output:"
    echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
    return 1
  fi
  echo "ok   $name"
}

# contains NAME PATTERN: $out must match the extended regex PATTERN.
contains() {
  if ! grep -Eq -- "$2" <<<"$out"; then
    echo "FAIL $1: output does not match /$2/:"
    echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}

# meshwork table: create, inspect, list, refuse bad input, drop.
wh="$scratch/wh"
run "table create" 0 "$meshwork" table create --warehouse "$wh" sales.orders \
  --schema 'id long not null, ts timestamptz, customer uuid, amount decimal(12,2)' \
  --partition 'day(ts), bucket(16, id)' &&
  contains "table create shows the partitioning" 'partition  day\(ts\), bucket\(16, id\)' &&
  contains "table create names the metadata file" 'metadata   file://.*/sales/orders/metadata/00000-.*\.metadata\.json'
run "table create --sort" 0 "$meshwork" table create sales.sorted --schema 'id long, v double' \
  --sort 'v desc, id' --warehouse "$scratch/wh-sorted" && run "table schema shows the sort" 0 "$meshwork" table schema --warehouse "$scratch/wh-sorted" sales.sorted &&
  contains "sort order listed" '^sort: +v desc nulls last, id asc nulls first$'
run "table create bad sort" 2 "$meshwork" table create --warehouse "$wh" sales.sorted2 --schema 'id long' --sort 'idd' &&
  contains "bad sort column named" "sort order at position 1: the schema has no column 'idd'"
run "table schema" 0 "$meshwork" table schema --warehouse "$wh" sales.orders &&
  contains "table schema lists columns with ids" '^4 +amount +decimal\(12, 2\)'
run "table schema --json" 0 "$meshwork" table schema --warehouse "$wh" sales.orders --json &&
  contains "schema json carries field ids" '"id": 3'
run "table list" 0 "$meshwork" table list --warehouse "$wh" sales --json &&
  contains "table list" '^\["sales.orders"\]$'
run "table create twice" 1 "$meshwork" table create --warehouse "$wh" sales.orders --schema 'id long' &&
  contains "already exists" 'already_exists: table sales.orders already exists'
run "table create bad type" 2 "$meshwork" table create --warehouse "$wh" sales.x --schema 'id lng' &&
  contains "bad type named" "unknown Iceberg type 'lng'"
run "table create bad transform" 2 "$meshwork" table create --warehouse "$wh" sales.x \
  --schema 'id long' --partition 'hour(id)' &&
  contains "bad transform named" 'hour cannot be applied to column .id.'
run "table bad name" 2 "$meshwork" table schema --warehouse "$wh" 'sales.or ders' &&
  contains "bad name" "table name 'or ders' in 'sales.or ders' contains ' '"
run "table folder is read-only" 2 "$meshwork" table append --warehouse "$wh" ../etc --from x.csv &&
  contains "read-only folder explained" 'names a table folder, which is read-only here'
run "table folder missing" 1 "$meshwork" table schema ./nope &&
  contains "missing folder named" 'nope does not exist'
run "not a table folder" 1 "$meshwork" table scan "$scratch" &&
  contains "not a table folder explained" 'is not an Iceberg table folder: it has no metadata/ folder'
run "no warehouse" 1 "$meshwork" table list --warehouse "$scratch/typo" sales &&
  contains "missing warehouse named" "there is no warehouse at $scratch/typo"
[[ ! -e "$scratch/typo" ]] || { echo "FAIL a read command created the warehouse folder"; failures=$((failures + 1)); }
run "table missing" 1 "$meshwork" table snapshots --warehouse "$wh" sales.nope &&
  contains "missing table" 'not_found: table sales.nope does not exist'
printf 'id,ts,customer,amount\n1,2026-01-01 10:00:00+00,00112233-4455-6677-8899-aabbccddeeff,12.50\n2,2026-01-02 11:00:00+00,,99.99\n3,,,\n' >"$scratch/orders.csv"
run "table append" 0 "$meshwork" table append --warehouse "$wh" sales.orders --from "$scratch/orders.csv" &&
  contains "append reports rows and files" '^appended 3 rows in 3 files'
run "table scan" 0 "$meshwork" table scan --warehouse "$wh" sales.orders --format csv &&
  contains "scan prints the rows" '^2,2026-01-02 11:00:00\+00,,99.99$'
run "table scan --where" 0 "$meshwork" table scan --warehouse "$wh" sales.orders --format json \
  --where "ts >= '2026-01-02' and amount > 10" &&
  contains "filtered scan" '^\{"amount":"99.99",.*"id":"2"' 
run "table scan --explain" 0 "$meshwork" table scan --warehouse "$wh" sales.orders --explain \
  --where "ts >= '2026-01-02' and ts < '2026-01-03'" &&
  contains "plan prunes by day" 'data files: 1 of 3 kept' &&
  contains "plan shows the partition filter" 'partition filter: .*ts_day'
run "table scan bad filter" 2 "$meshwork" table scan --warehouse "$wh" sales.orders --where "id = 1; drop table x" &&
  contains "filter error has a position" 'filter at position 7'
run "table alter" 0 "$meshwork" table alter --warehouse "$wh" sales.orders --rename customer:buyer \
  --add 'note string' --widen amount:'decimal(14,2)' &&
  contains "alter prints the new schema" 'schema 1: id long not null, ts timestamptz, buyer uuid, amount decimal\(14,2\), note string'
run "table scan after alter" 0 "$meshwork" table scan --warehouse "$wh" sales.orders --format csv --where "id = 1" &&
  contains "renamed column keeps its data" '^1,2026-01-01 10:00:00\+00,00112233-4455-6677-8899-aabbccddeeff,12.50,$'
run "table alter --set" 0 "$meshwork" table alter --warehouse "$wh" sales.orders --set owner=finance &&
  run "properties shown" 0 "$meshwork" table schema --warehouse "$wh" sales.orders &&
  contains "property listed" '^property: +owner = finance$'
run "table alter --set refused" 2 "$meshwork" table alter --warehouse "$wh" sales.orders \
  --set write.target-file-size-bytes=lots && contains "bad size explained" 'must be a positive whole number'
run "table alter refused" 2 "$meshwork" table alter --warehouse "$wh" sales.orders --widen amount:int &&
  contains "bad promotion named" 'cannot change column .amount.'
run "table delete" 0 "$meshwork" table delete --warehouse "$wh" sales.orders --where "id = 3" &&
  contains "delete reports what changed" '^deleted from sales.orders: removed 1 files \(1 rows\)'
run "table delete nothing" 0 "$meshwork" table delete --warehouse "$wh" sales.orders --where "id = 99" &&
  contains "delete of nothing" 'nothing changed'
printf 'id,ts,buyer,amount,note\n9,2026-01-01 12:00:00+00,,1.00,replacement\n' >"$scratch/replace.csv"
run "table overwrite" 0 "$meshwork" table overwrite --warehouse "$wh" sales.orders --from "$scratch/replace.csv" \
  --where "ts < '2026-01-02'" &&
  contains "overwrite reports what changed" '^overwrote sales.orders: removed 1 files \(1 rows\), added 1 files \(1 rows\)'
run "table scan after overwrite" 0 "$meshwork" table scan --warehouse "$wh" sales.orders --format csv &&
  contains "overwritten rows" '^9,2026-01-01 12:00:00\+00,,1.00,replacement$'
run "table snapshots" 0 "$meshwork" table snapshots --warehouse "$wh" sales.orders --json &&
  contains "snapshot summary" '"total-records": "2"'
run "table append missing file" 1 "$meshwork" table append --warehouse "$wh" sales.orders --from "$scratch/nope.csv" &&
  contains "missing input named" 'input file .*nope.csv does not exist'
printf 'id,extra\n1,2\n' >"$scratch/extra.csv"
run "table append extra column" 2 "$meshwork" table append --warehouse "$wh" sales.orders --from "$scratch/extra.csv" &&
  contains "extra column named" 'columns the table does not: extra'
run "table alter --partition" 0 "$meshwork" table alter --warehouse "$wh" sales.orders --partition 'bucket(2, id)' &&
  contains "new spec reported" 'now writes partition spec 1: bucket\(2, id\)'
run "table alter bad partition" 2 "$meshwork" table alter --warehouse "$wh" sales.orders --partition 'hour(amount)' &&
  contains "bad partition explained" "hour cannot be applied to column 'amount'"
run "table compact" 0 "$meshwork" table compact --warehouse "$wh" sales.orders &&
  contains "compaction reported" '^compacted sales.orders: [0-9]+ files .* rewritten as [0-9]+ files'
run "table compact again" 0 "$meshwork" table compact --warehouse "$wh" sales.orders --json &&
  contains "nothing left" '"snapshot-id":0'
first_snapshot=$("$meshwork" table snapshots --warehouse "$wh" sales.orders --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["snapshot-id"])')
run "table tag" 0 "$meshwork" table tag --warehouse "$wh" sales.orders loaded --at "$first_snapshot" &&
  contains "tag reported" "^tag loaded of sales.orders points at snapshot $first_snapshot"
run "table scan --as-of tag" 0 "$meshwork" table scan --warehouse "$wh" sales.orders --as-of loaded --format csv &&
  contains "time travel by tag reads the first rows" '^3,' &&
  contains "time travel shows the old column name" '^id,ts,customer,amount$'
run "table scan --as-of time" 0 "$meshwork" table scan --warehouse "$wh" sales.orders --as-of '2999-01-01 00:00:00' \
  --format csv && contains "time travel by time reads the latest" '^9,'
run "table scan --as-of nonsense" 2 "$meshwork" table scan --warehouse "$wh" sales.orders --as-of soon &&
  contains "as-of error says what it accepts" 'not a snapshot id, a branch or tag, or a timestamp'
run "table rollback" 0 "$meshwork" table rollback --warehouse "$wh" sales.orders --to loaded &&
  contains "rollback reported" "at snapshot $first_snapshot again"
run "table scan after rollback" 0 "$meshwork" table scan --warehouse "$wh" sales.orders --format csv &&
  contains "rolled back rows" '^3,'
run "table expire" 0 "$meshwork" table expire --warehouse "$wh" sales.orders --older-than 0s &&
  contains "expire reports" '^[0-9]+ snapshots expired; [1-9][0-9]* files'
run "table snapshots after expire" 0 "$meshwork" table snapshots --warehouse "$wh" sales.orders &&
  contains "only the tagged current snapshot is left" "$first_snapshot  append +tag:loaded branch:main"
run "table drop --purge" 0 "$meshwork" table drop --warehouse "$wh" sales.orders --purge
run "table gone" 1 "$meshwork" table schema --warehouse "$wh" sales.orders

run "--version" 0 "$meshwork" --version &&
  contains "--version names meshwork" '^meshwork [0-9]+\.[0-9]+\.[0-9]+$' &&
  contains "--version names the loaded DuckDB" '^duckdb v1\.4\.4 \(.*libduckdb\.so\)$'

run "doctor" 0 "$meshwork" --data-dir "$scratch/data" doctor &&
  contains "doctor engine" 'ok +duckdb engine +queries run' &&
  contains "doctor data dir" "ok +data dir +$scratch/data is writable" &&
  contains "doctor summary" '^all checks passed' &&
  contains "doctor settings provenance" "data_dir = $scratch/data  \(flag: --data-dir\)"

run "doctor --json" 0 "$meshwork" --data-dir "$scratch/data" doctor --json &&
  contains "doctor --json ok" '"ok": true' &&
  contains "doctor --json checks" '"name": "duckdb engine"'

run "doctor with an unwritable data dir fails" 1 "$meshwork" --data-dir /proc/meshwork doctor &&
  contains "doctor reports the data dir" 'FAIL +data dir'

run "no command is a usage error" 2 "$meshwork"
run "unknown command" 2 "$meshwork" frobnicate && contains "unknown command named" 'frobnicate'
run "unknown flag" 2 "$meshwork" --frobnicate doctor && contains "unknown flag named" 'frobnicate'
run "bad log level" 2 "$meshwork" --log-level loud doctor && contains "bad level named" "unknown log level 'loud'"
run "help" 0 "$meshwork" --help && contains "help lists doctor" 'doctor'

printf 'engine:\n  thredas: 4\n' >"$scratch/bad.yaml"
run "config typo" 2 "$meshwork" --config "$scratch/bad.yaml" doctor &&
  contains "config typo located" "bad.yaml:2:3: unknown setting 'engine.thredas'.*did you mean 'engine.threads'"
run "config from the environment" 2 env MESHWORK_ENGINE_THREADS=lots "$meshwork" doctor &&
  contains "env layer named" 'MESHWORK_ENGINE_THREADS'
printf 'engine:\n  threads: 3\n' >"$scratch/good.yaml"
run "config file applies" 0 "$meshwork" --config "$scratch/good.yaml" --data-dir "$scratch/data" doctor &&
  contains "threads from file" 'queries run \(3 threads'

# An installed copy must find its libduckdb.so through RPATH, wherever the prefix is.
if cmake --install "$build_dir" --prefix "$scratch/prefix" >/dev/null; then
  run "installed --version" 0 "$scratch/prefix/bin/meshwork" --version &&
    contains "installed copy loads the installed library" "\($scratch/prefix/lib[^)]*/meshwork/libduckdb\.so\)"
else
  echo "FAIL cmake --install"
  failures=$((failures + 1))
fi

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all CLI checks passed"
