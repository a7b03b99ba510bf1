#!/usr/bin/env bash
# Our Avro manifests and manifest lists, decoded by two more independent implementations than
# avsc (icebird_interop): Apache Avro for Python (python3-avro) and Avro C's avrocat (avro-bin).
# Checks the Iceberg header metadata, field ids in the header schema, and that the decoded
# values add up to what meshwork wrote.
# Usage: avro_decoders_test.sh BUILD_DIR   (exit 77 = skipped: the Debian decoders are missing)
set -uo pipefail
build_dir="$1"
meshwork="$build_dir/meshwork"
python=/usr/bin/python3  # Debian's, where python3-avro lives (not a pyenv shim)
if [[ ! -x $python ]] || ! $python -c 'import avro.datafile' 2>/dev/null || ! command -v avrocat >/dev/null; then
  echo "SKIPPED: python3-avro or avro-bin (avrocat) missing; run scripts/bootstrap.sh" >&2
  exit 77
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
wh="$scratch/wh"

"$meshwork" table create --warehouse "$wh" sales.orders \
  --schema 'id long not null, ts timestamptz, region string, amount decimal(12,2)' \
  --partition 'day(ts), bucket(4, id), region' >/dev/null || fail "create"
{
  echo "id,ts,region,amount"
  for i in $(seq 1 60); do
    echo "$i,2026-01-0$((i % 3 + 1)) 10:00:00+00,r$((i % 2)),$i.25"
  done
} >"$scratch/first.csv"
"$meshwork" table append --warehouse "$wh" sales.orders --from "$scratch/first.csv" >/dev/null 2>&1 ||
  fail "append"
"$meshwork" table delete --warehouse "$wh" sales.orders --where "id <= 10" >/dev/null 2>&1 ||
  fail "delete"

# Python: every manifest list and manifest of the current snapshot.
$python -W ignore - "$wh/sales/orders/metadata" <<'PY' || fail "python3-avro check"
import glob, json, os, sys
from avro.datafile import DataFileReader
from avro.io import DatumReader

folder = sys.argv[1]
pointer = open(os.path.join(folder, "meshwork-pointer.txt")).read().strip()
metadata = json.load(open(pointer.replace("file://", "")))
current = [s for s in metadata["snapshots"] if s["snapshot-id"] == metadata["current-snapshot-id"]][0]

def read(path):
    reader = DataFileReader(open(path.replace("file://", ""), "rb"), DatumReader())
    meta = {k: v.decode() if isinstance(v, bytes) else v for k, v in reader.meta.items()}
    return meta, list(reader)

def field_ids(schema):
    found = []
    def walk(node):
        if isinstance(node, dict):
            if "field-id" in node:
                found.append(node["field-id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(schema)
    return found

meta, manifests = read(current["manifest-list"])
assert meta["avro.codec"] == "deflate", meta["avro.codec"]
assert meta["format-version"] == "2", meta
ids = field_ids(json.loads(meta["avro.schema"]))
for required in (500, 501, 502, 517, 515, 516, 503, 504, 505, 506, 512, 513, 514, 507):
    assert required in ids, f"manifest list schema lacks field-id {required}"
live_rows = 0
for manifest in manifests:
    entry_meta, entries = read(manifest["manifest_path"])
    for key in ("schema", "partition-spec", "partition-spec-id", "format-version", "content"):
        assert key in entry_meta, f"manifest header lacks {key}"
    assert entry_meta["content"] == "data"
    assert json.loads(entry_meta["partition-spec"])[0]["transform"] == "day"
    entry_ids = field_ids(json.loads(entry_meta["avro.schema"]))
    for required in (0, 1, 3, 4, 2, 134, 100, 101, 102, 103, 104, 108, 109, 110, 125, 128):
        assert required in entry_ids, f"manifest schema lacks field-id {required}"
    counted = 0
    for entry in entries:
        data_file = entry["data_file"]
        assert set(data_file["partition"]) == {"ts_day", "id_bucket", "region"}, data_file["partition"]
        assert 0 <= data_file["partition"]["id_bucket"] < 4
        if entry["status"] != 2:
            live_rows += data_file["record_count"]
            counted += 1
        assert data_file["lower_bounds"], "no lower bounds"
    assert counted == manifest["added_files_count"] + manifest["existing_files_count"], manifest
assert live_rows == int(current["summary"]["total-records"]) == 50, (live_rows, current["summary"])
print(f"python3-avro: {len(manifests)} manifests, {live_rows} live rows")
PY

# avrocat (Avro C): decodes every Avro file of the table; the record count of the manifests of
# the current snapshot must match what python saw, and no file may fail to decode.
decoded=0
for file in "$wh"/sales/orders/metadata/*.avro; do
  avrocat "$file" >"$scratch/out.json" 2>"$scratch/err.txt" || fail "avrocat cannot read $file: $(cat "$scratch/err.txt")"
  [[ -s "$scratch/out.json" ]] || fail "avrocat decoded nothing from $file"
  $python -c 'import json, sys; [json.loads(line) for line in open(sys.argv[1])]' "$scratch/out.json" ||
    fail "avrocat printed invalid JSON for $file"
  decoded=$((decoded + 1))
done
((decoded >= 4)) || fail "expected at least 4 Avro files, found $decoded"
grep -q '"added_files_count"' <(avrocat "$(ls "$wh"/sales/orders/metadata/snap-*.avro | head -1)") ||
  fail "avrocat output lacks manifest list fields"
echo "avrocat: decoded $decoded Avro files"
echo "ok: python3-avro and avrocat decode meshwork's manifests and manifest lists"
