#!/usr/bin/env bash
# The Python module's tests: the wheel of pyproject.toml (built from cargo's dev profile in
# the shared target dir, or $SLUICE_WHEEL when a caller built it), installed with pytest,
# polars, pandas, pyarrow and mypy (requirements.txt, pinned) into a virtualenv under
# ~/.cache; then pytest on tests/python/ and mypy's stubtest on the native module's stubs.
#
# Environment: CARGO_TARGET_DIR (shared with cargo), SLUICE_WHEEL (a wheel to test),
# SLUICE_PY_TOOLS (tests/airflow/venv.sh), PYTHON (default /usr/bin/python3.11 if present).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
t0=$(date +%s)
# shellcheck source=tests/airflow/venv.sh
. "$repo/tests/airflow/venv.sh"
ensure_tools
export PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

wheel=${SLUICE_WHEEL:-}
if [ -z "$wheel" ]; then
    out=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pywheel.XXXXXX")
    trap 'rm -rf "$out"' EXIT
    s=$(date +%s)
    wheel=$(dev_wheel "$out")
    echo "python: built $(basename "$wheel") in $(( $(date +%s) - s ))s"
fi

venv=${SLUICE_PY_VENV:-$HOME/.cache/sluice-py-venv}
want=$(stamp_of "$here/requirements.txt" "$PYTHON")
if ! [ -x "$venv/bin/pytest" ] || [ "$(cat "$venv/.sluice-stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$venv"
    "$tools/uv" venv --quiet --python "$PYTHON" "$venv"
    VIRTUAL_ENV=$venv "$tools/uv" pip install --quiet -r "$here/requirements.txt"
    echo "$want" > "$venv/.sluice-stamp"
fi
VIRTUAL_ENV=$venv "$tools/uv" pip install --quiet --reinstall --no-deps "$wheel"

cd "$here"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" .
"$venv/bin/python" -m mypy.stubtest sluice._native
"$venv/bin/python" -m mypy --strict --no-incremental -p sluice
"$venv/bin/python" -m mypy --strict --no-incremental typed_user.py
echo "python: $(( $(date +%s) - t0 ))s in all"
