#!/bin/sh
# Installs the npm packages pinned in PACKAGE_DIR/package-lock.json with
# `npm ci` into WORK_DIR, once: tests running in parallel take a lock, and
# an install whose lock file matches is kept. Needs node, npm and flock, and
# the npm registry the first time. Used by tests/openapi, tests/webhooks and tests/sdk.
# Usage: npm_ci.sh PACKAGE_DIR WORK_DIR
set -eu
package_dir=$1
work_dir=$2
for tool in node npm flock; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$package_dir: '$tool' not found; install Node.js 20+ and npm (Debian: apt-get install nodejs npm, or make deps)" >&2
    exit 1
  fi
done
mkdir -p "$work_dir"
exec 9>"$work_dir/.install.lock"
flock 9
# npm ci writes node_modules/.package-lock.json last, once every package is in.
if ! cmp -s "$package_dir/package-lock.json" "$work_dir/package-lock.json" ||
  [ ! -f "$work_dir/node_modules/.package-lock.json" ]; then
  cp "$package_dir/package.json" "$package_dir/package-lock.json" "$work_dir/"
  (cd "$work_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
