#!/usr/bin/env bash
# Docker cannot run in CI, so this checks the image recipe statically:
#   - the build stage installs exactly DEB_PACKAGES from the Makefile;
#   - every FROM names its base image by digest (@sha256:...);
#   - the runtime stage is Debian 12 slim, runs as the fixed uid 10001 (made
#     before the package is installed), has the volume, port, health check,
#     entrypoint and environment the docs promise, and lacks mailer-fake-ses;
#   - compose.yaml wires the volume, health check and dev profile, and runs
#     every service with a read-only root, no capabilities and
#     no-new-privileges (parsed with PyYAML, which `make test` installs).
# Usage: docker_test.sh MAKEFILE DOCKERFILE COMPOSE_YAML
source "$(dirname "$0")/common.sh"
makefile=$1 dockerfile=$2 compose=$3

# Joins backslash-continued lines, so each instruction is one line.
join_lines() { sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "$1"; }
sorted_words() { tr -s ' \t' '\n\n' | sed '/^$/d' | sort; }

makefile_packages() {
  join_lines "$makefile" | sed -n 's/^DEB_PACKAGES *[:?]\{0,1\}= *//p' | sorted_words
}

# The packages of the `apt-get install` in the build stage (between
# `FROM ... AS build` and the next FROM).
dockerfile_build_packages() {
  join_lines "$dockerfile" | awk '/^FROM .* AS build/ {on=1; next} /^FROM / {on=0} on' |
    grep 'apt-get install' |
    sed -e 's/.*--no-install-recommends//' -e 's/&&.*//' | sorted_words
}

check_package_lists() {
  local want have
  want=$(makefile_packages)
  have=$(dockerfile_build_packages)
  [ -n "$want" ] || fail "$makefile: DEB_PACKAGES not found"
  [ -n "$have" ] || fail "$dockerfile: no apt-get install in the build stage"
  [ "$want" = "$have" ] ||
    fail "Dockerfile build packages differ from the Makefile's DEB_PACKAGES (< Makefile, > Dockerfile):
$(diff <(echo "$want") <(echo "$have") | grep '^[<>]')"
  echo "build packages match DEB_PACKAGES ($(wc -l <<<"$want") packages)"
}

# A stage's instructions, from `FROM ... AS NAME` to the next FROM; NAME
# "runtime" is the last stage, whatever its name.
stage() {
  join_lines "$dockerfile" | awk -v name="$1" '
    /^FROM / {on = (name != "runtime" && $NF == name); body = ""}
    on {print}
    {body = body $0 "\n"}
    END {if (name == "runtime") printf "%s", body}'
}

expect_lines() {
  local where=$1 text=$2 line
  shift 2
  for line in "$@"; do
    grep -qE -- "$line" <<<"$text" || fail "$dockerfile $where lacks /$line/"
  done
}

check_base_images_pinned() {
  local unpinned
  unpinned=$(grep -E '^FROM ' "$dockerfile" | grep -vE '^FROM [^ ]+@sha256:[0-9a-f]{64}( AS [a-z-]+)?$' || true)
  [ -z "$unpinned" ] || fail "base image not pinned by digest: $unpinned"
  echo "base images pinned by digest"
}

check_runtime_stage() {
  local runtime
  runtime=$(stage runtime)
  expect_lines "runtime stage" "$runtime" '^FROM debian:bookworm-[0-9]+-slim@' '^VOLUME /var/lib/mailerd$' \
    '^EXPOSE 8080$' '^USER 10001:10001$' '^HEALTHCHECK .*curl .*/health' \
    '^ENTRYPOINT \["/usr/bin/mailerd", "--config", "/etc/mailerd/mailerd.toml"\]$' \
    'MAILER_SERVER_LISTEN=0\.0\.0\.0' 'MAILER_DB_PATH=/var/lib/mailerd/mailer\.db' \
    'groupadd --system --gid 10001 mailerd +&& useradd --system --uid 10001 --gid mailerd .*apt-get install .*/tmp/mailerd\.deb'
  ! grep -qE 'mailerd-tools|fake-ses' <<<"$runtime" || fail "$dockerfile runtime stage installs mailer-fake-ses"
  echo "runtime stage ok"
}

check_fake_ses_stage() {
  expect_lines "fake-ses stage" "$(stage fake-ses)" '^FROM debian:bookworm-[0-9]+-slim@' \
    'apt-get install .*/tmp/mailerd-tools\.deb' '^USER 10001:10001$' \
    '^ENTRYPOINT \["/usr/bin/mailer-fake-ses"\]$'
  echo "fake-ses stage ok"
}

yaml_python() {
  local python
  for python in python3 /usr/bin/python3; do
    if command -v "$python" >/dev/null && "$python" -c 'import yaml' 2>/dev/null; then
      echo "$python"
      return
    fi
  done
}

check_compose() {
  local python
  python=$(yaml_python)
  [ -n "$python" ] || skip "no Python with PyYAML (Debian python3-yaml); compose.yaml not checked"
  "$python" - "$compose" <<'PY' || fail "$compose: see above"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
services = doc["services"]
mailerd, fake = services["mailerd"], services["fake-ses"]
problems = []
if "mailerd-data:/var/lib/mailerd" not in mailerd.get("volumes", []):
    problems.append("mailerd: no mailerd-data volume at /var/lib/mailerd")
if "/health" not in " ".join(mailerd.get("healthcheck", {}).get("test", [])):
    problems.append("mailerd: healthcheck does not probe /health")
if not any(p.endswith(":8080") for p in mailerd.get("ports", [])):
    problems.append("mailerd: port 8080 not published")
if "dev" not in fake.get("profiles", []):
    problems.append("fake-ses: not limited to the dev profile")
if fake.get("build", {}).get("target") != "fake-ses":
    problems.append("fake-ses: not built from the Dockerfile's fake-ses target")
if "fake-ses-out:/var/lib/mailer-fake-ses" not in fake.get("volumes", []):
    problems.append("fake-ses: no fake-ses-out volume at /var/lib/mailer-fake-ses")
for name, service in services.items():
    if service.get("build", {}).get("dockerfile") != "packaging/docker/Dockerfile":
        problems.append(f"{name}: not built from packaging/docker/Dockerfile")
    if service.get("read_only") is not True:
        problems.append(f"{name}: read_only is not true")
    if "/tmp" not in service.get("tmpfs", []):
        problems.append(f"{name}: no tmpfs at /tmp")
    if service.get("cap_drop") != ["ALL"]:
        problems.append(f"{name}: cap_drop is not [ALL]")
    if service.get("cap_add"):
        problems.append(f"{name}: cap_add gives capabilities back")
    if "no-new-privileges:true" not in service.get("security_opt", []):
        problems.append(f"{name}: security_opt lacks no-new-privileges:true")
    if str(service.get("user", "10001")).split(":")[0] in ("0", "root"):
        problems.append(f"{name}: runs as root")
    if service.get("privileged"):
        problems.append(f"{name}: privileged")
for volume in ("mailerd-data", "fake-ses-out"):
    if volume not in (doc.get("volumes") or {}):
        problems.append(f"volume {volume} not declared")
for p in problems:
    print("FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
  echo "compose.yaml ok"
}

check_package_lists
check_base_images_pinned
check_runtime_stage
check_fake_ses_stage
check_compose
