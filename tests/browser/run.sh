#!/usr/bin/env bash
# The dashboard's end-to-end test in a real headless Chromium (Debian's `chromium` and
# `chromium-driver`, driven by Selenium from PyPI):
#   1. copies tests/browser/fixture (a feed with defects, what it feeds, a report) to a
#      temp folder, with a temp SQLite state store;
#   2. runs `sluice check` on it twice (the feed's breaker opens: a red node; two points
#      of metric history), the second with `--format html --output run.html`;
#   3. starts `sluice serve` on a free loopback port with a token;
#   4. runs test_dashboard.py against it, and on the HTML report of the second run
#      (screenshots to $SLUICE_SCREENSHOTS: a temp folder by default, so a run leaves the
#      checkout clean; SLUICE_SCREENSHOTS=docs/screenshots refreshes the README's);
#   5. stops the server (SIGTERM) and checks it exits 0.
# Skips (exit 0, saying why) only when Chromium cannot be installed.
#
#   tests/browser/run.sh            # the debug binary of $CARGO_TARGET_DIR (or target/)
#   SLUICE_BIN=path/to/sluice tests/browser/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
started=$(date +%s)

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "browser: installing chromium and chromium-driver" >&2
    apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; } || true
  fi
fi
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "browser: SKIPPED — chromium and chromium-driver are not installed and could not be (apt-get install -y chromium chromium-driver)" >&2
  # CI asks for the test to run: there a missing browser is a failure, not a skip.
  [ "${SLUICE_REQUIRE_BROWSER:-0}" = 1 ] && exit 1
  exit 0
fi

bin="${SLUICE_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/sluice}"
if [ ! -x "$bin" ]; then
  cargo build --workspace
fi
python="$(tests/browser/venv.sh)"

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cp -r tests/browser/fixture/. "$work/"
export SLUICE_STATE="sqlite:$work/state.db"
# A failing run exits 1: that is the point (a red node). The second run also writes the
# standalone HTML report, which the test opens from the file.
for args in "" "--format html --output $work/run.html"; do
  # shellcheck disable=SC2086
  ( cd "$work" && "$bin" -q check -c sluice.yaml $args ) >/dev/null && { echo "browser: the fixture's check should fail" >&2; exit 1; } || [ $? = 1 ]
done

token="browser-test-$RANDOM$RANDOM"
( cd "$work" && SLUICE_TOKEN="$token" exec "$bin" serve -c sluice.yaml --addr 127.0.0.1:0 ) 2>"$work/serve.log" &
server=$!
url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/serve.log" | head -1)"
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "browser: the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
echo "browser: sluice serve at $url" >&2

shots="${SLUICE_SCREENSHOTS:-$work/screenshots}"
mkdir -p "$shots"
status=0
"$python" tests/browser/test_dashboard.py --url "$url" --token "$token" --report "$work/run.html" --screenshots "$shots" || status=$?

kill -TERM "$server"
code=0
wait "$server" || code=$?
server=""
if [ "$code" != 0 ]; then
  echo "browser: sluice serve exited $code after SIGTERM" >&2
  cat "$work/serve.log" >&2
  status=1
fi
echo "browser: $( [ $status = 0 ] && echo passed || echo FAILED ) in $(( $(date +%s) - started ))s" >&2
exit $status
