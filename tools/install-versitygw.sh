#!/usr/bin/env bash
# Installs the S3-compatible test server (versitygw) into BINDIR, once.
# Usage: tools/install-versitygw.sh BINDIR
# Needs Go: the one on PATH, /usr/local/go/bin/go, or Debian's golang-go.
# Test tooling only; txflow itself never needs Go.
set -euo pipefail

VERSION=v1.8.0
# v1.7.0 let two concurrent If-None-Match: * PUTs both succeed; v1.8.0 does not
# (FileSystemContract.CreateOnlyRaceHasExactlyOneWinner/s3 shows it).
bindir=${1:?usage: install-versitygw.sh BINDIR}
stamp="$bindir/versitygw.version"
if [[ -x "$bindir/versitygw" && "$(cat "$stamp" 2>/dev/null)" == "$VERSION" ]]; then
  exit 0
fi

go=$(command -v go || true)
if [[ -z "$go" && -x /usr/local/go/bin/go ]]; then go=/usr/local/go/bin/go; fi
if [[ -z "$go" ]]; then
  echo "install-versitygw: no Go found; installing Debian's golang-go" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq golang-go >/dev/null
  go=$(command -v go)
fi

mkdir -p "$bindir"
bindir=$(cd "$bindir" && pwd)
echo "install-versitygw: go install github.com/versity/versitygw/cmd/versitygw@$VERSION ($("$go" version))" >&2
if ! GOBIN="$bindir" GOFLAGS=-mod=mod "$go" install \
    "github.com/versity/versitygw/cmd/versitygw@$VERSION"; then
  echo "install-versitygw: go install failed; the S3 tests need versitygw $VERSION in $bindir" >&2
  exit 1
fi
echo "$VERSION" > "$stamp"
