#!/usr/bin/env bash
# `make demo`: the pipeline live, as in production. `txflow gen --append`
# keeps appending BankSim-shaped records to a source at RATE; `txflow run`
# runs X (a tick every EVERY) and Y (continuous) on ROOT, with metrics on
# METRICS_ADDR; every STATUS_EVERY seconds `txflow status` is printed under
# the progress line. Ctrl-C (or DURATION seconds) stops both cleanly, then
# `txflow report` writes REPORT.
#
# Commands or flags this binary lacks (status, report, --metrics-addr) are
# left out with one line saying so, and the demo runs without them.
#
# Usage: tools/run-demo-live.sh [TXFLOW]; settings from the environment:
#   DIR=data/live  ROOT=./bucket-live  RATE=5000/s  EVERY=5s
#   METRICS_ADDR=127.0.0.1:9464  STATUS_EVERY=5  DURATION=0 (until Ctrl-C)
#   REPORT=$ROOT/report.html  LOG=build/demo-live.log
set -euo pipefail
shopt -s nullglob
txflow=${1:-build/txflow}
dir=${DIR:-data/live}
root=${ROOT:-./bucket-live}
rate=${RATE:-5000/s}
every=${EVERY:-5s}
metrics_addr=${METRICS_ADDR:-127.0.0.1:9464}
status_every=${STATUS_EVERY:-5}
duration=${DURATION:-0}
report=${REPORT:-$root/report.html}
log=${LOG:-build/demo-live.log}
source_csv=$dir/transactions.csv

has_command() { "$txflow" "$1" --help >/dev/null 2>&1; }
has_flag() { "$txflow" "$1" --help 2>/dev/null | grep -q -- "--$2 "; }
say() {  # erases a progress line first, on a terminal
  if [[ -t 1 ]]; then printf "\r\033[K"; fi
  printf "%s\n" "demo: $*"
}

mkdir -p "$dir" "$(dirname "$log")"
: > "$log"
run_flags=(--source "$source_csv" --root "$root" --every "$every"
           --max-chunks-per-tick 16 --importance "$dir/CustomerImportance.csv")
if has_flag run metrics-addr; then
  run_flags+=(--metrics-addr "$metrics_addr")
  say "metrics: curl -s http://$metrics_addr/metrics"
else
  say "this txflow has no --metrics-addr; running without metrics"
fi

gen_pid='' run_pid=''
stop_all() {
  # The source first, so X does not chase a moving end while Y stops.
  [[ -n "$gen_pid" ]] && kill -TERM "$gen_pid" 2>/dev/null || true
  [[ -n "$run_pid" ]] && kill -TERM "$run_pid" 2>/dev/null || true
}
stopping=0
trap 'stopping=1; stop_all' INT TERM
# Whatever ends this script (an error under set -e too) stops its children.
trap 'stop_all' EXIT

say "appending to $source_csv at $rate (log: $log)"
"$txflow" gen --out "$dir" --append --rate "$rate" 2>>"$log" &
gen_pid=$!
# The importance table is written before the first record.
for _ in $(seq 100); do
  [[ -s "$dir/CustomerImportance.csv" && -s "$source_csv" ]] && break
  sleep 0.1
done

say "txflow run ${run_flags[*]}"
if [[ -t 2 ]]; then
  # A terminal: run's progress line goes to it (its log lines are silenced
  # there); errors still reach the log through `txflow status`.
  "$txflow" run "${run_flags[@]}" &
else
  "$txflow" run "${run_flags[@]}" 2>>"$log" &
fi
run_pid=$!

show_status() {
  if has_command status; then
    "$txflow" status --root "$root" 2>&1 | sed 's/^/  /' || true
  else
    local chunks files
    chunks=("$root"/landing_zone/chunk-*.csv)
    files=("$root"/detections/detections_*.csv)
    echo "  (no txflow status in this build) chunks ${#chunks[@]}," \
      "detection files ${#files[@]}"
  fi
}

start=$SECONDS
last_status=$start
while (( stopping == 0 )); do
  if ! kill -0 "$run_pid" 2>/dev/null || ! kill -0 "$gen_pid" 2>/dev/null; then
    say "a process ended on its own; stopping"
    break
  fi
  if (( duration > 0 && SECONDS - start >= duration )); then break; fi
  if (( SECONDS - last_status >= status_every )); then
    last_status=$SECONDS
    say "status after $((SECONDS - start)) s:"
    show_status
  fi
  sleep 0.5
done
stop_all
rc=0
wait "$gen_pid" || { rc=$?; say "gen exited $rc"; }
wait "$run_pid" || { r=$?; rc=$r; say "run exited $r"; }
gen_pid='' run_pid=''  # waited for: the EXIT trap must not signal reused ids
trap - INT TERM
say "final status:"
show_status
if has_command report; then
  if "$txflow" report --root "$root" --out "$report" 2>>"$log"; then
    say "report: $report"
  else
    rc=1
    say "report failed (see $log)"
  fi
else
  say "this txflow has no report command; no report written"
fi
if (( rc == 0 )); then say "stopped cleanly"; fi
exit "$rc"
