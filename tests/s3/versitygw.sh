#!/usr/bin/env bash
# Starts or stops the versitygw S3 server the S3 tests share (ctest fixture).
#   versitygw.sh start DIR BINARY   posix backend in DIR/root, bucket
#                                   "txflow-test", on a free 127.0.0.1 port;
#                                   writes DIR/endpoint and DIR/pid
#   versitygw.sh stop DIR           stops it and removes DIR
# The credentials are fixed test values for a loopback-only server.
set -euo pipefail

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
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    ROOT_ACCESS_KEY_ID=txflow-test-key ROOT_SECRET_ACCESS_KEY=txflow-test-secret \
      setsid "$bin" --port "127.0.0.1:$port" --keep-alive --quiet \
      posix "$dir/root" >"$dir/server.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "$pid" > "$dir/pid"
        echo "http://127.0.0.1:$port" > "$dir/endpoint"
        echo "versitygw pid $pid on http://127.0.0.1:$port, data in $dir/root"
        exit 0
      fi
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
  done
  echo "versitygw did not start; log:" >&2
  cat "$dir/server.log" >&2 || true
  exit 1
  ;;
stop)
  if [[ -f "$dir/pid" ]]; then
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 10); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: versitygw.sh start DIR BINARY | stop DIR" >&2
  exit 2
  ;;
esac
