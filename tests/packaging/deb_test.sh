#!/usr/bin/env bash
# Checks the two Debian packages that deb_build.sh made, as an operator gets
# them: file names, control fields, Depends from dpkg-shlibdeps, which file
# goes into which package (mailer-fake-ses only in mailerd-tools), the docs
# under /usr/share/doc (the repository's own files), conffiles, the
# maintainer scripts (run against a scratch root with stub commands), the
# packaged configuration (loaded by the packaged mailerctl), and lintian:
# no errors and no hardening tag.
# Usage: deb_test.sh DEB_DIR VERSION SOURCE_DIR
source "$(dirname "$0")/common.sh"
dir=$1 version=$2 source_dir=$3
require_tool dpkg-deb
require_tool readelf

arch=$(dpkg --print-architecture)
deb=$dir/mailerd_${version}_${arch}.deb
tools_deb=$dir/mailerd-tools_${version}_${arch}.deb
compgen -G "$dir/*.deb" >/dev/null || skip "no packages in $dir (the build fixture did not run)"
for file in "$deb" "$tools_deb"; do
  [ -f "$file" ] || fail "expected $file; cpack made: $(ls "$dir")"
done

# check_control_fields DEB PACKAGE SECTION
check_control_fields() {
  local deb=$1 name expected actual
  while read -r name expected; do
    actual=$(dpkg-deb -f "$deb" "$name")
    [ "$actual" = "$expected" ] || fail "$2: control field $name: '$actual', expected '$expected'"
  done <<EOT
Package $2
Version $version
Architecture $arch
Section $3
Priority optional
Source mailerd
EOT
  for name in Maintainer Homepage Description Installed-Size; do
    [ -n "$(dpkg-deb -f "$deb" "$name")" ] || fail "$2: control field $name is empty"
  done
}

# Packages of the libraries the executables in TREE link directly (DT_NEEDED).
needed_packages() {
  local binary soname path
  for binary in "$1"/usr/bin/*; do
    readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | while read -r soname; do
      path=$(ldd "$binary" | awk -v so="$soname" '$1 == so {print $3}')
      [ -n "$path" ] || fail "$binary: $soname not found by ldd"
      # Debian 12 is usr-merged: dpkg may record either /lib or /usr/lib.
      { dpkg -S "$path" || dpkg -S "${path#/usr}" || dpkg -S "/usr$path"; } 2>/dev/null |
        head -n 1 | cut -d: -f1 | grep . || fail "no installed package provides $path"
    done
  done | sort -u
}

# check_depends DEB TREE EXTRA_PACKAGE...: Depends names every linked
# library's package and the extras, and no -dev package (a wrong link).
check_depends() {
  local deb=$1 tree=$2 depends names package
  shift 2
  depends=$(dpkg-deb -f "$deb" Depends)
  echo "$(basename "$deb") Depends: $depends"
  names=$(tr ',' '\n' <<<"$depends" | sed -e 's/^ *//' -e 's/[ (].*//')
  for package in "$@" $(needed_packages "$tree"); do
    grep -qxF -- "$package" <<<"$names" || fail "$(basename "$deb"): Depends lacks $package"
  done
  ! grep -q -- '-dev$' <<<"$names" || fail "$(basename "$deb"): Depends names a -dev package"
}

# check_files DEB EXPECTED: the package holds exactly EXPECTED (one path a
# line), owned by root, with /usr/bin files mode 0755.
check_files() {
  local deb=$1 expected listing files
  expected=$(sort <<<"$2")
  listing=$(dpkg-deb -c "$deb")
  files=$(awk '$1 !~ /^d/ {print $6}' <<<"$listing" | sort)
  [ "$files" = "$expected" ] ||
    fail "$(basename "$deb") files differ (< expected, > packaged):
$(diff <(echo "$expected") <(echo "$files") | grep '^[<>]')"
  ! awk '{print $2}' <<<"$listing" | grep -vqx 'root/root' ||
    fail "$(basename "$deb"): a file is not owned by root/root"
  ! awk '$6 ~ /^\.\/usr\/bin\/./ && $1 != "-rwxr-xr-x"' <<<"$listing" | grep -q . ||
    fail "$(basename "$deb"): a /usr/bin file is not 0755"
}

# The user documentation: every docs/*.md but FAKE_SES.md, which goes with the tool.
user_docs() {
  (cd "$source_dir/docs" && ls -- *.md) | grep -vx 'FAKE_SES.md'
}

check_both_file_lists() {
  local doc docs=./usr/share/doc/mailerd
  check_files "$deb" "./etc/mailerd/mailerd.toml
./lib/systemd/system/mailerd.service
./usr/bin/mailerctl
./usr/bin/mailerd
./usr/share/bash-completion/completions/mailerctl
./usr/share/man/man1/mailerctl.1.gz
./usr/share/man/man1/mailerd.1.gz
./usr/share/zsh/vendor-completions/_mailerctl
$docs/README.md
$docs/changelog.gz
$docs/copyright
$docs/openapi.yaml
$(user_docs | sed "s|^|$docs/|")
./usr/share/lintian/overrides/mailerd"
  docs=./usr/share/doc/mailerd-tools
  check_files "$tools_deb" "./usr/bin/mailer-fake-ses
./usr/share/man/man1/mailer-fake-ses.1.gz
$docs/FAKE_SES.md
$docs/changelog.gz
$docs/copyright"
  # The packaged documents are the repository's, byte for byte.
  for doc in $(user_docs) openapi.yaml; do
    cmp -s "$source_dir/docs/$doc" "$tree/usr/share/doc/mailerd/$doc" || fail "packaged $doc differs from docs/$doc"
  done
  cmp -s "$source_dir/README.md" "$tree/usr/share/doc/mailerd/README.md" || fail "packaged README.md differs"
  cmp -s "$source_dir/docs/FAKE_SES.md" "$tools_tree/usr/share/doc/mailerd-tools/FAKE_SES.md" ||
    fail "packaged FAKE_SES.md differs from docs/FAKE_SES.md"
}

check_control_archives() {
  local control=$scratch/control script
  dpkg-deb -e "$deb" "$control"
  [ "$(cat "$control/conffiles")" = "/etc/mailerd/mailerd.toml" ] ||
    fail "conffiles: $(cat "$control/conffiles")"
  for script in postinst prerm postrm; do
    [ "$(stat -c %a "$control/$script")" = 755 ] || fail "$script is not 0755"
    sh -n "$control/$script" || fail "$script has a syntax error"
  done
  # mailerd-tools creates no user and has no configuration.
  dpkg-deb -e "$tools_deb" "$scratch/tools-control"
  [ "$(ls "$scratch/tools-control" | paste -sd ' ')" = "control md5sums" ] ||
    fail "mailerd-tools control archive: $(ls "$scratch/tools-control")"
}

# Runs a maintainer script with every command it may call replaced by a stub
# that logs its arguments to $calls; DPKG_ROOT points paths into a scratch
# root, whose etc/passwd is the user database getent and adduser use.
run_maintainer_script() {
  local script=$1 stubs=$scratch/stubs command
  shift
  mkdir -p "$stubs"
  for command in adduser deluser delgroup install chown chmod \
                 deb-systemd-helper deb-systemd-invoke systemctl getent; do
    printf '#!/bin/sh\necho "%s $*" >> "%s"\n' "$command" "$calls" > "$stubs/$command"
    chmod +x "$stubs/$command"
  done
  cat >> "$stubs/getent" <<EOS
grep "^\$2:" "$root/etc/passwd"
EOS
  cat >> "$stubs/adduser" <<EOS
echo "mailerd:x:999:999::/var/lib/mailerd:/usr/sbin/nologin" >> "$root/etc/passwd"
EOS
  # No statoverride is registered: `dpkg-statoverride --list` finds nothing.
  printf '#!/bin/sh\nexit 1\n' > "$stubs/dpkg-statoverride"
  chmod +x "$stubs"/*
  PATH="$stubs:$PATH" DPKG_ROOT="$root" sh "$scratch/control/$script" "$@" > /dev/null 2> "$scratch/stderr"
}

expect_call() {
  grep -qxF -- "$1" "$calls" || fail "expected call '$1'; calls were:$(printf '\n%s' "$(cat "$calls")")"
}

expect_no_call() {
  ! grep -q -- "^$1" "$calls" || fail "unexpected call: $(grep -- "^$1" "$calls")"
}

reset_root() {
  rm -rf "$root"
  mkdir -p "$root/etc/mailerd"
  touch "$root/etc/mailerd/mailerd.toml" "$root/etc/passwd"
  : > "$calls"
}

check_maintainer_scripts() {
  root=$scratch/root calls=$scratch/calls
  reset_root
  run_maintainer_script postinst configure
  expect_call "adduser --quiet --system --group --home /var/lib/mailerd --no-create-home mailerd"
  expect_call "install -d -o mailerd -g mailerd -m 0750 $root/var/lib/mailerd"
  expect_call "chown root:mailerd $root/etc/mailerd/mailerd.toml"
  expect_call "chmod 0640 $root/etc/mailerd/mailerd.toml"
  expect_call "deb-systemd-helper update-state mailerd.service"
  expect_no_call systemctl

  # A user created beforehand (a fixed uid, as the container image does) is kept.
  reset_root
  echo "mailerd:x:10001:10001::/var/lib/mailerd:/usr/sbin/nologin" > "$root/etc/passwd"
  run_maintainer_script postinst configure
  expect_no_call adduser
  expect_call "install -d -o mailerd -g mailerd -m 0750 $root/var/lib/mailerd"

  # Purge keeps the data and the user that owns it: no file is left to a free uid.
  mkdir -p "$root/var/lib/mailerd"
  : > "$calls"
  run_maintainer_script postrm purge
  expect_call "deb-systemd-helper purge mailerd.service"
  expect_no_call deluser
  expect_no_call delgroup
  grep -q 'kept /var/lib/mailerd' "$scratch/stderr" || fail "postrm purge did not say it kept /var/lib/mailerd"
}

# The packaged configuration must load, with the database in the state
# directory; the packaged (stripped) mailerctl proves the binary runs too.
check_packaged_config() {
  local output
  # No metadata service: the credential lookup at the end must stay on this host.
  output=$(env -i PATH=/usr/bin:/bin AWS_EC2_METADATA_DISABLED=true "$tree/usr/bin/mailerctl" \
           --config "$tree/etc/mailerd/mailerd.toml" config check 2>&1) ||
    fail "mailerctl config check on the packaged file failed: $output"
  grep -qE '^db\.path +"/var/lib/mailerd/mailer\.db" +file$' <<<"$output" ||
    fail "packaged db.path is not /var/lib/mailerd/mailer.db from the file: $output"
}

# Each manual page names its program and documents its options (mailerctl's
# every command); the completion scripts are the packaged mailerctl's own.
check_manuals() {
  local page program shell
  for page in "$tree"/usr/share/man/man1/*.1.gz "$tools_tree"/usr/share/man/man1/*.1.gz; do
    program=$(basename "$page" .1.gz)
    zcat "$page" | grep -q "^\\.TH \"\?${program^^}\"\? " || fail "$page: no .TH header for $program"
    zcat "$page" | grep -q '^\.SH OPTIONS' || fail "$page: no OPTIONS section"
  done
  for command in "keys create" "batches show" "db prune" "completion"; do
    zcat "$tree/usr/share/man/man1/mailerctl.1.gz" | grep -q -- "${command#* }" ||
      fail "mailerctl.1 lacks the command '$command'"
  done
  for shell in bash zsh; do
    page=$tree/usr/share/bash-completion/completions/mailerctl
    [ $shell = zsh ] && page=$tree/usr/share/zsh/vendor-completions/_mailerctl
    cmp -s "$page" <("$tree/usr/bin/mailerctl" completion $shell) ||
      fail "packaged $shell completion differs from 'mailerctl completion $shell'"
  done
}

# `make test` installs lintian (TEST_PACKAGES in the Makefile). Errors and
# any tag about hardening (hardening-no-relro, ...) fail; everything else
# is printed for the report. Run last: without lintian the test skips.
run_lintian() {
  require_tool lintian
  local report
  report=$(lintian --display-info "$deb" "$tools_deb" 2>&1 || true)
  printf 'lintian:\n%s\n' "${report:-(no findings)}"
  ! grep -q '^E:' <<<"$report" || fail "lintian reported errors"
  ! grep -qE '^[EWIPX]: [^ ]+: [a-z0-9-]*hardening' <<<"$report" || fail "lintian reported a hardening tag"
}

tree=$scratch/tree tools_tree=$scratch/tools-tree
dpkg-deb -x "$deb" "$tree"
dpkg-deb -x "$tools_deb" "$tools_tree"
check_control_fields "$deb" mailerd mail
check_control_fields "$tools_deb" mailerd-tools devel
check_depends "$deb" "$tree" adduser ca-certificates
check_depends "$tools_deb" "$tools_tree"
check_both_file_lists
check_control_archives
check_maintainer_scripts
check_packaged_config
check_manuals
run_lintian
echo "ok: $(basename "$deb") $(basename "$tools_deb")"
