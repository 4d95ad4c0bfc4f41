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
#                        made from requirements.txt when missing or out of date, with uv
#                        from tools.txt — see venv.sh)
#   SLUICE_AIRFLOW_VENV_READY=1  use SLUICE_AIRFLOW_VENV as it is (wheel.sh's fresh venv)
#   SLUICE_BIN           the sluice binary (default: `cargo build --workspace`, then
#                        $CARGO_TARGET_DIR/debug/sluice); a bare name (`sluice`) is looked up
#                        on PATH, the venv's bin/ first, and the DAG runs it by that name
#   SLUICE_AIRFLOW_ONLY  scenario names to run (space-separated; default all)
#   SLUICE_AIRFLOW_KEEP=1  keep the scratch folder (printed) for a look afterwards
#
# The scenarios run at the same time (each is mostly Python starting up); the script
# prints their results in order, and `airflow: N passed, N failed` last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
t0=$(date +%s)

venv=${SLUICE_AIRFLOW_VENV:-$HOME/.cache/sluice-airflow-venv}
# shellcheck source=tests/airflow/venv.sh
. "$here/venv.sh"
if [ "${SLUICE_AIRFLOW_VENV_READY:-}" != 1 ]; then
    ensure_venv "$venv"
fi
[ -x "$venv/bin/airflow" ] || { echo "airflow: no airflow in $venv"; exit 1; }
export PATH="$venv/bin:$PATH"

if [ -z "${SLUICE_BIN:-}" ]; then
    (cd "$repo" && cargo build --workspace --quiet)
    SLUICE_BIN=${CARGO_TARGET_DIR:-$repo/target}/debug/sluice
fi
case $SLUICE_BIN in
    */*) SLUICE_BIN=$(cd "$(dirname "$SLUICE_BIN")" && pwd)/$(basename "$SLUICE_BIN") ;;
    *) command -v "$SLUICE_BIN" >/dev/null || { echo "airflow: no $SLUICE_BIN on PATH"; exit 1; } ;;
esac
echo "airflow: Apache Airflow $(airflow version 2>/dev/null | tail -1) · $("$SLUICE_BIN" --version) ($(command -v "$SLUICE_BIN"))"

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

scenario() { # NAME DATE [VAR=VALUE...]: run the DAG for DATE, assert NAME's expectations
    local name=$1 date=$2; shift 2
    if [ -n "${SLUICE_AIRFLOW_ONLY:-}" ] && [[ " $SLUICE_AIRFLOW_ONLY " != *" $name "* ]]; then
        return 0
    fi
    local dir=$work/$name
    mkdir -p "$dir/home"
    cp "$work/template/airflow.db" "$dir/home/"
    cp -R "$repo/examples/airflow" "$dir/project"
    rm -rf "$dir/project/dags/__pycache__"
    names+=("$name")
    (
        s=$(date +%s) code=0
        (
            airflow_env "$dir/home" "$dir/project"
            export SLUICE_BIN "$@"
            echo "airflow: scenario $name ($date${*:+, $*})"
            case $name in breaker_open | blocked_skips) open_fx_breaker "$dir/project" "$date" ;; esac
            airflow dags test sluice_daily_revenue "$date" >"$dir/dags-test.log" 2>&1 || true
            python "$here/expect.py" "$name" --project "$dir/project" --date "$date" --log "$dir/dags-test.log"
        ) >"$dir/result.log" 2>&1 || code=$?
        echo "$code $(( $(date +%s) - s ))" >"$dir/status"
    ) &
}

names=()
s=$(date +%s)
scenario passing 2026-11-30
scenario failing 2026-12-01
scenario breaker_open 2026-11-30
scenario blocked_skips 2026-11-30 SLUICE_SKIP_WHEN_BLOCKED=1
wait
echo "airflow: ${#names[@]} scenarios in $(( $(date +%s) - s ))s (at the same time)"

passed=0 failed=0
for name in "${names[@]}"; do
    dir=$work/$name
    cat "$dir/result.log"
    read -r code secs <"$dir/status" || code=1
    if [ "$code" = 0 ]; then
        passed=$((passed + 1))
        echo "airflow: scenario $name passed (${secs}s)"
    else
        failed=$((failed + 1))
        echo "airflow: scenario $name FAILED (${secs}s); the end of airflow dags test's output:"
        sed 's/^/    | /' "$dir/dags-test.log" 2>/dev/null | tail -60
    fi
done

echo "airflow: $(( $(date +%s) - t0 ))s in all"
echo "airflow: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
