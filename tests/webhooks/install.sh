#!/bin/sh
# Installs the webhook test receiver's pinned dependencies (standardwebhooks,
# package-lock.json) into WORK_DIR (tests/npm_ci.sh), then the receiver.
# Usage: install.sh WORK_DIR
set -eu
work_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/../npm_ci.sh" "$here" "$work_dir"
cp "$here/receiver.js" "$work_dir/"
