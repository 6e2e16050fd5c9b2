#!/usr/bin/env bash
# Starts or stops the versitygw S3 server the S3 tests share (ctest fixture).
#   versitygw.sh start DIR BINARY   posix backend in DIR/root, bucket
#                                   "txflow-test", on a free 127.0.0.1 port;
#                                   writes DIR/endpoint and DIR/pid
#   versitygw.sh stop DIR           stops it and removes DIR
# The credentials are fixed test values for a loopback-only server.
set -euo pipefail
source "$(dirname "$0")/server_lib.sh"

cmd=${1:?start|stop}
dir=${2:?DIR}

case "$cmd" in
start)
  bin=${3:?BINARY}
  if [[ ! -x "$bin" ]]; then
    echo "versitygw not found at $bin; run tools/install-versitygw.sh $(dirname "$bin") (make test does)" >&2
    exit 1
  fi
  if [[ -f "$dir/pid" ]]; then kill "$(cat "$dir/pid")" 2>/dev/null || true; fi
  rm -rf "$dir"
  mkdir -p "$dir/root/txflow-test"
  launch() {
    ROOT_ACCESS_KEY_ID=txflow-test-key ROOT_SECRET_ACCESS_KEY=txflow-test-secret \
      setsid "$bin" --port "127.0.0.1:$1" --keep-alive --quiet \
      posix "$dir/root" >"$dir/server.log" 2>&1 </dev/null &
  }
  start_server "$dir" versitygw 100
  ;;
stop)
  stop_server "$dir" 10
  ;;
*)
  echo "usage: versitygw.sh start DIR BINARY | stop DIR" >&2
  exit 2
  ;;
esac
