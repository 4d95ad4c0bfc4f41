#!/usr/bin/env bash
# Load test of `sluice serve` (issue 12, part 5): 200 concurrent clients for 30 s on
# loopback, mixing page reads, API reads and impact queries on a large lineage graph,
# while CLI `sluice check` runs write to the same SQLite state store in a loop. Prints a
# table of requests, errors and p50/p99 latency per request type; fails on any error.
#
#   bash bench/serve_load.sh                      # release build, 1M-node graph
#   NODES=200000 CLIENTS=50 SECONDS_=10 bash bench/serve_load.sh
#   PROFILE=debug bash bench/serve_load.sh        # the debug build (slow graph build)
#
# Env: NODES [1000000], CLIENTS [200], SECONDS_ [30], PORT [18291], PROFILE [release],
# KEEP=1 keeps the work directory (graph, state, logs); GRAPH_DIR=DIR reuses the manifest
# and impact.txt that `python3 bench/serve_graph.py DIR --nodes N` wrote.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
nodes="${NODES:-1000000}"
clients="${CLIENTS:-200}"
seconds="${SECONDS_:-30}"
port="${PORT:-18291}"
profile="${PROFILE:-release}"
target="${CARGO_TARGET_DIR:-$root/target}"

cd "$root"
if [[ "$profile" == release ]]; then
  cargo build --release --workspace --quiet --bins --example load
else
  cargo build --workspace --quiet --bins --example load
  profile=debug
fi
bin="$target/$profile/sluice"
load="$target/$profile/examples/load"
echo "serve_load: $profile build ($bin)"

work="$(mktemp -d)"
server="" writer=""
cleanup() {
  [[ -n "$writer" ]] && kill "$writer" 2>/dev/null && wait "$writer" 2>/dev/null || true
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"; wait "$server" 2>/dev/null || true
  fi
  if [[ "${KEEP:-0}" == 1 ]]; then echo "serve_load: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The config: examples/orders (real checks on real files, some failing), whose lineage
# is a generated dbt manifest of $nodes models (bench/serve_graph.py).
cp -r "$root/examples/orders/." "$work/"
t0=$(date +%s.%N)
if [[ -n "${GRAPH_DIR:-}" && -f "$GRAPH_DIR/manifest.json" ]]; then
  cp "$GRAPH_DIR/manifest.json" "$GRAPH_DIR/impact.txt" "$work/"   # made earlier by serve_graph.py
else
  python3 "$root/bench/serve_graph.py" "$work" --nodes "$nodes"
fi
printf '\nlineage:\n  dbt: manifest.json\n' >> "$work/sluice.yaml"
echo "serve_load: manifest $(du -h "$work/manifest.json" | cut -f1), written in $(echo "$(date +%s.%N) - $t0" | bc) s"
export SLUICE_STATE="sqlite:$work/state.db"
export SLUICE_TOKEN="load-$RANDOM"
cd "$work"
"$bin" check -c sluice.yaml >/dev/null 2>&1 || [[ $? -eq 1 ]]

"$bin" serve -c sluice.yaml --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done

# CLI writers: `sluice check` in a loop against the same state store, for as long as the
# load runs. Exit 1 is the example's failing checks; anything else is a failure.
(
  n=0 bad=0
  while :; do
    rc=0
    "$bin" check -c sluice.yaml >/dev/null 2>>"$work/writer.err" || rc=$?
    n=$((n + 1)); [[ $rc -le 1 ]] || bad=$((bad + 1))
    echo "$n $bad" > "$work/writer.count"
  done
) &
writer=$!

status=0
"$load" --url "http://127.0.0.1:$port" --clients "$clients" --seconds "$seconds" \
  --impact-paths "$work/impact.txt" || status=$?

kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null || true; writer=""
read -r runs bad < "$work/writer.count" || { runs=0; bad=0; }
locked=$(grep -ci "locked\|busy" "$work/writer.err" || true)
echo "CLI writer: $runs \`sluice check\` runs during the load, $bad failed (exit > 1), $locked messages about a locked or busy store"
[[ $bad -eq 0 && $locked -eq 0 ]] || { status=1; tail -n 20 "$work/writer.err"; }
echo "server: peak RSS $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$server/status)"
kill -TERM "$server"
if wait "$server"; then echo "server: exit 0 on SIGTERM"; else echo "server: exit $? on SIGTERM"; status=1; fi
server=""
if grep -qi "panicked\|database is locked" "$work/serve.log"; then
  echo "server log:"; grep -i -B2 -A5 "panicked\|database is locked" "$work/serve.log" | head -40; status=1
fi
exit $status
