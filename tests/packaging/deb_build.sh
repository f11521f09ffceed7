#!/usr/bin/env bash
# ctest fixture: builds the Debian packages with CPack into OUT_DIR (emptied
# first), for the checks that read them (deb_test.sh, hardening_test.sh).
# Usage: deb_build.sh BUILD_DIR OUT_DIR
source "$(dirname "$0")/common.sh"
build=$1 out=$2
require_tool cpack
require_tool dpkg-deb

rm -rf "$out"
mkdir -p "$out"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out" > "$scratch/cpack.log" 2>&1 ||
  { cat "$scratch/cpack.log"; fail "cpack failed"; }
ls "$out"/*.deb
