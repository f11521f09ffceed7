#!/bin/sh
# ctest openapi_lint: validates docs/openapi.yaml as OpenAPI 3.1 with Redocly
# CLI, pinned in package-lock.json and installed with `npm ci` into the build
# tree (the source tree stays clean). Needs node and npm, and the npm registry
# the first time. Usage: lint.sh SOURCE_DIR WORK_DIR
set -eu
source_dir=$1
work_dir=$2
here=$(dirname "$0")
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "openapi_lint: '$tool' not found; install Node.js 20+ and npm (Debian: apt-get install nodejs npm, or make deps)" >&2
    exit 1
  fi
done
mkdir -p "$work_dir"
# Reinstall only when the pinned lock changed since the last install.
if ! cmp -s "$here/package-lock.json" "$work_dir/package-lock.json" || [ ! -x "$work_dir/node_modules/.bin/redocly" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work_dir/"
  (cd "$work_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$here/redocly.yaml" "$work_dir/"
cd "$work_dir"
exec ./node_modules/.bin/redocly lint --config redocly.yaml "$source_dir/docs/openapi.yaml"
