#!/usr/bin/env bash
# Runs a check that must fail and passes only when it fails (exit 1) with the
# expected message, so a check that silently accepts everything is caught.
# Usage: expect_failure.sh EXPECTED_TEXT COMMAND [ARGS...]
set -uo pipefail
expected=$1
shift
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
if [ "$status" -eq 125 ]; then exit 125; fi
if [ "$status" -ne 1 ]; then echo "FAIL: expected exit 1, got $status" >&2; exit 1; fi
if ! grep -qF -- "$expected" <<<"$output"; then
  echo "FAIL: output lacks '$expected'" >&2
  exit 1
fi
echo "ok: failed as expected"
