#!/usr/bin/env bash
# Installs Debian's Chromium and its WebDriver, only when missing: the report's
# browser test (tests/report/) renders the HTML in a real headless browser.
# Non-interactive; safe to run repeatedly. Debian's packages, not a browser
# build fetched by a driver manager: the machines reach Debian's archive only.
set -euo pipefail

packages=(chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-browser: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
