# Shared by the packaging checks (sourced). Exit codes follow ctest:
# 0 pass, 1 fail, 125 skip (SKIP_RETURN_CODE), as STYLE.md section 9 asks.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 125; }
require_tool() { command -v "$1" >/dev/null || skip "$1 is not installed"; }

# A scratch directory removed on exit, in $scratch.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mailer-packaging.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
