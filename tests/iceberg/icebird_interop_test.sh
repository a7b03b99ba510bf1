#!/usr/bin/env bash
# Interoperability: tables meshwork writes (partitioned by several transforms, several snapshots)
# are read by icebird, an independent Iceberg reader, with exactly the rows meshwork returns — at
# the current snapshot and at an older one.
# Usage: icebird_interop_test.sh BUILD_DIR   (exit 77 = skipped: node or the e2e clients missing)
set -uo pipefail
build_dir="$1"
meshwork="$build_dir/meshwork"
e2e="$(cd "$(dirname "$0")/../e2e" && pwd)"
if ! command -v node >/dev/null || [[ ! -d "$e2e/node_modules/icebird" ]]; then
  echo "SKIPPED: node or tests/e2e/node_modules missing; run scripts/bootstrap.sh" >&2
  exit 77
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
wh="$scratch/wh"
table="sales.orders"
types="id=long,ts=timestamptz,name=string,region=string,amount=decimal,day=date,score=double,flag=boolean,customer=uuid"

"$meshwork" table create --warehouse "$wh" "$table" \
  --schema 'id long not null, ts timestamptz, name string, region string, amount decimal(12,2), day date, score double, flag boolean, customer uuid' \
  --partition 'day(ts), bucket(8, id), truncate(3, name), region, month(day)' >/dev/null ||
  fail "create"

# Two appends: 300 generated rows with NULLs and unicode, then 40 more.
awk 'BEGIN {
  print "id,ts,name,region,amount,day,score,flag,customer";
  for (i = 0; i < 300; i++) {
    ts = (i % 17 == 0) ? "" : sprintf("2026-%02d-%02d %02d:%02d:00+00", 1 + i % 12, 1 + i % 28, i % 24, i % 60);
    name = (i % 11 == 0) ? "" : ((i % 5 == 0) ? "Zoë-" i : "name-" i);
    region = (i % 13 == 0) ? "" : ((i % 2) ? "emea" : "amer");
    printf "%d,%s,%s,%s,%d.%02d,2025-%02d-%02d,%s,%s,%08x-0000-4000-8000-%012x\n", i, ts, name, region, i * 3, i % 100, 1 + i % 12, 1 + i % 27, i * 0.25, (i % 3 == 0) ? "true" : "false", i, i * 7
  }
}' >"$scratch/first.csv"
awk 'BEGIN { print "id,ts,name,region,amount,day,score,flag,customer";
  for (i = 1000; i < 1040; i++) printf "%d,2026-06-%02d 12:00:00+00,late-%d,apac,%d.50,2026-06-01,,true,\n", i, 1 + i % 28, i, i }' >"$scratch/second.csv"
"$meshwork" table append --warehouse "$wh" "$table" --from "$scratch/first.csv" >/dev/null 2>&1 || fail "first append"
# Text output: snapshot ids are 63-bit and would lose digits as JavaScript numbers.
first_snapshot=$("$meshwork" table snapshots --warehouse "$wh" "$table" | awk 'NR == 1 {print $2}')
"$meshwork" table append --warehouse "$wh" "$table" --from "$scratch/second.csv" >/dev/null 2>&1 || fail "second append"

table_dir="$wh/sales/orders"
compare() {  # compare LABEL METADATA_FILE [--as-of ID]
  local label="$1" metadata="$2"
  shift 2
  "$meshwork" table scan --warehouse "$wh" "$table" --format json "$@" >"$scratch/ours.jsonl" ||
    fail "$label: meshwork scan"
  node "$e2e/icebird_read.mjs" "file://$table_dir" "$metadata" >"$scratch/theirs.jsonl" ||
    fail "$label: icebird could not read the table"
  node "$e2e/compare_rows.mjs" "$scratch/ours.jsonl" "$scratch/theirs.jsonl" "$types" ||
    fail "$label: icebird's rows differ from meshwork's"
  echo "ok   $label ($(wc -l <"$scratch/ours.jsonl") rows)"
}
current=$(basename "$(cat "$table_dir/metadata/meshwork-pointer.txt")")
older=$(cd "$table_dir/metadata" && ls 00001-*.metadata.json)
compare "current snapshot" "$current"
compare "older snapshot" "$older" --as-of "$first_snapshot"
[[ $(wc -l <"$scratch/ours.jsonl") == 300 ]] || fail "the older snapshot should have 300 rows"

# Schema evolution: rename a column, widen one, add one; files written before are read by id.
"$meshwork" table alter --warehouse "$wh" "$table" --rename region:area --add 'note string' >/dev/null ||
  fail "alter"
printf 'id,ts,name,area,amount,day,score,flag,customer,note\n5000,2026-07-01 08:00:00+00,evolved,emea,1.00,2026-07-01,0.5,true,,after\n' \
  >"$scratch/third.csv"
"$meshwork" table append --warehouse "$wh" "$table" --from "$scratch/third.csv" >/dev/null 2>&1 || fail "third append"
types="${types/region=string/area=string},note=string"
compare "after schema evolution" "$(basename "$(cat "$table_dir/metadata/meshwork-pointer.txt")")"
grep -q '"note":"after"' "$scratch/ours.jsonl" || fail "the added column lost its value"
# Copy-on-write delete and an overwrite by filter: icebird sees exactly the surviving rows.
"$meshwork" table delete --warehouse "$wh" "$table" --where "id < 50 or area = 'amer'" >/dev/null ||
  fail "delete"
printf 'id,ts,name,area,amount,day,score,flag,customer,note\n7000,2026-06-15 09:00:00+00,replaced,apac,2.00,2026-06-15,1.5,false,,over\n' \
  >"$scratch/fourth.csv"
"$meshwork" table overwrite --warehouse "$wh" "$table" --from "$scratch/fourth.csv" \
  --where "area = 'apac'" >/dev/null 2>&1 || fail "overwrite"
compare "after delete and overwrite" "$(basename "$(cat "$table_dir/metadata/meshwork-pointer.txt")")"

# Partition evolution, then compaction (which moves the old spec's files into the new spec):
# icebird must still see exactly our rows.
"$meshwork" table alter --warehouse "$wh" "$table" --partition 'bucket(4, id), area' >/dev/null ||
  fail "partition evolution"
awk 'BEGIN { print "id,ts,name,area,amount,day,score,flag,customer,note";
  for (i = 8000; i < 8030; i++) printf "%d,2026-08-%02d 10:00:00+00,new-%d,emea,%d.25,2026-08-01,%d.5,false,,spec1\n", i, 1 + i % 28, i, i, i }' \
  >"$scratch/fifth.csv"
"$meshwork" table append --warehouse "$wh" "$table" --from "$scratch/fifth.csv" >/dev/null 2>&1 ||
  fail "append after partition evolution"
compare "after partition evolution" "$(basename "$(cat "$table_dir/metadata/meshwork-pointer.txt")")"
"$meshwork" table compact --warehouse "$wh" "$table" >/dev/null 2>&1 || fail "compact"
compare "after compaction" "$(basename "$(cat "$table_dir/metadata/meshwork-pointer.txt")")"

# The Avro manifests and manifest lists decode with avsc, field ids and header metadata intact.
node "$e2e/avsc_decode.mjs" "$table_dir"/metadata/*.avro >"$scratch/avsc.txt" || fail "avsc decode"
[[ $(grep -c ' records (deflate)' "$scratch/avsc.txt") -ge 4 ]] || fail "avsc decoded too few files"
echo "ok   avsc decodes $(wc -l <"$scratch/avsc.txt") manifest files"
echo "icebird reads meshwork's tables"
