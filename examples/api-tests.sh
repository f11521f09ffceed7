#!/usr/bin/env bash
# Exercises the mailerd HTTP API against a running mailerd: one call per
# route family plus the error conventions (401, 404 problem, 400, idempotent
# replay). Exits non-zero at the first failure, naming the step.
# Usage: MAILERD_URL=http://127.0.0.1:8080 MAILERD_KEY=<admin key> examples/api-tests.sh
# The key must have the admin scope (suppression DELETE and /v1/admin/*), and
# mailerd needs unsubscribe.secret set, or bulk batches are refused.
set -euo pipefail

base=${MAILERD_URL:?set MAILERD_URL, e.g. http://127.0.0.1:8080}
key=${MAILERD_KEY:?set MAILERD_KEY to an admin API key}
command -v curl >/dev/null || { echo "api-tests: curl is required" >&2; exit 2; }
command -v python3 >/dev/null || { echo "api-tests: python3 is required" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mailerd-api-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT
body="$work/body"
headers="$work/headers"
step_name=""
passed=0

step() { step_name=$*; printf '== %s\n' "$step_name"; }
fail() {
  echo "api-tests: FAILED at step '$step_name': $*" >&2
  [[ -s $body ]] && { echo "--- last response body:" >&2; cat "$body" >&2; echo >&2; }
  exit 1
}
ok() { passed=$((passed + 1)); }

# call METHOD PATH [JSON] [extra curl args...]: sets $status; body in $body, headers in $headers.
call() {
  local method=$1 path=$2 data=${3:-}
  shift $(( $# >= 3 ? 3 : $# ))
  local args=(-sS -X "$method" -o "$body" -D "$headers" -w '%{http_code}' --max-time 20)
  [[ -n $data ]] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
  status=$(curl "${args[@]}" "$@" "$base$path") || fail "curl could not reach $base$path"
}
auth() { call "$1" "$2" "${3:-}" -H "Authorization: Bearer $key" "${@:4}"; }
expect() { [[ $status == "$1" ]] || fail "expected HTTP $1, got $status"; ok; }
# json EXPR: evaluates a Python expression over the last body, bound to `j`.
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$body" \
           || fail "response is not the expected JSON ($1)"; }
expect_json() { local got; got=$(json "$1"); [[ $got == "$2" ]] || fail "$1 is '$got', expected '$2'"; ok; }
header() { tr -d '\r' <"$headers" | awk -v h="$(tr 'A-Z' 'a-z' <<<"$1")" \
             'BEGIN{FS=": "} tolower($1)==h {sub(/^[^:]*: /,""); print; exit}'; }

unique="apitest-$(date +%s)-$$-$RANDOM"

step "GET /health is 200"
call GET /health
expect 200
expect_json 'j["status"]' ok

step "GET /ready is 200 or 503"
call GET /ready
[[ $status == 200 || $status == 503 ]] || fail "expected 200 or 503, got $status"
echo "   /ready answered $status: $(cat "$body")"
ok

step "POST /v1/templates creates a template (201)"
auth POST /v1/templates "{\"name\":\"$unique\",\"subject\":\"Hi {{first_name}}\",\"html\":\"<p>Hi {{first_name}}</p>\",\"text\":\"Hi {{first_name}}\"}"
expect 201
template_id=$(json 'j["id"]')
[[ $template_id == tmpl_* ]] || fail "template id '$template_id' lacks the tmpl_ prefix"

step "GET /v1/templates/{id}"
auth GET "/v1/templates/$template_id"
expect 200
expect_json 'j["name"]' "$unique"

step "GET /v1/templates lists"
auth GET "/v1/templates?limit=5"
expect 200
expect_json 'type(j["data"]).__name__' list

step "POST /v1/templates/{id}/render previews"
auth POST "/v1/templates/$template_id/render" '{"variables":{"first_name":"Ana"}}'
expect 200
expect_json 'j["subject"]' "Hi Ana"

step "POST /v1/batches accepts one recipient and reports one invalid (202)"
auth POST /v1/batches "{\"template_id\":\"$template_id\",\"from\":\"Shop <news@example.com>\",\"recipients\":[{\"email\":\"ana@example.com\",\"variables\":{\"first_name\":\"Ana\"}},{\"email\":\"bad\"}],\"skip_invalid\":true}"
expect 202
batch_id=$(json 'j["id"]')
[[ $batch_id == bat_* ]] || fail "batch id '$batch_id' lacks the bat_ prefix"
expect_json 'j["counts"]["accepted"]' 1
expect_json 'j["counts"]["invalid"]' 1

step "GET /v1/batches/{id}"
auth GET "/v1/batches/$batch_id"
expect 200
expect_json 'j["id"]' "$batch_id"

step "GET /v1/batches lists the batch"
auth GET "/v1/batches?limit=1000"
expect 200
expect_json "any(b['id'] == '$batch_id' for b in j['data'])" True

step "POST /v1/messages sends a transactional message (202)"
auth POST /v1/messages '{"from":"App <app@example.com>","to":"ana@example.com","content":{"subject":"Your code","text":"Code: {{code}}"},"variables":{"code":"1234"}}'
expect 202
message_id=$(json 'j["id"]')
[[ $message_id == msg_* ]] || fail "message id '$message_id' lacks the msg_ prefix"

step "GET /v1/messages/{id}"
auth GET "/v1/messages/$message_id"
expect 200
expect_json 'j["id"]' "$message_id"

step "GET /v1/events"
auth GET "/v1/events?limit=10"
expect 200
expect_json 'type(j["data"]).__name__' list

suppressed="$unique@example.com"
step "POST /v1/suppressions adds an address (201)"
auth POST /v1/suppressions "{\"email\":\"$suppressed\",\"reason\":\"manual\"}"
expect 201

step "GET /v1/suppressions/{email}"
auth GET "/v1/suppressions/$suppressed"
expect 200
expect_json 'j["email"]' "$suppressed"

step "GET /v1/suppressions lists"
auth GET /v1/suppressions
expect 200

step "DELETE /v1/suppressions/{email} (admin) is 204"
auth DELETE "/v1/suppressions/$suppressed"
expect 204

step "GET /v1/suppressions/{email} after the delete is 404"
auth GET "/v1/suppressions/$suppressed"
expect 404

step "GET /v1/admin/queue"
auth GET /v1/admin/queue
expect 200

step "GET /v1/admin/dlq"
auth GET "/v1/admin/dlq?limit=10"
expect 200

step "GET /v1/admin/metrics?period=24h"
auth GET "/v1/admin/metrics?period=24h"
expect 200

step "GET /v1/batches/{id} reports engagement figures"
auth GET "/v1/batches/$batch_id"
expect 200
expect_json 'sorted(k for k in j["engagement"] if k.endswith("_rate"))' "['bounce_rate', 'click_rate', 'complaint_rate', 'open_rate']"

step "GET /v1/admin/webhooks lists endpoints (paged)"
auth GET "/v1/admin/webhooks?limit=5"
expect 200
expect_json 'type(j["data"]).__name__ + " " + str("next_cursor" in j)' "list True"

step "POST /v1/admin/webhooks refuses a non-http URL, naming the field"
auth POST /v1/admin/webhooks '{"url":"ftp://hooks.example.com/x"}'
expect 400
expect_json 'j["errors"][0]["field"]' url

step "GET /v1/admin/webhooks/{id} of an unknown endpoint is 404"
auth GET /v1/admin/webhooks/whk_06H4N5FD0NX5MFPYPSZZ
expect 404

step "GET /metrics"
auth GET /metrics
expect 200
grep -q '^# TYPE ' "$body" || fail "/metrics is not Prometheus text"
ok

step "401 without a key"
call GET /v1/templates
expect 401

step "401 with an unknown key"
call GET /v1/templates "" -H "Authorization: Bearer not-a-real-key"
expect 401

step "404 problem for an unknown route"
auth GET "/v1/no-such-route-$unique"
expect 404
[[ $(header Content-Type) == application/problem+json* ]] \
  || fail "content type is '$(header Content-Type)', not application/problem+json"
expect_json 'j["status"]' 404

step "400 problem for a bad body"
auth POST /v1/templates '{"name":42}'
expect 400
[[ $(header Content-Type) == application/problem+json* ]] \
  || fail "content type is '$(header Content-Type)', not application/problem+json"
expect_json 'len(j["errors"]) > 0' True

step "Idempotency-Key replay returns the same id"
replay_body='{"from":"App <app@example.com>","to":"ana@example.com","content":{"subject":"Once","text":"once"}}'
auth POST /v1/messages "$replay_body" -H "Idempotency-Key: $unique"
expect 202
first_id=$(json 'j["id"]')
auth POST /v1/messages "$replay_body" -H "Idempotency-Key: $unique"
expect 202
expect_json 'j["id"]' "$first_id"
[[ $(header Idempotent-Replayed) == true ]] || fail "no 'Idempotent-Replayed: true' header on the replay"
ok

step "Idempotency-Key with another body is 409"
auth POST /v1/messages '{"from":"App <app@example.com>","to":"ana@example.com","content":{"subject":"Twice","text":"x"}}' \
  -H "Idempotency-Key: $unique"
expect 409

printf '\napi-tests: OK (%d checks)\n' "$passed"
