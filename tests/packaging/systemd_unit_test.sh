#!/usr/bin/env bash
# Checks packaging/systemd/mailerd.service:
#   - the directives mailerd relies on are there (Type=notify, user, dirs...);
#   - TimeoutStopSec outlasts worker.shutdown_grace_seconds from the example;
#   - `systemd-analyze verify` reports nothing at all (it exits 0 on unknown
#     keys, so any output is a failure);
#   - `systemd-analyze security --offline=yes` stays at or below the exposure
#     docs/DEPLOYMENT.md quotes.
# Usage: systemd_unit_test.sh UNIT MAILERD_BIN EXAMPLE_TOML
# Skips (125) only when systemd-analyze is missing; `make deps` installs it.
source "$(dirname "$0")/common.sh"
unit=$1 mailerd=$2 example=$3
max_exposure_tenths=12  # 1.2; change docs/DEPLOYMENT.md with it

required_lines=(
  "Type=notify" "NotifyAccess=main"
  "ExecStart=/usr/bin/mailerd --config /etc/mailerd/mailerd.toml"
  "User=mailerd" "Group=mailerd" "StateDirectory=mailerd" "ConfigurationDirectory=mailerd"
  "WorkingDirectory=/var/lib/mailerd" "Restart=on-failure" "UMask=0077"
  "CapabilityBoundingSet=" "NoNewPrivileges=yes" "ProtectSystem=strict"
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "SystemCallFilter=@system-service"
  "SystemCallArchitectures=native" "MemoryDenyWriteExecute=yes"
)
for line in "${required_lines[@]}"; do
  grep -qxF -- "$line" "$unit" || fail "$unit: missing line '$line'"
done

grace=$(sed -n 's/^# *shutdown_grace_seconds *= *\([0-9]*\)$/\1/p' "$example")
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$unit")
[ -n "$grace" ] || fail "$example: no shutdown_grace_seconds default"
[ -n "$stop" ] || fail "$unit: TimeoutStopSec missing or not in seconds"
# Room after the grace period for the HTTP drain and the WAL checkpoint.
[ "$stop" -ge $((grace + 15)) ] ||
  fail "TimeoutStopSec=${stop}s must exceed shutdown_grace_seconds ($grace) by 15 s"

require_tool systemd-analyze
# verify needs ExecStart's binary to exist: point it at the one just built.
sed "s|^ExecStart=/usr/bin/mailerd |ExecStart=$mailerd |" "$unit" > "$scratch/mailerd.service"
cd "$scratch"
report=$(systemd-analyze verify --man=no mailerd.service 2>&1) || fail "systemd-analyze verify: $report"
[ -z "$report" ] || fail "systemd-analyze verify reported: $report"
echo "systemd-analyze verify: clean"

if ! systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
  echo "NOTE: this systemd-analyze has no 'security --offline'; exposure not checked"
  exit 0
fi
report=$(systemd-analyze security --offline=yes --threshold="$max_exposure_tenths" \
         mailerd.service 2>&1) ||
  fail "exposure above $max_exposure_tenths/10: $(tail -n 1 <<<"$report")"
tail -n 1 <<<"$report"
