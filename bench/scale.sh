#!/usr/bin/env bash
# Scale benchmark (docs/PERFORMANCE.md "Scale"): the same operations timed on
# a database holding the history of a long-running mailerd and on an empty
# one, in the same run, with the ratio of the two.
#
# The full file is written by build/bench/mailer_bench_scale_fill (through
# the store layer, not the API): SCALE_MESSAGES messages in SCALE_BATCHES
# batches over SCALE_DAYS days, with ~2.4 events per message. Then, for each
# column (first the empty file, then the full one):
#   start-up      mailerd started on the file until its "listening" line
#   accept        POST /v1/batches of SCALE_RECIPIENTS recipients (202)
#   drain         the same batch sent through mailer-fake-ses --no-store
#   ten batches of one recipient (a subscriber with history), drained, so
#   that both files have a last page of ten batches to list
#   API reads     the median of SCALE_REPEAT requests each (curl's
#                 time_total, keep-alive not used): events by address, by
#                 batch, by type and time; GET /v1/batches past the first
#                 page; GET /v1/admin/metrics?period=30d; a /metrics scrape
#   backup, check mailerctl db backup and db check, mailerd stopped
#   prune         mailerctl db prune with every retention at SCALE_PRUNE_DAYS
#                 (30), then mailerd's pruner returns the free pages
#                 (incremental vacuum); the file size before and after
#
# Usage: bench/scale.sh BUILD_DIR
# Environment: SCALE_MESSAGES (10000000), SCALE_BATCHES (100), SCALE_DAYS
# (60), SCALE_RECIPIENTS (100000), SCALE_REPEAT (21), SCALE_PRUNE_DAYS (30),
# SCALE_COLUMNS ("empty full"), SCALE_KEEP=1 (keep the files), SCALE_CHECK=1 (the smoke test: also fail
# unless the API's counts equal the rows the generator wrote), TMPDIR (where
# the files go: the full file takes ~1.7 kB per message, twice with its
# backup).
set -euo pipefail

build_dir=${1:?usage: scale.sh BUILD_DIR}
messages=${SCALE_MESSAGES:-10000000}
batches=${SCALE_BATCHES:-100}
days=${SCALE_DAYS:-60}
recipients=${SCALE_RECIPIENTS:-100000}
repeat=${SCALE_REPEAT:-21}
prune_days=${SCALE_PRUNE_DAYS:-30}
columns=${SCALE_COLUMNS:-"empty full"}
check=${SCALE_CHECK:-0}
mailerd="$build_dir/mailerd"
mailerctl="$build_dir/mailerctl"
fake_ses="$build_dir/mailer-fake-ses"
drain="$build_dir/bench/mailer_bench_drain"
fill="$build_dir/bench/mailer_bench_scale_fill"
# shellcheck source=examples/lib.sh
source "$(cd "$(dirname "$0")/.." && pwd)/examples/lib.sh"  # wait_port, stop_child, start_mailerd, require_built
require_built scale "$mailerd" "$mailerctl" "$fake_ses" "$drain" "$fill" || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/mailerd-scale.XXXXXX")
fake_pid="" mailerd_pid=""
cleanup() {
  [[ -n $mailerd_pid ]] && stop_child "$mailerd_pid"
  [[ -n $fake_pid ]] && stop_child "$fake_pid"
  if [[ ${SCALE_KEEP:-0} == 1 ]]; then echo "scale: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "scale: $*" >&2; exit 1; }

now_ms() { date +%s%3N; }
rfc3339() { date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%SZ; }  # rfc3339 MS
cursor() { printf %s "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }  # the API's cursor for a sort key
file_bytes() { stat -c %s "$1"; }
# json_field JSON NAME: the first value of NAME in JSON, quotes removed; "" when absent.
json_field() { { grep -o "\"$2\":[^,}]*" <<<"$1" || true; } | head -1 | cut -d: -f2- | tr -d '"'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

declare -A result  # result[column/operation] = figure
record() {  # record COLUMN OPERATION FIGURE
  [[ $3 =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "$2: no figure"
  result[$1/$2]=$3
  echo "   $2: $3"
}

# The configuration of every mailerd started here (mailerctl ignores what it does not use).
export MAILER_LOG_FORMAT=json MAILER_LOG_LEVEL=info MAILER_SES_ACCESS_KEY_ID=AKIDBENCH \
  MAILER_SES_SECRET_ACCESS_KEY=bench-secret MAILER_SES_MAX_SEND_RATE=1000000 AWS_EC2_METADATA_DISABLED=true \
  MAILER_UNSUBSCRIBE_SECRET=bench-unsubscribe-secret MAILER_WORKER_CONCURRENCY=16 \
  MAILER_API_RATE_LIMIT_PER_SECOND=100000
retention_env=(MAILER_RETENTION_MESSAGE_CONTENT_DAYS="$prune_days" MAILER_RETENTION_MESSAGES_DAYS="$prune_days"
  MAILER_RETENTION_EVENTS_DAYS="$prune_days")

# start: mailerd on $db (sets port, mailerd_log); records the start-up time,
# from the exec to the time of its "listening" line.
start() {
  local log="$dir/mailerd.$((++starts)).log" t0 listening
  t0=$(now_ms)
  MAILER_DB_PATH=$db MAILER_SES_ENDPOINT="http://127.0.0.1:$fake_port" start_mailerd "$mailerd" "$log" \
    || { cat "$log" >&2; fail "mailerd did not start"; }
  port=$mailerd_port mailerd_log=$log
  listening=$(grep -m1 '"listening"' "$log" | grep -o '"time":"[^"]*"' | cut -d'"' -f4)
  startup_ms=$(($(date -d "$listening" +%s%3N) - t0))
}

stop() {
  kill -TERM "$mailerd_pid" 2>/dev/null || true
  while kill -0 "$mailerd_pid" 2>/dev/null; do sleep 0.05; done
  mailerd_pid=""
}

api() {  # api PATH [CURL_ARGS...]
  local path=$1; shift
  curl -sf -H "Authorization: Bearer $key" "$@" "http://127.0.0.1:$port$path"
}

# median_ms PATH: the median of $repeat GETs of PATH (a first one unmeasured
# warms the caches), in ms; fails unless each answers 200.
median_ms() {
  api "$1" >/dev/null || fail "GET $1 failed"
  for _ in $(seq "$repeat"); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $key" "http://127.0.0.1:$port$1" \
      || fail "GET $1 failed"
  done | sort -n | awk '{t[NR] = $1} END {printf "%.2f", t[int((NR + 1) / 2)] * 1000}'
}

timed_ms() {  # timed_ms COMMAND...: runs it, prints its wall time in ms
  local t0; t0=$(now_ms)
  "$@" >/dev/null || fail "$* failed"
  echo $(($(now_ms) - t0))
}

wait_batch_completed() {  # wait_batch_completed ID
  for _ in $(seq 1 600); do
    [[ $(api "/v1/batches/$1" | grep -o '"status":"[a-z]*"' | head -1) == '"status":"completed"' ]] && return 0
    sleep 0.1
  done
  fail "batch $1 did not complete"
}

# Ten batches of one recipient, the subscriber with history, each sent.
post_small_batches() {
  local id
  for i in $(seq 1 10); do
    id=$(api /v1/batches -X POST -H 'Content-Type: application/json' \
      -d "{\"from\":\"news@example.net\",\"content\":{\"subject\":\"Note $i\",\"text\":\"Hi\"},\"recipients\":[\"$subscriber\"]}" \
      | grep -o '"id":"bat_[^"]*"' | cut -d'"' -f4) || fail "POST /v1/batches failed"
    wait_batch_completed "$id"
  done
}

measure_reads() {
  local since; since=$(rfc3339 "$bench_start_ms")
  record "$column" "events by address (limit 10)" "$(median_ms "/v1/events?email=$subscriber&limit=10")"
  record "$column" "events by batch (the 100k batch)" "$(median_ms "/v1/events?batch_id=$bench_batch")"
  record "$column" "events by type and time (SENT since the run began)" \
    "$(median_ms "/v1/events?type=SENT&since=$since")"
  record "$column" "batches, last page by cursor (limit 10)" "$(median_ms "/v1/batches?limit=10&cursor=$(cursor "$deep_cursor")")"
  record "$column" "admin metrics, period=30d" "$(median_ms "/v1/admin/metrics?period=30d")"
  record "$column" "/metrics scrape" "$(median_ms /metrics)"
  [[ $column == full ]] || return 0
  # History only the full file has: a batch of the history, a day of
  # DELIVERY events 45 days back.
  local day_from; day_from=$(($(now_ms) - 45 * 86400000))
  record "$column" "events by batch (a batch of the history)" \
    "$(median_ms "/v1/events?batch_id=$(json_field "$filled" oldest_batch_id)")"
  record "$column" "events by type and time (DELIVERY, a day 45 days ago)" \
    "$(median_ms "/v1/events?type=DELIVERY&since=$(rfc3339 "$day_from")&until=$(rfc3339 $((day_from + 86400000)))")"
}

# The smoke test's check, before the benchmark adds anything: what the API
# counts equals what the generator wrote.
check_counts() {
  local metrics type expected got listed
  metrics=$(api /metrics)
  for type in SENT DELIVERY BOUNCE OPEN CLICK COMPLAINT UNSUBSCRIBE SUPPRESSED; do
    expected=$(json_field "$(grep -o '"events_by_type":{[^}]*}' <<<"$filled")" "$type")
    got=$(grep "^mailer_events_total{type=\"$type\"}" <<<"$metrics" | awk '{print $2}')
    [[ ${got%.*} == "${expected:-0}" ]] || fail "mailer_events_total{type=$type} is $got; the generator wrote ${expected:-0}"
  done
  listed=$(api "/v1/batches?limit=1000" | grep -o '"id":"bat_' | wc -l)
  [[ $listed == "$batches" ]] || fail "GET /v1/batches lists $listed batches; the generator wrote $batches"
  expected=$((messages / batches))
  got=$(api "/v1/batches/$(json_field "$filled" oldest_batch_id)" | grep -o '"sent":[0-9]*' | head -1 | cut -d: -f2)
  [[ $got == "$(json_field "$filled" first_batch_sent)" ]] \
    || fail "the oldest batch shows $got sent; the generator sent $(json_field "$filled" first_batch_sent)"
  echo "   counts: the API's event totals, batches and sent messages match the generator"
}

prune_and_compact() {
  local before after
  before=$(file_bytes "$db")
  record "$column" "mailerctl db prune (${prune_days} days), ms" \
    "$(timed_ms env "${retention_env[@]}" "$mailerctl" --db "$db" db prune)"
  # mailerd's pruner gives the freed pages back after each pass (every second
  # here); the second pass ends after the first one's pages went back.
  export MAILER_RETENTION_PRUNE_INTERVAL_SECONDS=1 "${retention_env[@]}"
  start
  unset MAILER_RETENTION_PRUNE_INTERVAL_SECONDS "${retention_env[@]%%=*}"
  for _ in $(seq 1 1200); do
    [[ $(grep -c '"prune pass finished"' "$mailerd_log") -ge 2 ]] && break
    sleep 0.5
  done
  [[ $(grep -c '"prune pass finished"' "$mailerd_log") -ge 2 ]] || fail "no second prune pass in 10 min"
  stop
  after=$(file_bytes "$db")
  record "$column" "file before prune, MB" "$((before / 1048576))"
  record "$column" "file after prune and compaction, MB" "$((after / 1048576))"
  record "$column" "file after/before, %" "$((after * 100 / before))"
}

# fill: the full file, before either column is measured, so that both are
# measured close together (sets filled: the generator's JSON line).
fill_full() {
  mkdir -p "$work/full"
  local t0; t0=$(now_ms)
  echo "== fill (load average $(loadavg))"
  filled=$("$fill" "$work/full/mailer.db" "$messages" "$batches" "$days") || fail "mailer_bench_scale_fill failed"
  echo "   $filled"
  record full "fill, s" "$((($(now_ms) - t0) / 1000))"
}

run_column() {
  column=$1 dir="$work/$1" db="$work/$1/mailer.db" starts=0
  mkdir -p "$dir"
  echo "== $column (load average $(loadavg))"
  [[ $column == full ]] || "$mailerctl" --db "$db" db migrate >/dev/null
  subscriber=$(json_field "$filled" subscriber)
  record "$column" "file, MB" "$(($(file_bytes "$db") / 1048576))"

  "$fake_ses" --port 0 --no-store --access-key-id AKIDBENCH --secret-access-key bench-secret \
    --max-send-rate 1000000 --max-24h-send -1 --threads 32 2>"$dir/fake.log" &
  fake_pid=$!
  fake_port=$(wait_port "$dir/fake.log" "$fake_pid" mailer-fake-ses) || fail "mailer-fake-ses did not start"
  start
  record "$column" "start-up, ms" "$startup_ms"
  key=$("$mailerctl" --db "$db" keys create --name scale --scope admin | tail -1)
  if [[ $check == 1 && $column == full ]]; then check_counts; fi

  bench_start_ms=$(now_ms)
  local drained
  drained=$("$drain" "$port" "$key" "$fake_port" "$mailerd_pid" "$recipients" 900 50) || fail "drain failed"
  record "$column" "accept ${recipients}, ms" "$(printf %.0f "$(json_field "$drained" accept_ms)")"
  record "$column" "drain, msg/s" "$(printf %.0f "$(json_field "$drained" drain_msgs_per_s)")"
  bench_batch=$(api "/v1/batches?limit=1" | grep -o '"id":"bat_[^"]*"' | head -1 | cut -d'"' -f4)
  post_small_batches
  # The last page of ten: after the newest batch on the empty file (nine
  # small ones and the big one), after the eleventh oldest on the full one.
  if [[ $column == full ]]; then deep_cursor=$(json_field "$filled" deep_batch_id)
  else deep_cursor=$(api "/v1/batches?limit=1" | grep -o '"id":"bat_[^"]*"' | head -1 | cut -d'"' -f4); fi
  measure_reads
  stop

  record "$column" "mailerctl db backup, ms" "$(timed_ms "$mailerctl" --db "$db" db backup "$dir/backup.db")"
  rm -f "$dir/backup.db"
  record "$column" "mailerctl db check, ms" "$(timed_ms "$mailerctl" --db "$db" db check)"
  prune_and_compact
  stop_child "$fake_pid"; fake_pid=""
  echo "   load average after: $(loadavg)"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -m | awk '/Mem:/{print $2}') MB RAM"
echo "scale: $messages messages in $batches batches over $days days; accept/drain $recipients; median of $repeat"
filled='{"subscriber":"sub0@example.net"}'
[[ " $columns " == *" full "* ]] && fill_full
for c in $columns; do run_column "$c"; done

echo "== results (ms unless named; ratio = full / empty)"
for key in "${!result[@]}"; do echo "${key#*/}"; done | sort -u | while read -r op; do
  e=${result[empty/$op]:-} f=${result[full/$op]:-}
  ratio=""
  [[ -n $e && -n $f ]] && ratio=$(awk -v e="$e" -v f="$f" 'BEGIN { if (e > 0) printf "%.2f", f / e }')
  printf '%-58s %10s %10s %6s\n' "$op" "${e:--}" "${f:--}" "$ratio"
done
