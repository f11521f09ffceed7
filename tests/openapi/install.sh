#!/bin/sh
# Installs the pinned tools of tests/openapi (Redocly CLI for openapi_lint;
# Ajv, ajv-formats and yaml for validate_responses.js) into WORK_DIR, then
# copies the files that use them there.
# Usage: install.sh WORK_DIR
set -eu
work_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/../npm_ci.sh" "$here" "$work_dir"
cp "$here/redocly.yaml" "$here/validate_responses.js" "$work_dir/"
