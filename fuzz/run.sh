#!/usr/bin/env bash
# Runs every fuzz target of a MAILER_FUZZ build for a bounded time, one after
# the other, and fails when any of them crashed (the rest still run).
#
#   fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]
#
# Each target starts from its committed seeds (fuzz/corpus/<name>/) plus what
# earlier runs found (BUILD_DIR/fuzz-corpus/<name>/, never committed); crash
# inputs land in BUILD_DIR/fuzz-artifacts/<name>/. fuzz/README.md says how to
# reproduce one.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS] [TARGET...]}"
seconds="${2:-60}"
shift $(($# >= 2 ? 2 : $#))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in "$here"/*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi

dictionary_for() {
  case "$1" in
    json_io | sns | ses_response) echo "$here/json.dict" ;;
    *) echo "$here/$1.dict" ;;
  esac
}

failed=()
for name in "${targets[@]}"; do
  binary="$build/fuzz/fuzz_$name"
  corpus="$build/fuzz-corpus/$name"
  artifacts="$build/fuzz-artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144
           -print_final_stats=1 -artifact_prefix="$artifacts/")
  dictionary="$(dictionary_for "$name")"
  [ -f "$dictionary" ] && options+=(-dict="$dictionary")
  echo "== fuzz_$name: ${seconds}s"
  log="$artifacts/last-run.log"
  # -max_total_time is checked between inputs and -timeout bounds one input;
  # timeout(1) is the backstop should libFuzzer itself hang.
  if ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      timeout --kill-after=10 $((seconds + 120)) \
      "$binary" "${options[@]}" "$corpus" "$here/corpus/$name" > "$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log"
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1
  else
    failed+=("$name")
    tail -n 100 "$log"
    input="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    echo "== fuzz_$name FAILED; whole log: $log"
    echo "   reproduce: $binary ${input:-$artifacts/<crash file>}"
    echo "   then add a regression test in tests/unit/ (fuzz/README.md)"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a crash"
