#!/usr/bin/env bash
# Builds the Debian package with CPack into a scratch directory and checks
# what an operator gets: file name, control fields, Depends from
# dpkg-shlibdeps, the file list and modes, conffiles, the maintainer scripts
# (run against a scratch root with stub commands), the packaged configuration
# (loaded by the packaged mailerctl), and lintian where it is installed.
# Usage: deb_test.sh BUILD_DIR VERSION
source "$(dirname "$0")/common.sh"
build=$1 version=$2
require_tool cpack
require_tool dpkg-deb
require_tool readelf

arch=$(dpkg --print-architecture)
deb="$scratch/out/mailerd_${version}_${arch}.deb"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$scratch/out" > "$scratch/cpack.log" 2>&1 ||
  { cat "$scratch/cpack.log"; fail "cpack failed"; }
[ -f "$deb" ] || fail "expected $deb; cpack made: $(ls "$scratch/out")"

check_control_fields() {
  local name expected actual
  while read -r name expected; do
    actual=$(dpkg-deb -f "$deb" "$name")
    [ "$actual" = "$expected" ] || fail "control field $name: '$actual', expected '$expected'"
  done <<EOT
Package mailerd
Version $version
Architecture $arch
Section mail
Priority optional
EOT
  for name in Maintainer Homepage Description Installed-Size; do
    [ -n "$(dpkg-deb -f "$deb" "$name")" ] || fail "control field $name is empty"
  done
}

# Depends comes from dpkg-shlibdeps: every library a packaged binary links
# directly (DT_NEEDED) must be there by its package, plus adduser (postinst)
# and ca-certificates (TLS to SES); a -dev package there would mean a wrong link.
needed_packages() {
  local binary soname path
  for binary in "$tree"/usr/bin/*; do
    readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | while read -r soname; do
      path=$(ldd "$binary" | awk -v so="$soname" '$1 == so {print $3}')
      [ -n "$path" ] || fail "$binary: $soname not found by ldd"
      # Debian 12 is usr-merged: dpkg may record either /lib or /usr/lib.
      { dpkg -S "$path" || dpkg -S "${path#/usr}" || dpkg -S "/usr$path"; } 2>/dev/null |
        head -n 1 | cut -d: -f1 | grep . || fail "no installed package provides $path"
    done
  done | sort -u
}

check_depends() {
  local depends names package
  depends=$(dpkg-deb -f "$deb" Depends)
  echo "Depends: $depends"
  names=$(tr ',' '\n' <<<"$depends" | sed -e 's/^ *//' -e 's/[ (].*//')
  for package in adduser ca-certificates $(needed_packages); do
    grep -qxF -- "$package" <<<"$names" || fail "Depends lacks $package"
  done
  ! grep -q -- '-dev$' <<<"$names" || fail "Depends names a -dev package"
}

check_files() {
  local listing files expected
  listing=$(dpkg-deb -c "$deb")
  files=$(awk '$1 !~ /^d/ {print $6}' <<<"$listing" | sort)
  expected=$(sort <<EOT
./etc/mailerd/mailerd.toml
./lib/systemd/system/mailerd.service
./usr/bin/mailer-fake-ses
./usr/bin/mailerctl
./usr/bin/mailerd
./usr/share/doc/mailerd/changelog.gz
./usr/share/doc/mailerd/copyright
./usr/share/lintian/overrides/mailerd
EOT
)
  # Docs come and go (README, TROUBLESHOOTING); everything else is exact.
  local others
  others=$(grep -v '^\./usr/share/doc/mailerd/[A-Z]*\.md$' <<<"$files" || true)
  [ "$others" = "$expected" ] || fail "package files differ:$(diff <(echo "$expected") <(echo "$others"))"
  grep -qx './usr/share/doc/mailerd/DEPLOYMENT.md' <<<"$files" || fail "DEPLOYMENT.md not packaged"
  ! awk '{print $2}' <<<"$listing" | grep -vqx 'root/root' || fail "a file is not owned by root/root"
  grep -qE '^-rwxr-xr-x .* \./usr/bin/mailerd$' <<<"$listing" || fail "/usr/bin/mailerd is not 0755"
}

check_control_archive() {
  local control=$scratch/control script
  dpkg-deb -e "$deb" "$control"
  [ "$(cat "$control/conffiles")" = "/etc/mailerd/mailerd.toml" ] ||
    fail "conffiles: $(cat "$control/conffiles")"
  for script in postinst prerm postrm; do
    [ "$(stat -c %a "$control/$script")" = 755 ] || fail "$script is not 0755"
    sh -n "$control/$script" || fail "$script has a syntax error"
  done
}

# Runs a maintainer script with every command it may call replaced by a stub
# that logs its arguments to $calls; DPKG_ROOT points paths into a scratch root.
run_maintainer_script() {
  local script=$1 stubs=$scratch/stubs
  shift
  mkdir -p "$stubs"
  for command in adduser deluser delgroup install chown chmod dpkg-statoverride \
                 deb-systemd-helper deb-systemd-invoke systemctl getent; do
    printf '#!/bin/sh\necho "%s $*" >> "%s"\n' "$command" "$calls" > "$stubs/$command"
    chmod +x "$stubs/$command"
  done
  # No statoverride is registered: `dpkg-statoverride --list` finds nothing.
  printf '#!/bin/sh\nexit 1\n' > "$stubs/dpkg-statoverride"
  PATH="$stubs:$PATH" DPKG_ROOT="$root" sh "$scratch/control/$script" "$@" > /dev/null
}

expect_call() {
  grep -qxF -- "$1" "$calls" || fail "expected call '$1'; calls were:$(printf '\n%s' "$(cat "$calls")")"
}

check_maintainer_scripts() {
  root=$scratch/root calls=$scratch/calls
  mkdir -p "$root/etc/mailerd"
  touch "$root/etc/mailerd/mailerd.toml" "$calls"
  run_maintainer_script postinst configure
  expect_call "adduser --quiet --system --group --home /var/lib/mailerd --no-create-home mailerd"
  expect_call "install -d -o mailerd -g mailerd -m 0750 $root/var/lib/mailerd"
  expect_call "chown root:mailerd $root/etc/mailerd/mailerd.toml"
  expect_call "chmod 0640 $root/etc/mailerd/mailerd.toml"
  expect_call "deb-systemd-helper update-state mailerd.service"
  ! grep -q '^systemctl' "$calls" || fail "postinst called systemctl under DPKG_ROOT"

  : > "$calls"
  run_maintainer_script postrm purge
  expect_call "deluser --quiet --system mailerd"
  expect_call "delgroup --quiet --system mailerd"
  expect_call "deb-systemd-helper purge mailerd.service"
}

# The packaged configuration must load, with the database in the state
# directory; the packaged (stripped) mailerctl proves the binary runs too.
check_packaged_config() {
  local output
  output=$(env -i PATH=/usr/bin:/bin "$tree/usr/bin/mailerctl" \
           --config "$tree/etc/mailerd/mailerd.toml" config check 2>&1) ||
    fail "mailerctl config check on the packaged file failed: $output"
  grep -qE '^db\.path +"/var/lib/mailerd/mailer\.db" +file$' <<<"$output" ||
    fail "packaged db.path is not /var/lib/mailerd/mailer.db from the file: $output"
}

# lintian is large, so it is used where installed rather than installed by
# `make deps`. Errors fail the test; warnings are printed for the report.
run_lintian() {
  if ! command -v lintian >/dev/null; then
    echo "NOTE: lintian not installed; skipped"
    return
  fi
  local report
  report=$(lintian --display-info "$deb" 2>&1 || true)
  printf 'lintian:\n%s\n' "${report:-(no findings)}"
  ! grep -q '^E:' <<<"$report" || fail "lintian reported errors"
}

tree=$scratch/tree
dpkg-deb -x "$deb" "$tree"
check_control_fields
check_depends
check_files
check_control_archive
check_maintainer_scripts
check_packaged_config
run_lintian
echo "ok: $(basename "$deb")"
