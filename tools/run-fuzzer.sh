#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS on a scratch copy of its seed corpus.
#   tools/run-fuzzer.sh BINARY SEED_DIR SECONDS
# Fails (and keeps the crashing input under build-fuzz/artifacts/) if the
# target crashes, leaks, hits a sanitizer report or breaks a property. New
# interesting inputs stay in the scratch corpus; copy them into SEED_DIR to
# keep them.
set -euo pipefail
bin=${1:?BINARY}; seeds=${2:?SEED_DIR}; secs=${3:?SECONDS}
name=$(basename "$bin")
work=$(mktemp -d "${TMPDIR:-/tmp}/txflow-fuzz-$name.XXXXXX")
artifacts="$(dirname "$bin")/artifacts/$name/"
mkdir -p "$artifacts"
trap 'rm -rf "$work"' EXIT
cp -r "$seeds"/. "$work"/ 2>/dev/null || true
log="$work.log"
if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$artifacts" -print_final_stats=1 "$work" >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "fuzz $name: FAILED; input saved under $artifacts" >&2
  rm -f "$log"
  exit 1
fi
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
echo "fuzz $name: ${secs}s, $execs executions, $cov, corpus $(ls "$work" | wc -l) inputs, no failure"
rm -f "$log"
