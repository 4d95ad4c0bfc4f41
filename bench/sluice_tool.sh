#!/usr/bin/env bash
# Adapter for ../shared/bench/run_all.sh: runs sluice on the bench config and writes the
# harness's common result JSON (see ../shared/bench/common.py).
#   sluice_tool.sh ORDERS TARGET NOW OUT      |  sluice_tool.sh --version
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="${SLUICE_BIN:-${CARGO_TARGET_DIR:-$HERE/../target}/release/sluice}"
if [ "${1:-}" = "--version" ]; then exec "$BIN" --version; fi
orders="$1"; target="$2"; now="$3"; out="$4"
report="$(mktemp)"
start=$(date +%s.%N)
set +e
"$BIN" -q check --config "$HERE/sluice.yaml" --var "ORDERS=$orders" --var "TARGET=$target" --now "$now" --format json --output "$report"
code=$?
set -e
end=$(date +%s.%N)
[ "$code" -le 1 ] || { echo "sluice failed with exit $code" >&2; exit "$code"; }
python3 - "$report" "$out" "$start" "$end" <<'PY'
import json, sys
report, out, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
r = json.load(open(report))
checks = {}
for c in r["checks"]:
    outcome = {"pass": "pass", "warn": "pass", "fail": "fail"}.get(c["status"], "error")
    checks[c["name"]] = {"outcome": outcome, "observed": c["observed"]}
rows = next((d["rows_scanned"] for d in r["datasets"] if d["name"] == "orders"), None)
json.dump({"tool": "sluice", "version": r["sluice_version"], "n_rows": rows,
           "inner_seconds": round(end - start, 3), "checks": checks}, open(out, "w"), indent=1)
for cid in sorted(checks):
    print(f"[sluice] {cid} {checks[cid]['outcome'].upper()}")
PY
rm -f "$report"
