#!/usr/bin/env bash
# The quick start, end to end: a fresh database, mailerd on a free port, the
# health checks, an admin key from mailerctl, one authenticated API call, and
# a clean shutdown. Run by `make demo`; usage: examples/demo.sh BUILD_DIR
set -euo pipefail

build_dir=${1:?usage: demo.sh BUILD_DIR}
mailerd="$build_dir/mailerd"
mailerctl="$build_dir/mailerctl"
for bin in "$mailerd" "$mailerctl"; do
  [[ -x $bin ]] || { echo "demo: $bin not built (run make build)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/mailerd-demo.XXXXXX")
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { echo "demo: FAILED: $*" >&2; [[ -f $work/mailerd.log ]] && cat "$work/mailerd.log" >&2; exit 1; }

step "starting mailerd on a free port with a fresh database in $work"
MAILER_SERVER_PORT=0 MAILER_DB_PATH="$work/mailer.db" MAILER_LOG_FORMAT=json \
  "$mailerd" >"$work/mailerd.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 200); do  # up to 20 s, polling the log for the bound port
  port=$(grep '"listening"' "$work/mailerd.log" 2>/dev/null | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2 || true)
  [[ -n $port ]] && break
  kill -0 "$pid" 2>/dev/null || fail "mailerd exited during start"
  sleep 0.1
done
[[ -n $port ]] || fail "mailerd did not report its port"
base="http://127.0.0.1:$port"
echo "mailerd listens on $base (pid $pid)"

step "GET /health and GET /ready"
curl -fsS "$base/health" || fail "/health"
echo
curl -fsS "$base/ready" || fail "/ready"
echo

step "creating an admin key with mailerctl"
key_json=$("$mailerctl" --db "$work/mailer.db" keys create --name demo-admin --scope admin --json) \
  || fail "mailerctl keys create"
key=$(printf '%s' "$key_json" | tr -d '\n' | sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
[[ -n $key ]] || fail "no key in: $key_json"
echo "admin key (shown once): $key"

step "GET /v1/admin/keys with the key"
status=$(curl -sS -o "$work/keys.json" -w '%{http_code}' -H "Authorization: Bearer $key" "$base/v1/admin/keys")
cat "$work/keys.json"; echo
[[ $status == 200 ]] || fail "GET /v1/admin/keys answered $status"
status=$(curl -sS -o /dev/null -w '%{http_code}' "$base/v1/admin/keys")
[[ $status == 401 ]] || fail "GET /v1/admin/keys without a key answered $status, not 401"
echo "without the key: 401, as it should be"

step "stopping mailerd with SIGTERM"
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
pid=""
[[ $code == 0 ]] || fail "mailerd exited with $code"
echo "mailerd exited 0"
printf '\ndemo: OK\n'
