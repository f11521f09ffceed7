#!/bin/sh
# ctest openapi_lint: validates docs/openapi.yaml as OpenAPI 3.1 with Redocly
# CLI, pinned in package-lock.json and installed with `npm ci` into the build
# tree by install.sh (the source tree stays clean). Needs node and npm, and
# the npm registry the first time. Usage: lint.sh SOURCE_DIR WORK_DIR
set -eu
source_dir=$(cd "$1" && pwd)
work_dir=$2
sh "$(dirname "$0")/install.sh" "$work_dir"
cd "$work_dir"
# GET /ui is the one operation without a 2xx: it only redirects to /ui/ (308).
# Redocly reads its exceptions from this file, keyed by the document's path.
cat >.redocly.lint-ignore.yaml <<EOF
$source_dir/docs/openapi.yaml:
  operation-2xx-response:
    - '#/paths/~1ui/get/responses'
EOF
exec ./node_modules/.bin/redocly lint --config redocly.yaml "$source_dir/docs/openapi.yaml"
