#!/usr/bin/env bash
# End-to-end drain benchmark (docs/PERFORMANCE.md): one batch of N recipients
# through a real mailerd to mailer-fake-ses --no-store, on loopback.
#   case "instant":   the fake answers at once, worker.concurrency 16
#   case "latency20": the fake waits 20 ms per request, worker.concurrency 64
#   case "webhooks":  "instant" with one webhook endpoint subscribed to SENT
#                     and DELIVERY (tests/webhooks/receiver.js, verifying every
#                     request); prints the receiver's count and the latency
#                     from each event's occurred_at to its arrival
#   case "prune":     1,000,000 rows 400 days old (BENCH_PRUNE_ROWS; half sent
#                     messages, half events) put in the database first, so
#                     the prune pass mailerd runs 2 s after start
#                     (retention.prune_interval_seconds 2) deletes them while
#                     BENCH_PRUNE_RECIPIENTS (20,000) drain; the fake's counter
#                     is sampled every 5 ms for the longest stall
#   case "prune_baseline": the same drain on an empty database
#   send-rate cases (bench/rate.cpp; each prints a verdict against its target):
#   case "rate500":   ses.max_send_rate 500, the fake unlimited, 5,000
#                     recipients, worker.concurrency 16: the most the fake
#                     accepted within any second (target <= 550)
#   case "auto50":    ses.max_send_rate unset ("auto", from GetAccount), the
#                     fake's GetAccount and enforced rate 50/s with a bucket
#                     of 1 s, 1,000 recipients: time to send them all (target
#                     <= 22 s) and the throttled share (target <= 1 %)
#   case "recover":   as auto50 with 2,000 recipients; the fake throttles
#                     every request for 2 s, 5 s in: time from the end of
#                     that until a second with >= 45 accepted (target <= 10 s)
# then the fake's own capacity (the fake_ses [bench] test). Each case gets a
# fresh data dir; mailerd is stopped with SIGTERM and must exit 0.
# Usage: bench/run.sh BUILD_DIR   (env: BENCH_RECIPIENTS=100000,
#        BENCH_CASES="instant webhooks latency20 fake rate500 auto50 recover", BENCH_LOG_LEVEL=info,
#        BENCH_SQL: SQL run on the new database before a drain case, for experiments; needs sqlite3)
# e.g. only the send-rate cases: BENCH_CASES="rate500 auto50 recover" bench/run.sh build
set -euo pipefail

build_dir=${1:?usage: run.sh BUILD_DIR}
recipients=${BENCH_RECIPIENTS:-100000}
cases=${BENCH_CASES:-"instant webhooks latency20 fake rate500 auto50 recover"}
log_level=${BENCH_LOG_LEVEL:-info}
mailerd="$build_dir/mailerd"
mailerctl="$build_dir/mailerctl"
fake_ses="$build_dir/mailer-fake-ses"
drain="$build_dir/bench/mailer_bench_drain"
prune_fill="$build_dir/bench/mailer_bench_prune_fill"
rate_driver="$build_dir/bench/mailer_bench_rate"
# shellcheck source=examples/lib.sh
source "$(cd "$(dirname "$0")/.." && pwd)/examples/lib.sh"  # wait_port, stop_child, start_mailerd, require_built
require_built bench "$mailerd" "$mailerctl" "$fake_ses" "$drain" "$prune_fill" "$rate_driver" || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/mailerd-bench.XXXXXX")
fake_pid="" mailerd_pid="" receiver_pid=""
cleanup() {
  [[ -n $receiver_pid ]] && kill "$receiver_pid" 2>/dev/null
  [[ -n $mailerd_pid ]] && stop_child "$mailerd_pid"
  [[ -n $fake_pid ]] && stop_child "$fake_pid"
  rm -rf "$work"
}
trap cleanup EXIT
no_port() {  # no_port LOG: what a child that did not start logged, then exit
  echo "bench: no port in $1:" >&2; cat "$1" >&2; exit 1
}

cpu_ticks() {  # cpu_ticks PID: utime+stime in clock ticks (fields 14 and 15 of /proc/PID/stat)
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -m | awk '/Mem:/{print $2}') MB RAM"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# start_stack DIR SES_RATE CONCURRENCY PRUNE_INTERVAL FAKE_ARGS...: the fake
# (GetAccount 1,000,000/s unless FAKE_ARGS say otherwise) and a mailerd sending
# to it at ses.max_send_rate SES_RATE ("auto": unset, so GetAccount's rate),
# with an admin key. Sets fake_pid, fake_port, mailerd_pid, mailerd_port, key.
start_stack() {
  local dir=$1 ses_rate=$2 concurrency=$3 prune_interval=$4; shift 4
  local account_rate=(--max-send-rate 1000000)
  [[ " $* " == *" --max-send-rate "* ]] && account_rate=()  # the fake takes each flag once
  "$fake_ses" --port 0 --no-store --access-key-id AKIDBENCH --secret-access-key bench-secret \
    "${account_rate[@]}" --max-24h-send -1 "$@" 2>"$dir/fake.log" &
  fake_pid=$!
  fake_port=$(wait_port "$dir/fake.log" "$fake_pid" mailer-fake-ses) || no_port "$dir/fake.log"
  if [[ $ses_rate == auto ]]; then unset MAILER_SES_MAX_SEND_RATE; else export MAILER_SES_MAX_SEND_RATE=$ses_rate; fi

  MAILER_DB_PATH="$dir/mailer.db" MAILER_LOG_FORMAT=json MAILER_LOG_LEVEL=$log_level \
  MAILER_SES_ENDPOINT="http://127.0.0.1:$fake_port" MAILER_SES_ACCESS_KEY_ID=AKIDBENCH \
  MAILER_SES_SECRET_ACCESS_KEY=bench-secret AWS_EC2_METADATA_DISABLED=true \
  MAILER_UNSUBSCRIBE_SECRET=bench-unsubscribe-secret MAILER_WORKER_CONCURRENCY="$concurrency" \
  MAILER_API_RATE_LIMIT_PER_SECOND=1000 MAILER_RETENTION_PRUNE_INTERVAL_SECONDS=$prune_interval \
  MAILER_WEBHOOKS_ALLOW_HTTP=true MAILER_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true \
    start_mailerd "$mailerd" "$dir/mailerd.log" || no_port "$dir/mailerd.log"
  key=$("$mailerctl" --db "$dir/mailer.db" keys create --name bench --scope admin | tail -1)
}

# stop_stack DIR: SIGTERM to mailerd (which must exit 0), then to the fake.
stop_stack() {
  stop_child "$mailerd_pid"; mailerd_pid=""
  [[ $stopped_code == 0 ]] || { echo "bench: mailerd exited $stopped_code" >&2; exit 1; }
  stop_child "$fake_pid"; fake_pid=""
  echo "   mailerd log: $(wc -l <"$1/mailerd.log") lines, $(du -k "$1/mailerd.log" | cut -f1) kB; exit 0 after SIGTERM"
}

run_case() {  # run_case NAME CONCURRENCY FAKE_ARGS...
  local name=$1 concurrency=$2; shift 2
  local dir="$work/$name"
  mkdir -p "$dir"
  local n=$recipients poll_ms=50 prune_interval=3600
  if [[ $name == prune* ]]; then
    n=${BENCH_PRUNE_RECIPIENTS:-20000} poll_ms=5 prune_interval=2
    [[ $name == prune ]] && echo "   fill: $("$prune_fill" "$dir/mailer.db" "${BENCH_PRUNE_ROWS:-1000000}")"
  fi
  start_stack "$dir" 1000000 "$concurrency" "$prune_interval" "$@"
  local port=$mailerd_port
  # An experiment on the schema's cost, e.g. BENCH_SQL="DROP INDEX events_by_time"
  # (docs/PERFORMANCE.md); never part of a recorded baseline.
  [[ -n ${BENCH_SQL:-} ]] && sqlite3 -cmd ".timeout 5000" "$dir/mailer.db" "$BENCH_SQL"

  [[ $name == webhooks ]] && add_webhook_receiver "$dir"
  echo "== $name: $n recipients, worker.concurrency $concurrency, fake $*"
  local result fake_ticks_before fake_ticks_after
  fake_ticks_before=$(cpu_ticks "$fake_pid")
  result=$("$drain" "$port" "$key" "$fake_port" "$mailerd_pid" "$n" 900 "$poll_ms") \
    || { echo "bench: drain failed; mailerd log tail:" >&2; tail -20 "$dir/mailerd.log" >&2; exit 1; }
  echo "$result"
  fake_ticks_after=$(cpu_ticks "$fake_pid")
  echo "   mailer-fake-ses CPU during the run: $(( (fake_ticks_after - fake_ticks_before) * 1000 / $(getconf CLK_TCK) )) ms"
  [[ $name == webhooks ]] && report_webhook_receiver
  [[ $name == prune* ]] && echo "   prune: $(grep -m1 '"prune pass finished"' "$dir/mailerd.log" || echo 'no pass finished')"
  stop_stack "$dir"
}

# run_rate_case NAME SES_RATE RATE N CONCURRENCY FAKE_ARGS...: one send-rate
# case of bench/rate.cpp, measured against RATE recipients/s.
run_rate_case() {
  local name=$1 ses_rate=$2 target_rate=$3 n=$4 concurrency=$5; shift 5
  local dir="$work/$name"
  mkdir -p "$dir"
  start_stack "$dir" "$ses_rate" "$concurrency" 3600 "$@"
  echo "== $name: $n recipients, ses.max_send_rate $ses_rate, worker.concurrency $concurrency, fake $*"
  "$rate_driver" "$name" "$mailerd_port" "$key" "$fake_port" "$target_rate" "$n" 300 \
    || { echo "bench: $name failed; mailerd log tail:" >&2; tail -20 "$dir/mailerd.log" >&2; exit 1; }
  stop_stack "$dir"
}

# add_webhook_receiver DIR: starts the test receiver and subscribes it to SENT
# and DELIVERY through mailerctl (uses $mailerctl, sets receiver_pid/_port).
add_webhook_receiver() {
  local dir=$1 source_dir secret
  source_dir="$(cd "$(dirname "$0")/.." && pwd)"
  sh "$source_dir/tests/webhooks/install.sh" "$build_dir/tests/webhooks" >/dev/null
  node "$build_dir/tests/webhooks/receiver.js" >"$dir/receiver.log" 2>&1 &
  receiver_pid=$!
  for _ in $(seq 1 100); do
    receiver_port=$(grep -o 'port=[0-9]*' "$dir/receiver.log" | cut -d= -f2 || true)
    [[ -n $receiver_port ]] && break
    sleep 0.1
  done
  secret=$(MAILER_WEBHOOKS_ALLOW_HTTP=true MAILER_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true "$mailerctl" --db "$dir/mailer.db" \
    webhooks add --url "http://127.0.0.1:$receiver_port/hook" --event-type SENT --event-type DELIVERY | tail -1)
  curl -s -X POST "http://127.0.0.1:$receiver_port/_control" -d "{\"secret\":\"$secret\"}" >/dev/null
}

# report_webhook_receiver: waits (up to 60 s) for every SENT event at the receiver, prints its figures.
report_webhook_receiver() {
  local stats=""
  for _ in $(seq 1 600); do
    stats=$(curl -s "http://127.0.0.1:$receiver_port/_stats")
    [[ $(echo "$stats" | grep -o '"unique_events":[0-9]*' | cut -d: -f2) -ge $recipients ]] && break
    sleep 0.1
  done
  echo "   webhooks: $(echo "$stats" | grep -o '"requests":[0-9]*\|"rejected":[0-9]*\|"unique_events":[0-9]*\|"duplicates":[0-9]*\|"latency_ms":{[^}]*}' | tr '\n' ' ')"
  kill "$receiver_pid" 2>/dev/null; receiver_pid=""
}

machine
for c in $cases; do
  case $c in
    instant) run_case instant 16 --threads 32 ;;
    webhooks) run_case webhooks 16 --threads 32 ;;
    latency20) run_case latency20 64 --threads 80 --latency-ms 20 ;;
    prune | prune_baseline) run_case "$c" 16 --threads 32 ;;
    rate500) run_rate_case rate500 500 500 5000 16 --threads 32 ;;
    auto50 | recover)
      run_rate_case "$c" auto 50 "$([[ $c == auto50 ]] && echo 1000 || echo 2000)" 16 --threads 32 \
        --max-send-rate 50 --fault-max-send-rate 50 --fault-burst-seconds 1 ;;
    fake)
      echo "== fake: mailer-fake-ses alone (4 client threads, signed SendEmail, --no-store --threads 8)"
      "$build_dir/tests/mailer_integration_tests" "[bench]" 2>&1 | grep -E 'req/s|passed|failed' ;;
    *) echo "bench: unknown case $c" >&2; exit 2 ;;
  esac
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
