#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the state-store tests, installing
# Debian's packages first if needed. Prints the URL to use on stdout (nothing else).
#   url=$(.ci/postgres.sh)   # then SLUICE_TEST_POSTGRES="$url" cargo test
set -euo pipefail
port="${SLUICE_PG_PORT:-54329}"
dir="${SLUICE_PG_DIR:-/tmp/sluice-pg-$port}"
find_bin() {
  command -v "$1" 2>/dev/null && return
  ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1
}
initdb=$(find_bin initdb || true)
if [ -z "$initdb" ]; then
  echo "installing postgresql (Debian packages)" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; } >&2
  initdb=$(find_bin initdb)
fi
bindir=$(dirname "$initdb")
pg_ctl=$(find_bin pg_ctl)
psql=$(find_bin psql)
# PostgreSQL refuses to run as root: run it as the `postgres` user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
if ! as_pg "$pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_pg "$initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
  as_pg "$pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c max_connections=200" \
    start >/dev/null
fi
as_pg "$psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'sluice_test'" | grep -q 1 ||
  as_pg "$psql" -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE sluice_test" >/dev/null
echo "postgres://postgres@127.0.0.1:$port/sluice_test"
