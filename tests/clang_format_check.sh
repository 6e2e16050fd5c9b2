#!/bin/sh
# The lint test (ctest -L lint): clang-format --dry-run --Werror, with the
# repository's .clang-format, over every C++ file of the source tree.
# Usage: tests/clang_format_check.sh SOURCE_DIR
#
# clang-format is looked up when the test runs, not when CMake configured:
# `make build` may configure before `make test` installs it. $CLANG_FORMAT
# names another binary. Missing, the test fails (never skips) with one line.
#
# The files: `git ls-files` in a git checkout; in a tree that is not one (a
# source archive, or no git installed), every *.cc and *.h under include/ src/ tests/ fuzz/ bench/
# tools/, which in a checkout is the same list.
set -eu
cd "$1"
cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null 2>&1; then
  echo "clang-format not found; run tools/install-deps.sh --dev" >&2
  exit 1
fi
if command -v git >/dev/null 2>&1 &&
  [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
  files=$(git ls-files '*.cc' '*.h')
else
  echo "clang_format_check: not a git checkout; checking every *.cc and *.h under include src tests fuzz bench tools" >&2
  files=$(find include src tests fuzz bench tools \( -name '*.cc' -o -name '*.h' \) -type f 2>/dev/null | sort)
fi
if [ -z "$files" ]; then
  echo "clang_format_check: no C++ files found in $1" >&2
  exit 1
fi
# shellcheck disable=SC2086  # one path per word; the tree has no spaces in names
exec "$cf" --dry-run --Werror $files
