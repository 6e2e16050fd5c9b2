#!/usr/bin/env bash
# Fetches the second S3-compatible test server (s3proxy, a Java jar) into DIR,
# once, with Maven from Maven Central.
# Usage: tools/install-s3proxy.sh DIR
# Needs Java 17 (to run it) and Maven; Debian's are installed when missing.
# Test tooling only: s3proxy's filesystem provider ignores conditional writes,
# so the tests check that txflow refuses it (docs/s3.md).
set -euo pipefail

VERSION=2.6.0
dir=${1:?usage: install-s3proxy.sh DIR}
jar="$dir/s3proxy-$VERSION-jar-with-dependencies.jar"
if [[ -s "$jar" ]]; then
  exit 0
fi

missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-s3proxy: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
echo "install-s3proxy: mvn dependency:copy org.gaul:s3proxy:$VERSION:jar:jar-with-dependencies" >&2
if ! mvn -q -B dependency:copy \
    "-Dartifact=org.gaul:s3proxy:$VERSION:jar:jar-with-dependencies" \
    "-DoutputDirectory=$dir" >"$dir/mvn.log" 2>&1 || [[ ! -s "$jar" ]]; then
  cat "$dir/mvn.log" >&2 || true
  echo "install-s3proxy: maven could not fetch s3proxy $VERSION; the s3proxy tests need $jar" >&2
  exit 1
fi
rm -f "$dir/mvn.log"
