#!/usr/bin/env bash
# The main job behind `make run`: make sure a dataset exists, run the pipeline
# (txflow run: chunker and detector together) on the local root until the
# source is drained, and print its summary.
# Usage: tools/run-demo.sh TXFLOW SOURCE IMPORTANCE ROOT DEMO_DIR DEMO_ROWS
set -euo pipefail
txflow=$1 source=$2 importance=$3 root=$4 demo_dir=$5 demo_rows=$6

if [[ "$source" == "$demo_dir/transactions.csv" && ! -f "$source" ]]; then
  echo "make run: generating a ${demo_rows}-record demo dataset in $demo_dir"
  "$txflow" gen --out "$demo_dir" --rows "$demo_rows" --seed 1
fi
if [[ "$source" != s3://* && ! -f "$source" ]]; then
  echo "make run: source $source not found (set SOURCE=...)" >&2
  exit 1
fi
importance_flag=()
if [[ -n "$importance" && ( "$importance" == s3://* || -f "$importance" ) ]]; then
  importance_flag=(--importance "$importance")
fi

log=build/make-run.log
echo "make run: txflow run --source $source --root $root ${importance_flag[*]} --drain"
echo "make run: per-chunk log in $log"
"$txflow" run --source "$source" --root "$root" "${importance_flag[@]}" --drain 2> "$log" || {
  tail -1 "$log" >&2
  exit 1
}
echo "  chunks:      $root/landing_zone/"
echo "  quarantine:  $root/quarantine/ (rows that could not be used, if any)"
echo "  state:       $root/state/ (offset.csv, detector checkpoint)"
echo "Run it again and it continues where it stopped: nothing is chunked or detected twice."
