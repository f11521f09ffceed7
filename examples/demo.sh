#!/usr/bin/env bash
# The quick start, end to end, on real input: mailer-fake-ses (the local SES
# endpoint) and mailerd on loopback with a fresh database, the health checks,
# an admin key from mailerctl, the newsletter template of examples/newsletter/,
# examples/recipients.csv sent as one batch, the batch followed to completion,
# its summary, then examples/simulator.csv sent to the SES mailbox simulator;
# the fake publishes the feedback (deliveries, opens, clicks, bounces, a
# complaint) as signed SNS notifications to mailerd's webhook, and the demo
# shows the events by type and the suppressions they caused; a local receiver
# (examples/webhook_receiver.py), subscribed with `mailerctl webhooks add`,
# checks the signature of every outgoing webhook delivery and counts the
# events it got by type. On a terminal it then prints the dashboard's URL and
# the admin key and keeps mailerd running until Enter (not with --no-wait, or
# when stdin is not a terminal, as in CI). Ends with a clean shutdown of both. The rendered messages are kept under demo-out/ (or
# $DEMO_OUT) and their path is printed.
# Run by `make demo` (which builds first; `make demo DEMO_ARGS=--no-wait`);
# usage: examples/demo.sh BUILD_DIR [--no-wait]
set -euo pipefail

build_dir=${1:?usage: demo.sh BUILD_DIR [--no-wait]}
wait_for_enter=true
case ${2:-} in
  "") ;;
  --no-wait) wait_for_enter=false ;;
  *) echo "usage: demo.sh BUILD_DIR [--no-wait]" >&2; exit 2 ;;
esac
[[ -t 0 ]] || wait_for_enter=false  # nobody to press Enter (CI, a pipe)
examples=$(cd "$(dirname "$0")" && pwd)
mailerd="$build_dir/mailerd"
mailerctl="$build_dir/mailerctl"
fake_ses="$build_dir/mailer-fake-ses"
for bin in "$mailerd" "$mailerctl" "$fake_ses"; do
  [[ -x $bin ]] || { echo "demo: $bin not built (run make build)" >&2; exit 1; }
done
for input in newsletter/subject.txt newsletter/newsletter.html newsletter/newsletter.txt recipients.csv \
  simulator.csv; do
  [[ -f $examples/$input ]] || { echo "demo: examples/$input is missing" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/mailerd-demo.XXXXXX")  # database and logs; removed at exit
out_root=${DEMO_OUT:-$PWD/demo-out}
mkdir -p "$out_root"
out=$(mktemp -d "$out_root/run-$(date +%Y%m%d-%H%M%S).XXXX")  # kept
# shellcheck source=examples/lib.sh
source "$examples/lib.sh"  # wait_port, stop_child, start_mailerd
mailerd_pid="" fake_pid="" receiver_pid=""
cleanup() {
  [[ -n $mailerd_pid ]] && stop_child "$mailerd_pid"
  [[ -n $receiver_pid ]] && stop_child "$receiver_pid"
  [[ -n $fake_pid ]] && stop_child "$fake_pid"
  cp "$work"/*.log "$out/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() {
  echo "demo: FAILED: $*" >&2
  for log in "$work"/*.log; do [[ -f $log ]] && { echo "---- $log" >&2; tail -30 "$log" >&2; }; done
  exit 1
}
json_field() {  # json_field NAME: the first "NAME":value of stdin (compact JSON)
  grep -o "\"$1\": *[^,}]*" | head -1 | sed 's/^[^:]*: *//; s/^"//; s/"$//'
}
count_of() {  # count_of NAME JSON: a number inside "states"/"counts", 0 when absent
  printf '%s' "$2" | tr -d ' \n' | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2 | grep . || echo 0
}
events_of() {  # events_of JSON: the "events" object of a batch, compact
  printf '%s' "$1" | tr -d ' \n' | grep -o '"events":{[^}]*}' | head -1 | sed 's/^"events"://'
}
wait_batch() {  # wait_batch ID: polls GET /v1/batches/ID until completed (120 s); sets $batch
  local batch_status=""
  batch=""
  for _ in $(seq 1 1200); do
    batch=$(curl -fsS "${auth[@]}" "$base/v1/batches/$1") || fail "GET /v1/batches/$1"
    batch_status=$(printf '%s' "$batch" | json_field status)
    [[ -t 1 ]] && printf '\r  status %-10s sent %5s' "$batch_status" "$(count_of sent "$batch")"
    [[ $batch_status == completed ]] && break
    sleep 0.1
  done
  echo
  [[ $batch_status == completed ]] || fail "batch $1 still $batch_status after 120 s"
}

# Demo credentials for the local endpoint only; never real AWS keys.
access_key=AKIDMAILERDEMO
secret_key=demo-secret-$RANDOM$RANDOM
export MAILER_DB_PATH="$work/mailer.db" MAILER_LOG_FORMAT=json
export MAILER_UNSUBSCRIBE_SECRET="demo-unsubscribe-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

# The fake's SNS topic; mailerd accepts feedback from it alone.
topic_arn=arn:aws:sns:us-east-1:123456789012:mailer-demo-feedback

step "starting mailer-fake-ses (the local SES v2 endpoint), messages go to $out/messages"
# Event publishing flavour: a Send per message, then Delivery (or Bounce,
# Complaint), and for 30% of the delivered messages an Open, 10% a Click.
"$fake_ses" --port 0 --out-dir "$out/messages" --access-key-id "$access_key" --secret-access-key "$secret_key" \
  --max-send-rate 200 --sns-topic-arn "$topic_arn" --sns-flavour event --open-rate 0.3 --click-rate 0.1 \
  --seed 7 2>"$work/fake-ses.log" &
fake_pid=$!
mkdir -p "$out/messages"
fake_port=$(wait_port "$work/fake-ses.log" "$fake_pid" mailer-fake-ses) || fail "mailer-fake-ses did not start"
echo "mailer-fake-ses listens on 127.0.0.1:$fake_port (GetAccount MaxSendRate 200/s)"

step "starting a webhook receiver on loopback (examples/webhook_receiver.py)"
# It checks each delivery's Standard Webhooks signature with the endpoint's
# secret (read once the endpoint exists) and counts the events by type.
python3 "$examples/webhook_receiver.py" "$work/receiver.port" "$work/receiver.secret" "$work/receiver.json" \
  2>"$work/receiver.log" &
receiver_pid=$!
for _ in $(seq 1 50); do [[ -s $work/receiver.port ]] && break; sleep 0.1; done
[[ -s $work/receiver.port ]] || fail "the webhook receiver did not start"
receiver_url="http://127.0.0.1:$(cat "$work/receiver.port")/mailerd-events"
echo "receiver listens at $receiver_url"

step "starting mailerd on a free port (also its public_url) with a fresh database in $work"
# Outgoing webhooks to http:// on loopback are allowed for this demo only:
# a real endpoint is https:// on a public address.
export MAILER_WEBHOOKS_ALLOW_HTTP=true MAILER_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true
# The webhook trusts the fake's topic and its certificate on loopback over
# http: settings for this demo only, never for a mailerd facing real SNS.
MAILER_SNS_TOPIC_ARNS="$topic_arn" MAILER_SNS_CERT_HOST_PATTERN='^127\.0\.0\.1$' MAILER_SNS_ALLOW_HTTP=true \
  MAILER_SES_ENDPOINT="http://127.0.0.1:$fake_port" \
  MAILER_SES_ACCESS_KEY_ID="$access_key" MAILER_SES_SECRET_ACCESS_KEY="$secret_key" \
  AWS_EC2_METADATA_DISABLED=true start_mailerd "$mailerd" "$work/mailerd.log" || fail "mailerd did not start"
echo "mailerd listens on $base (pid $mailerd_pid)"

step "subscribing mailerd's webhook to the fake's SNS topic (POST /_fake/sns)"
fake="http://127.0.0.1:$fake_port"
curl -fsS -o /dev/null -X POST "$fake/_fake/sns" -d "{\"endpoint\":\"$base/webhooks/ses\"}" \
  || fail "POST /_fake/sns"
for _ in $(seq 1 50); do  # the fake POSTs a SubscriptionConfirmation; mailerd GETs its SubscribeURL
  curl -fsS "$fake/_fake/stats" | grep -q '"subscription":"confirmed"' && break
  sleep 0.1
done
curl -fsS "$fake/_fake/stats" | grep -q '"subscription":"confirmed"' || fail "mailerd did not confirm the subscription"
echo "mailerd confirmed the subscription to $topic_arn"

step "GET /health and GET /ready"
curl -fsS "$base/health" || fail "/health"
echo
for _ in $(seq 1 50); do  # ready once the engine has asked SES for the account
  curl -fsS -o "$work/ready.json" "$base/ready" 2>/dev/null && break
  sleep 0.1
done
curl -fsS "$base/ready" || fail "/ready"
echo

step "creating an admin key with mailerctl"
key_json=$("$mailerctl" --db "$MAILER_DB_PATH" keys create --name demo-admin --scope admin --json) \
  || fail "mailerctl keys create"
key=$(printf '%s' "$key_json" | tr -d '\n' | json_field key)
[[ -n $key ]] || fail "no key in: $key_json"
echo "admin key (shown once): ${key:0:12}…"
auth=(-H "Authorization: Bearer $key")
status=$(curl -sS -o /dev/null -w '%{http_code}' "$base/v1/admin/keys")
[[ $status == 401 ]] || fail "GET /v1/admin/keys without a key answered $status, not 401"

step "subscribing the receiver to every event (mailerctl webhooks add)"
hook_json=$("$mailerctl" --db "$MAILER_DB_PATH" --json webhooks add --url "$receiver_url" \
  --description "demo receiver") || fail "mailerctl webhooks add: $hook_json"
printf '%s' "$hook_json" | tr -d ' \n' | grep -o '"secret":"whsec_[^"]*"' | cut -d'"' -f4 >"$work/receiver.secret"
[[ -s $work/receiver.secret ]] || fail "no secret in: $hook_json"
hook_id=$(printf '%s' "$hook_json" | tr -d '\n' | json_field id)
echo "endpoint $hook_id; its signing secret (shown once) went to the receiver"

step "creating the template 'newsletter' from examples/newsletter/"
"$mailerctl" --db "$MAILER_DB_PATH" templates create --name newsletter \
  --subject-file "$examples/newsletter/subject.txt" --html-file "$examples/newsletter/newsletter.html" \
  --text-file "$examples/newsletter/newsletter.txt" || fail "mailerctl templates create"

step "sending examples/recipients.csv ($(($(wc -l <"$examples/recipients.csv") - 1)) rows) as one batch"
send_json=$("$mailerctl" --db "$MAILER_DB_PATH" --json send --template newsletter \
  --from "Example Shop <news@example.com>" --recipients "$examples/recipients.csv" --skip-invalid) \
  || fail "mailerctl send: $send_json"
batch_id=$(printf '%s' "$send_json" | tr -d '\n' | json_field id)
[[ $batch_id == bat_* ]] || fail "no batch id in: $send_json"
echo "batch $batch_id accepted"

step "waiting for the batch to complete (GET /v1/batches/$batch_id)"
started=$SECONDS
wait_batch "$batch_id"

sent=$(count_of sent "$batch") failed=$(count_of failed "$batch")
invalid=$(printf '%s' "$send_json" | tr -d ' \n' | grep -o '"index":' | wc -l)
duplicate=$(count_of duplicate "$batch")
suppressed=$(count_of suppressed "$batch")
emls=("$out"/messages/*.eml)
stored=${#emls[@]}
step "batch summary"
printf '  %-11s %6s\n' sent "$sent" failed "$failed" invalid "$invalid" duplicate "$duplicate" \
  suppressed "$suppressed"
echo "  took about $((SECONDS - started)) s at the account's send rate"
echo "  mailer-fake-ses stored $stored messages"
[[ $stored == "$sent" ]] || fail "the fake stored $stored messages but the batch says $sent sent"
[[ $sent -gt 0 && $failed == 0 ]] || fail "nothing sent, or failures"

step "one rendered message"
sample=${emls[0]}
sed -n '1,/^$/p' "$sample" | grep -E '^(From|To|Subject|List-Unsubscribe|X-Mailer-Message-Id):' || true
echo "  ($sample)"

step "its List-Unsubscribe link reaches this mailerd"
# Header lines unfolded (RFC 5322 §2.2.3), then the https/http URL of the header.
unsubscribe_url=$(sed -n '1,/^\r\{0,1\}$/p' "$sample" | tr -d '\r' | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n[ \t]\+/ /g' \
  | grep -i '^List-Unsubscribe:' | grep -o '<http[^>]*>' | head -1 | tr -d '<>' || true)
[[ $unsubscribe_url == "$base/u/"* ]] \
  || fail "List-Unsubscribe is <$unsubscribe_url>, not a link to this mailerd ($base/u/...)"
status=$(curl -sS -o /dev/null -w '%{http_code}' "$unsubscribe_url")  # GET shows the page, changes nothing
[[ $status == 200 ]] || fail "GET $unsubscribe_url answered $status, not 200"
echo "  GET $unsubscribe_url: 200 (the confirmation page)"

step "sending examples/simulator.csv to the SES mailbox simulator (success, bounce, complaint, ooto, ...)"
sim_json=$("$mailerctl" --db "$MAILER_DB_PATH" --json send --template newsletter \
  --from "Example Shop <news@example.com>" --recipients "$examples/simulator.csv") \
  || fail "mailerctl send: $sim_json"
sim_id=$(printf '%s' "$sim_json" | tr -d '\n' | json_field id)
[[ $sim_id == bat_* ]] || fail "no batch id in: $sim_json"
echo "batch $sim_id accepted"
wait_batch "$sim_id"

step "waiting for the SES feedback: signed SNS notifications to $base/webhooks/ses"
for _ in $(seq 1 600); do  # up to 60 s
  stats=$(curl -fsS "$fake/_fake/stats") || fail "GET /_fake/stats"
  [[ $(count_of pending "$stats") == 0 ]] && break
  sleep 0.1
done
sns=$(printf '%s' "$stats" | tr -d ' \n' | grep -o '"sns":{[^}]*}')
echo "  mailer-fake-ses: $sns"
[[ $(count_of pending "$stats") == 0 ]] || fail "notifications still pending after 60 s"
[[ $(count_of publish_failed "$stats") == 0 && $(count_of dropped "$stats") == 0 ]] \
  || fail "some notifications were not delivered: $sns"

step "events by type (GET /v1/batches/{id}: \"events\")"
batch=$(curl -fsS "${auth[@]}" "$base/v1/batches/$batch_id") || fail "GET /v1/batches/$batch_id"
sim_batch=$(curl -fsS "${auth[@]}" "$base/v1/batches/$sim_id") || fail "GET /v1/batches/$sim_id"
echo "  SENT is mailerd's own record of SendEmail; the others came back from SES over SNS"
printf '  %-10s %10s %10s\n' type newsletter simulator
for type in SENT SEND DELIVERY OPEN CLICK BOUNCE COMPLAINT; do
  printf '  %-10s %10s %10s\n' "$type" "$(count_of "$type" "$(events_of "$batch")")" \
    "$(count_of "$type" "$(events_of "$sim_batch")")"
done
for type in SEND DELIVERY OPEN CLICK; do
  [[ $(count_of "$type" "$(events_of "$batch")") -gt 0 ]] || fail "no $type events for $batch_id"
done
for type in BOUNCE COMPLAINT; do
  [[ $(count_of "$type" "$(events_of "$sim_batch")") -gt 0 ]] || fail "no $type event for $sim_id"
done

step "suppressions the feedback caused (mailerctl suppressions list)"
suppressions=$("$mailerctl" --db "$MAILER_DB_PATH" suppressions list) || fail "mailerctl suppressions list"
printf '%s\n' "$suppressions" | sed 's/^/  /'
for address in bounce complaint suppressionlist; do
  grep -q "^$address@simulator.amazonses.com " <<<"$suppressions" || fail "$address@ is not suppressed"
done

step "events the webhook receiver got, signature checked (every event of both batches)"
total_events=0
for type in SENT SEND DELIVERY OPEN CLICK BOUNCE COMPLAINT; do
  total_events=$((total_events + $(count_of "$type" "$(events_of "$batch")") + $(count_of "$type" "$(events_of "$sim_batch")")))
done
received=0
for _ in $(seq 1 300); do  # up to 30 s for the last delivery
  [[ -s $work/receiver.json ]] && received=$(tr -d ' ' <"$work/receiver.json" | grep -o '"events":{[^}]*}' \
    | grep -o ':[0-9]*' | tr -d ':' | awk '{n += $1} END {print n + 0}')
  [[ ${received:-0} -ge $total_events ]] && break
  sleep 0.1
done
counts=$(tr -d ' ' <"$work/receiver.json")
printf '  %-10s %10s\n' type received
for type in SENT SEND DELIVERY OPEN CLICK BOUNCE COMPLAINT; do
  printf '  %-10s %10s\n' "$type" "$(count_of "$type" "$counts")"
done
echo "  deliveries $(count_of deliveries "$counts"), refused signatures $(count_of rejected "$counts")," \
  "duplicates $(count_of duplicates "$counts")"
[[ $(count_of rejected "$counts") == 0 ]] || fail "the receiver refused a signature"
[[ ${received:-0} -ge $total_events ]] || fail "the receiver got $received of $total_events events"

if $wait_for_enter; then
  step "the dashboard"
  echo "  open $base/ui/ and log in with the admin key:"
  echo "  $key"
  echo "  (the key stays in that browser tab only; the data is this demo's)"
  read -r -p "  press Enter to stop mailerd and end the demo " _ || true
fi

step "stopping mailerd and mailer-fake-ses with SIGTERM"
stop_child "$mailerd_pid"; mailerd_pid=""
[[ $stopped_code == 0 ]] || fail "mailerd exited with $stopped_code"
stop_child "$fake_pid"; fake_pid=""
[[ $stopped_code == 0 ]] || fail "mailer-fake-ses exited with $stopped_code"
echo "both exited 0"

printf '\ndemo: OK — %s + %s messages sent, their feedback recorded; rendered messages (.eml and .json) in %s/messages\n' \
  "$sent" "$(count_of sent "$sim_batch")" "$out"
