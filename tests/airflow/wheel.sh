#!/usr/bin/env bash
# The Python packaging, tested the way users install: builds the wheel of pyproject.toml
# (maturin: the `sluice` module and its `sluice` console script) from cargo's dev profile
# and target dir (or takes $SLUICE_WHEEL, built by the caller), installs it into a
# fresh virtualenv together with Apache Airflow (pinned: requirements.txt), checks that
# the two install side by side without a dependency conflict, that the venv's `sluice` is
# the wheel's and runs, and then runs every scenario of run.sh with the DAG calling
# `sluice` from PATH (SLUICE_BIN unset in the DAG's sense: the bare name).
#
# A release wheel (for publishing) is `maturin build --release`: about 30 minutes on two
# cores, so the tests build the dev profile, which reuses what `cargo test` compiled.
#
# Environment: CARGO_TARGET_DIR (shared with cargo), SLUICE_WHEEL, SLUICE_PY_TOOLS (venv.sh),
# SLUICE_AIRFLOW_ONLY and SLUICE_AIRFLOW_KEEP (run.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
t0=$(date +%s)
# shellcheck source=tests/airflow/venv.sh
. "$here/venv.sh"
ensure_tools

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

wheel=${SLUICE_WHEEL:-}
if [ -z "$wheel" ]; then
    s=$(date +%s)
    wheel=$(dev_wheel "$work/wheels")
    echo "wheel: built $(basename "$wheel") ($(du -m "$wheel" | cut -f1) MB) in $(( $(date +%s) - s ))s"
fi

venv=$work/venv
fresh_venv "$venv" "$wheel"
VIRTUAL_ENV=$venv "$tools/uv" pip check --quiet || {
    echo "wheel: sluice and Apache Airflow conflict in one venv"; exit 1; }
echo "wheel: sluice and Apache Airflow $("$venv/bin/airflow" version 2>/dev/null | tail -1) installed together, no conflict"

want="sluice $(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -1)"
got=$("$venv/bin/sluice" --version)
[ "$got" = "$want" ] || { echo "wheel: $venv/bin/sluice --version says '$got', not '$want'"; exit 1; }
echo "wheel: $venv/bin/sluice --version: $got"
"$venv/bin/python" -c 'import sluice; print("wheel: import sluice", sluice.__version__, "beside Airflow")'

SLUICE_AIRFLOW_VENV=$venv SLUICE_AIRFLOW_VENV_READY=1 SLUICE_BIN=sluice "$here/run.sh"
echo "wheel: $(( $(date +%s) - t0 ))s in all"
