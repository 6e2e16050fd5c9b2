#!/usr/bin/env bash
# The long variants of the hardening tests whose fast variants run in
# `make test` (docs/reliability.md has the figures and what each proves).
#   tools/reliability-long.sh [FUZZ_SECONDS_PER_TARGET] [KILLS] [STORM_ROUNDS] [ROWS]
# Defaults: 3600 s per fuzz target, 300 kills of `txflow run`, 20 fault-storm
# rounds, 1,000,000 records; local and S3 roots. Prints one line per figure.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz=${1:-3600}; kills=${2:-300}; rounds=${3:-20}; rows=${4:-1000000}

make --no-print-directory build
tools/install-versitygw.sh build/tools/bin
export TXFLOW_STORM_ROWS=$rows TXFLOW_STORM_ROUNDS=$rounds TXFLOW_RUN_KILLS=$kills
export TXFLOW_HUGE_LINE_MB=1024
ctest --test-dir build -R 'Reliability|Kill|HostileInput' --timeout 36000 -j 2 -V 2>&1 |
  grep -E 'fault storm:|kill storm:|kills survived|tests passed|Failed|FAILED'
make --no-print-directory fuzz FUZZ_SECONDS="$fuzz"
