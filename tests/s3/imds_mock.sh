#!/usr/bin/env bash
# Starts or stops the credentials e2e fixture (ctest fixture imds_mock): a
# versitygw with its internal IAM, so that key pairs can be created and
# deleted while txflow runs, and AWS's EC2 instance metadata mock serving
# IMDSv2 instance-profile credentials from a JSON file it watches.
#   imds_mock.sh start DIR MOCK_BINARY VERSITYGW_BINARY
#       DIR/s3:   versitygw (posix backend, bucket "txflow-test", root keys
#                 txflow-imds-root / txflow-imds-root-secret), DIR/s3/endpoint
#       users:    txflow-imds-key-1 and txflow-imds-key-2 (secrets
#                 txflow-imds-secret-1 and -2), role admin
#       DIR/mock: ec2-metadata-mock -I (IMDSv2 only) -w (watches
#                 DIR/mock/config.json), role txflow-role serving key 1 for
#                 an hour; DIR/mock/endpoint
#   imds_mock.sh stop DIR
# The tests rewrite DIR/mock/config.json (a rename) to rotate the keys and
# delete users with `versitygw admin`. The mock serves no session token:
# versitygw refuses any x-amz-security-token (400 InvalidToken). Fixed test
# values on loopback only.
set -euo pipefail
source "$(dirname "$0")/server_lib.sh"

cmd=${1:?start|stop}
dir=${2:?DIR}
root_key=txflow-imds-root
root_secret=txflow-imds-root-secret

# write_config FILE KEY SECRET EXPIRATION: the mock's config, role txflow-role.
write_config() {
  cat > "$1.tmp" <<JSON
{"metadata": {
  "paths": {"iam-security-credentials": "/latest/meta-data/iam/security-credentials/txflow-role"},
  "values": {
    "iam-security-credentials-role": "txflow-role",
    "iam-security-credentials": {"Code": "Success", "LastUpdated": "$(date -u +%FT%TZ)",
      "Type": "AWS-HMAC", "AccessKeyId": "$2", "SecretAccessKey": "$3",
      "Token": "", "Expiration": "$4"}}}}
JSON
  mv "$1.tmp" "$1"
}

case "$cmd" in
start)
  mock=${3:?MOCK_BINARY}
  vgw=${4:?VERSITYGW_BINARY}
  for b in "$mock" "$vgw"; do
    if [[ ! -x "$b" ]]; then
      echo "$b not found; run tools/install-ec2-metadata-mock.sh and tools/install-versitygw.sh into $(dirname "$b") (make test does)" >&2
      exit 1
    fi
  done
  for sub in s3 mock; do
    if [[ -f "$dir/$sub/pid" ]]; then kill "$(cat "$dir/$sub/pid")" 2>/dev/null || true; fi
  done
  rm -rf "$dir"
  mkdir -p "$dir/s3/root/txflow-test" "$dir/s3/iam" "$dir/mock"
  # start_server's own `dir` shadows ours inside launch: use these there.
  s3dir=$dir/s3
  mockdir=$dir/mock
  launch() {
    ROOT_ACCESS_KEY_ID=$root_key ROOT_SECRET_ACCESS_KEY=$root_secret \
      setsid "$vgw" --port "127.0.0.1:$1" --keep-alive --quiet \
      --iam-dir "$s3dir/iam" --iam-cache-disable \
      posix "$s3dir/root" >"$s3dir/server.log" 2>&1 </dev/null &
  }
  start_server "$dir/s3" versitygw-iam 100
  for n in 1 2; do
    "$vgw" admin -a "$root_key" -s "$root_secret" --er "$(cat "$dir/s3/endpoint")" \
      create-user -a "txflow-imds-key-$n" -s "txflow-imds-secret-$n" -r admin
  done
  write_config "$dir/mock/config.json" txflow-imds-key-1 txflow-imds-secret-1 \
    "$(date -u -d '+1 hour' +%FT%TZ)"
  launch() {
    HOME="$mockdir" setsid "$mock" -I -w -c "$mockdir/config.json" \
      -n 127.0.0.1 -p "$1" >"$mockdir/server.log" 2>&1 </dev/null &
  }
  start_server "$dir/mock" ec2-metadata-mock 100
  ;;
stop)
  stop_server "$dir/mock" 10
  stop_server "$dir/s3" 10
  rm -rf "$dir"
  ;;
*)
  echo "usage: imds_mock.sh start DIR MOCK_BINARY VERSITYGW_BINARY | stop DIR" >&2
  exit 2
  ;;
esac
