# shellcheck shell=bash
# Shell helpers shared by examples/demo.sh and bench/run.sh (sourced, not run):
# starting a child that logs JSON, reading the port from its "listening" line,
# and stopping it. One copy, so the demo and the benchmark start mailerd alike.
# Needs bash; every function returns non-zero rather than exiting, so each
# caller keeps its own way of failing.

# wait_port LOG PID NAME: prints the port of the first "listening" log line in
# LOG; fails (message on stderr) when PID exits first or after 20 s.
wait_port() {
  local log=$1 pid=$2 name=$3 port=""
  for _ in $(seq 1 200); do  # up to 20 s
    port=$(grep '"listening"' "$log" 2>/dev/null | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2 || true)
    [[ -n $port ]] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || { echo "$name exited during start" >&2; return 1; }
    sleep 0.1
  done
  echo "$name did not report its port in $log" >&2
  return 1
}

# stop_child PID: SIGTERM and wait; the exit code goes to $stopped_code.
# shellcheck disable=SC2034  # stopped_code is for the caller
stop_child() {
  stopped_code=0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" || stopped_code=$?
}

# start_mailerd MAILERD LOG: starts the mailerd binary MAILERD in the background
# (configured by the caller's environment, e.g. `MAILER_DB_PATH=... start_mailerd
# ...`), its output in LOG, on a free loopback port that is also its
# server.public_url, so the List-Unsubscribe links of its mail reach this very
# process (port 0 would leave them at the default http://127.0.0.1:8080).
# Sets mailerd_pid and mailerd_port (and $base, its URL). The port is picked
# before the start, as public_url must be known then; should something else
# hold it, the bind fails ("cannot bind" in LOG) and another port is tried.
# shellcheck disable=SC2034  # base is for the caller
start_mailerd() {
  local bin=$1 log=$2 port
  mailerd_pid="" mailerd_port=""
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    MAILER_SERVER_LISTEN=127.0.0.1 MAILER_SERVER_PORT=$port MAILER_SERVER_PUBLIC_URL="http://127.0.0.1:$port" \
      "$bin" >"$log" 2>&1 &
    mailerd_pid=$!
    if mailerd_port=$(wait_port "$log" "$mailerd_pid" mailerd 2>/dev/null); then  # callers show LOG
      base="http://127.0.0.1:$mailerd_port"
      return 0
    fi
    wait "$mailerd_pid" 2>/dev/null || true
    mailerd_pid=""
    grep -q "cannot bind" "$log" || return 1  # any other start failure is not the port's
  done
  echo "mailerd: no free port after 5 tries" >&2
  return 1
}

# require_built NAME BIN...: fails (message on stderr, naming NAME) unless
# every BIN is an executable file, as after `make build`.
require_built() {
  local name=$1 bin; shift
  for bin in "$@"; do
    [[ -x $bin ]] || { echo "$name: $bin not built (run make build)" >&2; return 1; }
  done
}
