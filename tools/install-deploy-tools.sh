#!/usr/bin/env bash
# Installs the tools of the offline Terraform checks (ctest label `deploy`,
# tests/deploy/) into BUILD_DIR, once; a stamp makes a second run instant.
# Usage: tools/install-deploy-tools.sh [BUILD_DIR]   (default: build)
#
#   BUILD_DIR/deploy-venv   python-hcl2, databricks-bundles, pytest
#   BUILD_DIR/checkov-venv  checkov (it ships its own fork of the `hcl2` module,
#                           which would shadow python-hcl2 in one environment)
#   BUILD_DIR/tools/bin     tflint, tofu (OpenTofu, for `tofu fmt -check`)
#
# Everything comes from PyPI and the Go module proxy, pinned below. The
# Terraform providers are not fetched: no check runs `init`, `validate` or
# `plan` (docs/deploy.md says what is and is not verified offline).
set -euo pipefail

PYTHON_HCL2=8.1.4
DATABRICKS_BUNDLES=1.22.1
PYTEST=9.2.0
CHECKOV=3.3.30
TFLINT=v0.64.0
OPENTOFU=v1.12.6
pins="python-hcl2==$PYTHON_HCL2 databricks-bundles==$DATABRICKS_BUNDLES pytest==$PYTEST checkov==$CHECKOV tflint@$TFLINT tofu@$OPENTOFU"

build=${1:-build}
mkdir -p "$build/tools/bin"
build=$(cd "$build" && pwd)
bindir="$build/tools/bin"
stamp="$build/deploy-tools.stamp"
if [[ "$(cat "$stamp" 2>/dev/null)" == "$pins" &&
      -x "$build/deploy-venv/bin/python" && -x "$build/checkov-venv/bin/checkov" &&
      -x "$bindir/tflint" && -x "$bindir/tofu" ]]; then
  exit 0
fi
rm -f "$stamp"

say() { echo "install-deploy-tools: $*" >&2; }
fail() { say "$*"; exit 1; }

python=$(command -v python3 || true)
[[ -n "$python" ]] || fail "no python3 on PATH"
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  say "python3 has no venv/ensurepip; installing Debian's python3-venv"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
fi

# venv DIR PACKAGE...: a virtualenv with exactly these pins.
venv() {
  local dir=$1
  shift
  [[ -x "$dir/bin/python" ]] || "$python" -m venv "$dir"
  say "pip install $* into ${dir#"$build"/}"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@" ||
    fail "pip install $* failed"
}
venv "$build/deploy-venv" "python-hcl2==$PYTHON_HCL2" \
  "databricks-bundles==$DATABRICKS_BUNDLES" "pytest==$PYTEST"
venv "$build/checkov-venv" "checkov==$CHECKOV"

go=$(command -v go || true)
if [[ -z "$go" && -x /usr/local/go/bin/go ]]; then go=/usr/local/go/bin/go; fi
if [[ -z "$go" ]]; then
  say "no Go found; installing Debian's golang-go"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq golang-go >/dev/null
  go=$(command -v go)
fi

# A tool of the pinned version is kept (the stamp is gone if a pin changed).
if [[ "$("$bindir/tflint" --version 2>/dev/null || true)" != *"version ${TFLINT#v}"* ]]; then
  say "go install github.com/terraform-linters/tflint@$TFLINT ($("$go" version))"
  GOBIN="$bindir" GOFLAGS=-mod=mod "$go" install \
    "github.com/terraform-linters/tflint@$TFLINT" || fail "go install tflint failed"
fi

# OpenTofu's go.mod has replace directives, which `go install pkg@version`
# refuses; so the module is downloaded from the proxy and built as the main
# module, where its replaces apply.
# (Built from the module, it calls itself v1.12.6-dev.)
if [[ "$("$bindir/tofu" version 2>/dev/null || true)" != *"OpenTofu ${OPENTOFU}"* ]]; then
  say "building github.com/opentofu/opentofu/cmd/tofu@$OPENTOFU ($("$go" version))"
  src=$(cd "$build" && GOFLAGS=-mod=mod "$go" mod download -json \
          "github.com/opentofu/opentofu@$OPENTOFU" |
        "$python" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])') ||
    fail "go mod download github.com/opentofu/opentofu@$OPENTOFU failed"
  (cd "$src" && GOFLAGS=-mod=readonly "$go" build -trimpath -ldflags=-s \
     -o "$bindir/tofu" ./cmd/tofu) || fail "building tofu failed"
fi

echo "$pins" > "$stamp"
