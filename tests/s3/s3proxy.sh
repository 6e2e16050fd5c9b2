#!/usr/bin/env bash
# Starts or stops the s3proxy S3 server of the s3proxy tests (ctest fixture
# s3proxy_server), a second S3 implementation next to versitygw.
#   s3proxy.sh start DIR JAR   filesystem provider in DIR/data, bucket
#                              "txflow-test", on a free 127.0.0.1 port;
#                              writes DIR/endpoint and DIR/pid
#   s3proxy.sh stop DIR        stops it and removes DIR
# The credentials are fixed test values for a loopback-only server.
set -euo pipefail
source "$(dirname "$0")/server_lib.sh"

cmd=${1:?start|stop}
dir=${2:?DIR}

case "$cmd" in
start)
  jar=${3:?JAR}
  if [[ ! -s "$jar" ]]; then
    echo "s3proxy not found at $jar; run tools/install-s3proxy.sh $(dirname "$jar") (make test does)" >&2
    exit 1
  fi
  if ! command -v java >/dev/null; then
    echo "s3proxy needs java (Java 17); run tools/install-s3proxy.sh (make test does)" >&2
    exit 1
  fi
  if [[ -f "$dir/pid" ]]; then kill "$(cat "$dir/pid")" 2>/dev/null || true; fi
  rm -rf "$dir"
  # The filesystem provider's buckets are the directories of its basedir.
  mkdir -p "$dir/data/txflow-test"
  launch() {
    cat >"$dir/s3proxy.conf" <<CONF
s3proxy.endpoint=http://127.0.0.1:$1
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=txflow-test-key
s3proxy.credential=txflow-test-secret
jclouds.provider=filesystem
jclouds.filesystem.basedir=$dir/data
CONF
    setsid java -Xmx256m -jar "$jar" --properties "$dir/s3proxy.conf" \
      >"$dir/server.log" 2>&1 </dev/null &
  }
  start_server "$dir" s3proxy 300
  ;;
stop)
  stop_server "$dir" 30
  ;;
*)
  echo "usage: s3proxy.sh start DIR JAR | stop DIR" >&2
  exit 2
  ;;
esac
