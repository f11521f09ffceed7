#!/usr/bin/env bash
# Checks that executables carry the hardening Debian builds with
# (https://wiki.debian.org/Hardening), read from the ELF file itself as
# hardening-check(1) and lintian do:
#   - PIE: ELF type DYN, so ASLR also moves the program's own code;
#   - full RELRO: a GNU_RELRO segment plus BIND_NOW, so the GOT is resolved
#     at start and then made read-only;
#   - stack protector: calls to __stack_chk_fail;
#   - _FORTIFY_SOURCE: where the program calls a C library function that has
#     a checked __<name>_chk variant, at least one checked variant is used
#     (a program may use none when it calls no such function at all).
# Each argument is an executable, a .deb whose /usr/bin files are checked, or
# a directory of such .deb files (deb_build.sh's output).
# Usage: hardening_test.sh FILE|DEB|DIR...
source "$(dirname "$0")/common.sh"
require_tool readelf
[ $# -gt 0 ] || fail "no files given"

# The undefined dynamic symbols of an ELF file, version suffixes dropped.
imported_symbols() {
  readelf --dyn-syms -W "$1" | awk '$7 == "UND" {sub(/@.*/, "", $8); print $8}' | sort -u
}

# Names of libc functions that have a __<name>_chk variant (memcpy, snprintf...).
fortifiable_functions() {
  local libc
  libc=$(ldd "$1" | awk '$1 == "libc.so.6" {print $3}')
  [ -n "$libc" ] || fail "$1: libc.so.6 not found by ldd"
  readelf --dyn-syms -W "$libc" | awk '{sub(/@.*/, "", $8); print $8}' |
    sed -n 's/^__\(.*\)_chk$/\1/p' | grep -vx stack | sort -u
}

check_elf() {
  local file=$1 name problem problems=() imports checked unchecked
  name=$(basename "$file")
  readelf -hW "$file" | grep -qE '^ *Type: +DYN' || problems+=("not PIE (ELF type is not DYN)")
  readelf -lW "$file" | grep -q 'GNU_RELRO' || problems+=("lacks full RELRO (no GNU_RELRO segment)")
  readelf -dW "$file" | grep -qE '\((FLAGS|FLAGS_1)\).*\bNOW\b' ||
    problems+=("lacks full RELRO (no BIND_NOW)")
  imports=$(imported_symbols "$file")
  grep -qx '__stack_chk_fail' <<<"$imports" || problems+=("lacks the stack protector (no __stack_chk_fail)")
  checked=$(grep -E '^__.+_chk$' <<<"$imports" | grep -vx '__stack_chk_fail' || true)
  unchecked=$(comm -12 <(echo "$imports") <(fortifiable_functions "$file") | paste -sd ' ')
  if [ -z "$checked" ] && [ -n "$unchecked" ]; then
    problems+=("lacks _FORTIFY_SOURCE (calls $unchecked and no __*_chk function)")
  fi
  if [ ${#problems[@]} -gt 0 ]; then
    for problem in "${problems[@]}"; do echo "FAIL: $name: $problem" >&2; done
    return 1
  fi
  echo "ok: $name: PIE, full RELRO, stack protector; checked libc functions: $(wc -w <<<"$checked")"
}

check_deb() {
  local tree file status=0
  tree=$scratch/$(basename "$1" .deb)
  dpkg-deb -x "$1" "$tree"
  for file in "$tree"/usr/bin/*; do check_elf "$file" || status=1; done
  return $status
}

status=0
for arg in "$@"; do
  if [ -d "$arg" ]; then
    compgen -G "$arg/*.deb" >/dev/null || skip "no packages in $arg (the build fixture did not run)"
    for deb in "$arg"/*.deb; do check_deb "$deb" || status=1; done
  elif [[ $arg == *.deb ]]; then
    check_deb "$arg" || status=1
  else
    check_elf "$arg" || status=1
  fi
done
exit $status
