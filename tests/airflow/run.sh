#!/usr/bin/env bash
# The Airflow contract, on a real Apache Airflow 3: runs the example DAG
# (examples/airflow/dags/sluice_daily_revenue.py) with `airflow dags test` against the
# sluice binary built from this tree, and asserts task states, XCom and logs:
#
#   passing       good data: every task succeeds, XCom holds the JSON summaries
#   failing       bad data: the gate fails, publish is upstream_failed, the data quarantined
#   breaker_open  a breaker open upstream: the gate fails, its log names it and its owner
#   blocked_skips the same with --blocked-exit-code 99: the gate (and what follows) skipped
#
# Each scenario runs in a scratch copy of examples/airflow/ with its own AIRFLOW_HOME
# (SQLite; `airflow db migrate` once, its database copied). Exits 1 if any assertion fails.
#
# Environment:
#   SLUICE_AIRFLOW_VENV  the virtualenv with Airflow (default ~/.cache/sluice-airflow-venv;
#                        created from requirements.txt when missing or out of date)
#   SLUICE_BIN           the sluice binary (default: `cargo build --workspace`, then
#                        $CARGO_TARGET_DIR/debug/sluice)
#   SLUICE_AIRFLOW_ONLY  scenario names to run (space-separated; default all)
#   SLUICE_AIRFLOW_KEEP=1  keep the scratch folder (printed) for a look afterwards
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
t0=$(date +%s)

venv=${SLUICE_AIRFLOW_VENV:-$HOME/.cache/sluice-airflow-venv}
# shellcheck source=tests/airflow/venv.sh
. "$here/venv.sh"
ensure_venv "$venv"

if [ -z "${SLUICE_BIN:-}" ]; then
    (cd "$repo" && cargo build --workspace --quiet)
    SLUICE_BIN=${CARGO_TARGET_DIR:-$repo/target}/debug/sluice
fi
SLUICE_BIN=$(cd "$(dirname "$SLUICE_BIN")" && pwd)/$(basename "$SLUICE_BIN")
echo "airflow: $("$venv/bin/airflow" version 2>/dev/null | tail -1) · $("$SLUICE_BIN" --version) ($SLUICE_BIN)"

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-airflow.XXXXXX")
if [ "${SLUICE_AIRFLOW_KEEP:-}" = 1 ]; then
    echo "airflow: working in $work (kept)"
else
    trap 'rm -rf "$work"' EXIT
fi

# Airflow reads these; nothing of the caller's AIRFLOW_* leaks in.
for v in $(env | sed -n 's/^\(AIRFLOW[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
unset SLUICE_SKIP_WHEN_BLOCKED SLUICE_PROJECT SLUICE_STATE SLUICE_CONFIG SLUICE_NO_STATE SLUICE_LOG
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export PATH="$venv/bin:$PATH"

airflow_env() { # HOME_DIR PROJECT: the environment of one Airflow
    export AIRFLOW_HOME=$1
    export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$1/airflow.db"
    export AIRFLOW__CORE__DAGS_FOLDER=$2/dags
}

s=$(date +%s)
mkdir -p "$work/template"
(airflow_env "$work/template" "$repo/examples/airflow" && airflow db migrate >"$work/migrate.log" 2>&1) || {
    cat "$work/migrate.log"; echo "airflow: db migrate failed"; exit 1; }
echo "airflow: db migrate $(( $(date +%s) - s ))s"

# Opens the breaker of fx_rates (owner treasury), upstream of daily_revenue: the treasury's
# own run of its checks fails on a bad rate, then their feed is put right — the breaker
# stays open until their checks pass again or someone resets it.
open_fx_breaker() { # PROJECT DATE
    local good="$1/reference/fx_rates.csv"
    cp "$good" "$1/fx.good"
    echo "JPY,-0.0061" >> "$good"
    local code=0
    (cd "$1" && "$SLUICE_BIN" check --dataset fx_rates --var "ds=$2" >/dev/null 2>&1) || code=$?
    mv "$1/fx.good" "$good"
    [ "$code" = 1 ] || { echo "airflow: opening the fx_rates breaker: sluice exited $code, not 1"; return 1; }
}

passed=0 failed=0
scenario() { # NAME DATE [VAR=VALUE...]: run the DAG for DATE and assert NAME's expectations
    local name=$1 date=$2; shift 2
    if [ -n "${SLUICE_AIRFLOW_ONLY:-}" ] && [[ " $SLUICE_AIRFLOW_ONLY " != *" $name "* ]]; then
        return 0
    fi
    local dir=$work/$name s code=0
    s=$(date +%s)
    mkdir -p "$dir/home"
    cp "$work/template/airflow.db" "$dir/home/"
    cp -R "$repo/examples/airflow" "$dir/project"
    rm -rf "$dir/project/dags/__pycache__"
    echo "airflow: scenario $name ($date)"
    (
        airflow_env "$dir/home" "$dir/project"
        export SLUICE_BIN "$@"
        case $name in breaker_open | blocked_skips) open_fx_breaker "$dir/project" "$date" ;; esac
        airflow dags test sluice_daily_revenue "$date" >"$dir/dags-test.log" 2>&1 || true
        python "$here/expect.py" "$name" --project "$dir/project" --date "$date" --log "$dir/dags-test.log"
    ) || code=$?
    if [ "$code" = 0 ]; then
        passed=$((passed + 1))
        echo "airflow: scenario $name passed in $(( $(date +%s) - s ))s"
    else
        failed=$((failed + 1))
        echo "airflow: scenario $name FAILED in $(( $(date +%s) - s ))s; the output of airflow dags test:"
        sed 's/^/    | /' "$dir/dags-test.log" | tail -80
    fi
}

scenario passing 2026-11-30
scenario failing 2026-12-01
scenario breaker_open 2026-11-30
scenario blocked_skips 2026-11-30 SLUICE_SKIP_WHEN_BLOCKED=1

echo "airflow: $(( $(date +%s) - t0 ))s in all"
echo "airflow: $passed passed, $failed failed"
[ "$failed" = 0 ]
