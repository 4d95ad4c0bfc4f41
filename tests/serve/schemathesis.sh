#!/usr/bin/env bash
# Tests the OpenAPI document of `sluice serve` against the running server with
# schemathesis: every operation, every check (server errors, status codes, content types,
# response headers and schemas, negative data rejected, auth enforced...).
#
#   bash tests/serve/schemathesis.sh            # builds the debug binary (cargo build --workspace)
#   SLUICE_BIN=path/to/sluice bash tests/serve/schemathesis.sh
#
# Env: SCHEMATHESIS_VENV (default $HOME/.cache/sluice-schemathesis-venv), SERVE_PORT
# (default 18290), MAX_EXAMPLES (default 25 per operation), SCHEMATHESIS_SEED.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${SCHEMATHESIS_VENV:-$HOME/.cache/sluice-schemathesis-venv}"
port="${SERVE_PORT:-18290}"
max_examples="${MAX_EXAMPLES:-25}"
seed="${SCHEMATHESIS_SEED:-1}"
if [[ -z "${SLUICE_BIN:-}" ]]; then
  (cd "$root" && cargo build --workspace --quiet)
fi
bin="${SLUICE_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/sluice}"
req="$root/tests/serve/requirements.txt"
if ! cmp -s "$req" "$venv/.requirements" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.requirements"
fi

work="$(mktemp -d)"
server=""
cleanup() {
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Two configs: examples/orders (failing checks, samples, open breakers, history) and
# examples/lineage (a graph from sluice.yaml, a dbt manifest and OpenLineage events, with
# stages and exposures), copied with the fixture its config names by a relative path.
mkdir -p "$work/examples" "$work/tests/fixtures"
cp -r "$root/examples/orders" "$root/examples/lineage" "$work/examples/"
cp -r "$root/tests/fixtures/dbt_project" "$work/tests/fixtures/"
export SLUICE_TOKEN="schemathesis-$RANDOM$RANDOM"

status=0
for example in orders lineage; do
  echo "=== schemathesis: examples/$example ==="
  export SLUICE_STATE="sqlite:$work/$example.db"
  cd "$work/examples/$example"
  # A run first, so there are breakers, runs, history and an audit log to read. The
  # examples' data fails some checks on purpose: exit 1 is expected.
  "$bin" check -c sluice.yaml >/dev/null 2>&1 || [[ $? -eq 1 ]]

  "$bin" serve -c sluice.yaml --addr "127.0.0.1:$port" >"$work/serve-$example.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$work/serve-$example.log"; echo "sluice serve did not start" >&2; exit 1; }
    sleep 0.1
  done

  # One worker: hypothesis's lambda-source cache is not thread-safe on Python 3.11
  # ("AST constructor recursion depth mismatch" with several).
  run=0
  "$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $SLUICE_TOKEN" \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --generation-database none \
    --workers 1 \
    --no-color \
    || run=$?

  # The server must still be up, and must not have panicked.
  if ! kill -0 "$server" 2>/dev/null; then
    echo "sluice serve died during the run:" >&2; cat "$work/serve-$example.log" >&2; exit 1
  fi
  if grep -q "panicked" "$work/serve-$example.log"; then
    echo "sluice serve panicked:" >&2; grep -B2 -A10 "panicked" "$work/serve-$example.log" >&2; exit 1
  fi
  kill -TERM "$server"
  wait "$server" || { echo "sluice serve did not exit 0 on SIGTERM" >&2; run=1; }
  server=""
  if [[ $run -ne 0 ]]; then
    echo "--- server log (tail) ---" >&2; tail -n 40 "$work/serve-$example.log" >&2
    status=1
  fi
done
exit $status
