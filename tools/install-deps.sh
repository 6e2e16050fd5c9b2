#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only when missing.
# Non-interactive; safe to run repeatedly.
# Usage: tools/install-deps.sh [--dev|--python|--spark]
#   (no flag) build: compiler, cmake, ninja, GoogleTest, libcurl, OpenSSL
#   --dev      also the test tools: clang-format, clang + its sanitizer and
#              libFuzzer runtimes (the fuzz targets), systemd (systemd-analyze
#              verify of deploy/systemd/)
#   --python   only what the Python package's build needs from Debian, when the
#              python3 on PATH lacks it: venv (with pip) and Python.h
#   --spark    only what the Spark engine's tests need, when missing: a Java 17
#              runtime (pyspark 4.2) and Maven (fetches the Delta jars)
set -euo pipefail

packages=(g++ cmake ninja-build libgtest-dev libcurl4-openssl-dev libssl-dev pkg-config)
if [[ "${1:-}" == "--dev" ]]; then
  packages+=(clang-format clang libclang-rt-14-dev systemd)
fi
if [[ "${1:-}" == "--python" ]]; then
  packages=()
  # A pyenv or other non-Debian python3 brings both; Debian's splits them out.
  python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
  python3 -c 'import os, sysconfig; assert os.path.exists(os.path.join(
    sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null || packages+=(python3-dev)
  [[ ${#packages[@]} -eq 0 ]] && exit 0
fi
if [[ "${1:-}" == "--spark" ]]; then
  packages=()
  java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])' || packages+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || packages+=(maven)
  [[ ${#packages[@]} -eq 0 ]] && exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
