#!/bin/sh
# Installs the pinned tools of tests/openapi (Redocly CLI for openapi_lint;
# Ajv, ajv-formats and yaml for validate_responses.js) with `npm ci` from
# package-lock.json into WORK_DIR, once: tests running in parallel take a
# lock, and a copy whose lock file matches is kept. Needs node and npm, and
# the npm registry the first time.
# Usage: install.sh WORK_DIR
set -eu
work_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
for tool in node npm flock; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "tests/openapi: '$tool' not found; install Node.js 20+ and npm (Debian: apt-get install nodejs npm, or make deps)" >&2
    exit 1
  fi
done
mkdir -p "$work_dir"
exec 9>"$work_dir/.install.lock"
flock 9
if ! cmp -s "$here/package-lock.json" "$work_dir/package-lock.json" || [ ! -x "$work_dir/node_modules/.bin/redocly" ] ||
  [ ! -d "$work_dir/node_modules/ajv" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work_dir/"
  (cd "$work_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$here/redocly.yaml" "$here/validate_responses.js" "$work_dir/"
