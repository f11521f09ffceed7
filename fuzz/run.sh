#!/usr/bin/env bash
# Runs every fuzz target of a MAILER_FUZZ build for a bounded time, FUZZ_JOBS
# (default: the number of CPUs) at once, and fails when any of them found a
# crash, leak, timeout or out-of-memory input (the rest still run).
#
#   [FUZZ_JOBS=N] fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]
#
# Each target starts from its committed seeds (fuzz/corpus/<name>/) plus what
# earlier runs found (BUILD_DIR/fuzz-corpus/<name>/, never committed); failing
# inputs land in BUILD_DIR/fuzz-artifacts/<name>/ next to the run's log.
# fuzz/README.md says how to reproduce one.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS] [TARGET...]}"
seconds="${2:-60}"
shift $(($# >= 2 ? 2 : $#))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in "$here"/*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi
jobs="${FUZZ_JOBS:-$(nproc)}"

dictionary_for() {
  case "$1" in
    json_io | sns | ses_response) echo "$here/json.dict" ;;
    *) echo "$here/$1.dict" ;;
  esac
}

# Runs target $1 to the end, its output in its log; the exit status is libFuzzer's.
run_target() {
  local name="$1"
  local artifacts="$build/fuzz-artifacts/$name" corpus="$build/fuzz-corpus/$name"
  mkdir -p "$corpus" "$artifacts"
  local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144
                 -print_final_stats=1 -artifact_prefix="$artifacts/")
  local dictionary
  dictionary="$(dictionary_for "$name")"
  [ -f "$dictionary" ] && options+=(-dict="$dictionary")
  # -max_total_time is checked between inputs and -timeout bounds one input;
  # timeout(1) is the backstop should libFuzzer itself hang.
  ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    timeout --kill-after=10 $((seconds + 120)) \
    "$build/fuzz/fuzz_$name" "${options[@]}" "$corpus" "$here/corpus/$name" > "$artifacts/last-run.log" 2>&1
}

report() {
  local name="$1" status="$2"
  local log="$build/fuzz-artifacts/$name/last-run.log"
  echo "== fuzz_$name: ${seconds}s"
  if [ "$status" -eq 0 ]; then
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log"
    return 0
  fi
  tail -n 100 "$log"
  local input
  input="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
  echo "== fuzz_$name FAILED (exit $status); whole log: $log"
  echo "   reproduce: $build/fuzz/fuzz_$name ${input:-$build/fuzz-artifacts/$name/<crash file>}"
  echo "   then add a regression test in tests/unit/ (fuzz/README.md)"
  return 1
}

echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
declare -A pid_of
for name in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  run_target "$name" &
  pid_of[$name]=$!
done

failed=()
for name in "${targets[@]}"; do
  wait "${pid_of[$name]}"
  report "$name" $? || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a failure"
