#!/usr/bin/env bash
# The main job behind `make run`: make sure a dataset exists, run the pipeline
# on the local root until the source is drained, print a summary.
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

echo "make run: txflow run --source $source --root $root ${importance_flag[*]} --drain"
set +e
out=$("$txflow" run --source "$source" --root "$root" "${importance_flag[@]}" --drain 2>&1)
rc=$?
set -e
echo "$out"
if [[ $rc -eq 2 && "$out" == *"not implemented yet"* ]]; then
  records=$(($(wc -l < "$source") - 1))
  echo
  echo "Summary"
  echo "  source:     $source ($records records)"
  echo "  importance: ${importance:-none}"
  echo "  pipeline:   not built yet (Mechanisms X and Y land in later issues);"
  echo "              the dataset above is ready for them."
  exit 0
fi
exit $rc
