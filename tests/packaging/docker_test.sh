#!/usr/bin/env bash
# Docker cannot run in CI, so this checks the image recipe statically:
#   - the build stage installs exactly DEB_PACKAGES from the Makefile;
#   - the runtime stage is debian:12-slim, non-root, with the volume, port,
#     health check, entrypoint and environment the docs promise;
#   - compose.yaml parses and wires the volume, health check and dev profile
#     (only when a Python with PyYAML is at hand).
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

# Runtime stage: everything after the last FROM.
check_runtime_stage() {
  local runtime line
  runtime=$(join_lines "$dockerfile" | awk '/^FROM / {stage=$0; body=""} {body=body $0 "\n"} END {printf "%s", body}')
  for line in '^FROM debian:12-slim$' '^VOLUME /var/lib/mailerd$' '^EXPOSE 8080$' \
              '^USER mailerd$' '^HEALTHCHECK .*curl .*/health' \
              '^ENTRYPOINT \["/usr/bin/mailerd", "--config", "/etc/mailerd/mailerd.toml"\]$' \
              'MAILER_SERVER_LISTEN=0\.0\.0\.0' 'MAILER_DB_PATH=/var/lib/mailerd/mailer\.db'; do
    grep -qE -- "$line" <<<"$runtime" || fail "$dockerfile runtime stage lacks /$line/"
  done
  echo "runtime stage ok"
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
  if [ -z "$python" ]; then
    echo "NOTE: no Python with PyYAML; compose.yaml not parsed"
    return
  fi
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
for name, service in services.items():
    if service.get("build", {}).get("dockerfile") != "packaging/docker/Dockerfile":
        problems.append(f"{name}: not built from packaging/docker/Dockerfile")
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
check_runtime_stage
check_compose
