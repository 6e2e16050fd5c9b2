#!/usr/bin/env bash
# Installs AWS's EC2 instance metadata mock (amazon-ec2-metadata-mock, the
# binary `ec2-metadata-mock`) into BINDIR, once. The credentials tests serve
# IMDSv2 instance-profile credentials from it.
# Usage: tools/install-ec2-metadata-mock.sh BINDIR
# Needs Go: the one on PATH, /usr/local/go/bin/go, or Debian's golang-go.
# Test tooling only; txflow itself never needs Go.
set -euo pipefail

VERSION=v1.13.0
bindir=${1:?usage: install-ec2-metadata-mock.sh BINDIR}
stamp="$bindir/ec2-metadata-mock.version"
if [[ -x "$bindir/ec2-metadata-mock" && "$(cat "$stamp" 2>/dev/null)" == "$VERSION" ]]; then
  exit 0
fi

go=$(command -v go || true)
if [[ -z "$go" && -x /usr/local/go/bin/go ]]; then go=/usr/local/go/bin/go; fi
if [[ -z "$go" ]]; then
  echo "install-ec2-metadata-mock: no Go found; installing Debian's golang-go" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq golang-go >/dev/null
  go=$(command -v go)
fi

mkdir -p "$bindir"
bindir=$(cd "$bindir" && pwd)
pkg=github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock@$VERSION
echo "install-ec2-metadata-mock: go install $pkg ($("$go" version))" >&2
if ! GOBIN="$bindir" GOFLAGS=-mod=mod "$go" install "$pkg"; then
  echo "install-ec2-metadata-mock: go install failed; the credentials tests need ec2-metadata-mock $VERSION in $bindir" >&2
  exit 1
fi
echo "$VERSION" > "$stamp"
