#!/usr/bin/env bash
# The 20-check suite (bench/sluice.yaml) on the shared generator's data read from local disk
# and from an S3 API server on loopback (.ci/s3.sh: moto), alternately, in one run. Prints
# each run's wall time, the medians, the ratio S3/local and whether the verdicts agree.
#
#   N=5000000 RUNS=3 bench/object_store.sh
#
# Needs: the release binary ($SLUICE_BIN, default $CARGO_TARGET_DIR/release/sluice), a
# Python with numpy and pyarrow for the generator ($GEN_PYTHON), and .ci/s3.sh's venv.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$HERE/.."
SHARED="$(cd "$ROOT/../shared/bench" && pwd)"
N="${N:-5000000}"
RUNS="${RUNS:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sluice-target}"
BIN="${SLUICE_BIN:-$CARGO_TARGET_DIR/release/sluice}"
GEN_PYTHON="${GEN_PYTHON:-python3}"
DATA="${DATA_DIR:-$HERE/data/n$N}"
NOW="2025-01-01T00:00:00"
if [ ! -f "$DATA/orders.parquet" ]; then
  echo "== generating $N rows into $DATA"
  "$GEN_PYTHON" "$SHARED/gen_data.py" "$N" --out-dir "$DATA" >/dev/null
fi
mapfile -t s3 < <("$ROOT/.ci/s3.sh")
endpoint="${s3[0]}"; creds="${s3[1]}"
export AWS_SHARED_CREDENTIALS_FILE="$creds"
PY="${SLUICE_LAKE_VENV:-$HOME/.cache/sluice-s3-venv}/bin/python"
prefix="bench-n$N"
"$PY" - "$endpoint" "$creds" "$DATA" "$prefix" <<'PY'
import sys, os, configparser, boto3
endpoint, creds, data, prefix = sys.argv[1:]
c = configparser.ConfigParser(); c.read(creds); k = c["sluice-test"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=k["aws_access_key_id"], aws_secret_access_key=k["aws_secret_access_key"])
have = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket="sluice-test", Prefix=prefix + "/").get("Contents", [])}
for name in ("orders.parquet", "orders_target.parquet"):
    path = os.path.join(data, name)
    key = f"{prefix}/{name}"
    if have.get(key) != os.path.getsize(path):
        s3.upload_file(path, "sluice-test", key)
PY
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$HERE/sluice.yaml" "$work/local.yaml"
{ cat "$HERE/sluice.yaml"; printf 'storage:\n  s3://sluice-test/:\n    endpoint: %s\n    region: us-east-1\n    profile: sluice-test\n' "$endpoint"; } > "$work/s3.yaml"
run() { # run NAME CONFIG ORDERS TARGET
  local start end
  start=$(date +%s.%N)
  "$BIN" -q check --no-state --config "$work/$2" --var "ORDERS=$3" --var "TARGET=$4" --now "$NOW" --format json --output "$work/$1.json" || [ $? -le 1 ]
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
local_times=(); s3_times=()
for i in $(seq "$RUNS"); do
  t=$(run local local.yaml "$DATA/orders.parquet" "$DATA/orders_target.parquet"); local_times+=("$t")
  t=$(run s3 s3.yaml "s3://sluice-test/$prefix/orders.parquet" "s3://sluice-test/$prefix/orders_target.parquet"); s3_times+=("$t")
  echo "run $i: local ${local_times[-1]} s, S3 ${s3_times[-1]} s"
done
python3 - "$work/local.json" "$work/s3.json" "${local_times[*]}" "${s3_times[*]}" "$N" <<'PY'
import json, sys, statistics
a, b = (json.load(open(p)) for p in sys.argv[1:3])
lt = [float(x) for x in sys.argv[3].split()]; st = [float(x) for x in sys.argv[4].split()]
va = {c["name"]: c["status"] for c in a["checks"]}; vb = {c["name"]: c["status"] for c in b["checks"]}
ml, ms = statistics.median(lt), statistics.median(st)
print(f"{sys.argv[5]} rows, 20-check suite: local disk median {ml:.2f} s, loopback S3 (moto) median {ms:.2f} s, ratio S3/local {ms/ml:.2f}x")
print(f"verdicts agree: {va == vb} ({sum(v == 'fail' for v in va.values())} failing checks on both)" if va == vb else f"VERDICTS DIFFER: {va} vs {vb}")
PY
