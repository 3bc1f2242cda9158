#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 and runs each for a bounded time; exits non-zero
# when a target crashes, leaks, times out on an input or breaks an invariant (the crashing
# input is left in BUILD_DIR/fuzz-artifacts/). CI calls it as is.
#   tests/fuzz/run-fuzzers.sh [SECONDS_PER_TARGET=30] [BUILD_DIR=build-fuzz]
# Needs clang-14 and libclang-rt-14-dev (scripts/install-deps.sh).
set -euo pipefail

seconds=${1:-30}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${2:-$root/build-fuzz}
jobs=${FUZZ_BUILD_JOBS:-2}

CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBAOFEED_FUZZ=ON -DBAOFEED_TESTS=OFF >/dev/null
ninja -C "$build" -j "$jobs" fuzzers

corpus="$build/fuzz-corpus"
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
"$here/make-corpus.sh" "$corpus"

declare -A max_len=([selector]=256 [extract]=65536 [sanitize]=65536 [feed]=65536)
status=0
for name in selector extract sanitize feed; do
  echo "== fuzz_$name for ${seconds}s" >&2
  if ! "$build/tests/fuzz/fuzz_$name" "$corpus/$name" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$name]}" \
      -print_final_stats=1 -artifact_prefix="$artifacts/$name-" 2>"$build/fuzz-$name.log"; then
    echo "fuzz_$name FAILED; see $build/fuzz-$name.log and $artifacts/" >&2
    tail -40 "$build/fuzz-$name.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz-$name.log" | tail -2 >&2 || true
  fi
done
exit $status
