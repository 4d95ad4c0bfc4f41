#!/usr/bin/env bash
# The Ballista identity tests (tests/ballista.rs), outside CI: building sluice with the
# `ballista` feature compiles DataFusion a second time (see the README, "Scale-out on
# Ballista"). Starts the loopback S3 server of the object-store tests (.ci/s3.sh), then
# runs the tests, which start a scheduler and two executors themselves.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sluice-target}"
s3_info="$(.ci/s3.sh)"
SLUICE_TEST_S3="$(echo "$s3_info" | sed -n 1p)"
SLUICE_TEST_S3_CREDENTIALS="$(echo "$s3_info" | sed -n 2p)"
export SLUICE_TEST_S3 SLUICE_TEST_S3_CREDENTIALS SLUICE_REQUIRE_LAKE=1
started=$(date +%s)
cargo test --features ballista --test ballista --no-run
echo "ballista: built in $(( $(date +%s) - started ))s"
started=$(date +%s)
cargo test --features ballista --test ballista -- --test-threads 2 "$@"
echo "ballista: tests took $(( $(date +%s) - started ))s"
