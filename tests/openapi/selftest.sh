#!/bin/sh
# ctest openapi_validator: validate_responses.js must fail for each kind of
# disagreement between recorded responses and a document, and pass when they
# agree. Usage: selftest.sh WORK_DIR (where install.sh put the validator)
set -eu
work_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/install.sh" "$work_dir"
doc=$here/selftest/openapi.yaml
ok='{"method":"GET","path":"/things/{id}","status":200,"headers":{"content-type":"application/json","ratelimit-limit":"5"},"body":"{\"id\":\"t1\"}"}'
not_allowed='{"method":"PUT","path":"/things/{id}","status":405,"headers":{"content-type":"application/problem+json","allow":"GET"},"body":"{}"}'
failures=0
# check NAME WANT_EXIT WANT_TEXT RECORDS
check() {
  printf '%s' "$4" >"$work_dir/selftest.json"
  set +e
  output=$(node "$work_dir/validate_responses.js" "$doc" "$work_dir/selftest.json" 2>&1)
  code=$?
  set -e
  if [ "$code" -ne "$2" ] || ! printf '%s' "$output" | grep -qF -- "$3"; then
    echo "FAIL $1: exit $code (want $2), output:" >&2
    echo "$output" >&2
    failures=$((failures + 1))
  else
    echo "ok   $1"
  fi
}
check "agreeing responses pass" 0 "0 problems" "[$ok,$not_allowed]"
check "a body off its schema" 1 "must NOT have additional properties" \
  "[$(echo "$ok" | sed 's/{\\"id\\":\\"t1\\"}/{\\"id\\":\\"t1\\",\\"x\\":1}/'),$not_allowed]"
check "a status the document does not declare" 1 "status not declared" \
  "[$ok,$not_allowed,$(echo "$ok" | sed 's/"status":200/"status":404/')]"
check "a required header missing" 1 "required header RateLimit-Limit missing" \
  "[$(echo "$ok" | sed 's/,"ratelimit-limit":"5"//'),$not_allowed]"
check "a header off its schema" 1 "header RateLimit-Limit must be integer" \
  "[$(echo "$ok" | sed 's/"5"/"5, 5"/'),$not_allowed]"
check "an undeclared content type" 1 'content type "text/html" not declared' \
  "[$(echo "$ok" | sed 's|application/json|text/html|'),$not_allowed]"
check "a wrong Allow" 1 'Allow is "GET, POST"' "[$ok,$(echo "$not_allowed" | sed 's/"allow":"GET"/"allow":"GET, POST"/')]"
check "a 405 for a documented method" 1 "405 for a method the path documents" \
  "[$ok,$(echo "$not_allowed" | sed 's/"PUT"/"GET"/')]"
check "an undocumented path" 1 "the document has no such path" "[$ok,$not_allowed,$(echo "$ok" | sed 's|/things/{id}|/other|')]"
check "a declared status never exercised" 1 "GET /things/{id} 405: declared but never exercised" "[$ok]"
[ "$failures" -eq 0 ]
