#!/usr/bin/env bash
# Runs every libFuzzer target of a `-DATTNSERVE_LIBFUZZER=ON` build for a
# bounded time each (`make fuzz`): new inputs go to a scratch corpus under the
# build directory, the committed corpus of the target's input format
# (fuzz/corpus/<format>, below) is read as seeds,
# crashes are written to BUILD/fuzz-artifacts/<target>/. Prints each target's
# executions, and exits non-zero if any target found a crash.
#
#   fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]
# To keep what was found: `BUILD/fuzz/<target> -merge=1 fuzz/corpus/<format>
# BUILD/fuzz-corpus/<target>` adds the inputs that cover something new.
set -euo pipefail
build=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
status=0
# target:format[:max_len]; a format with a dictionary fuzz/<format>.dict uses
# it. max_len caps generated inputs where a seed is far larger than what the
# target needs to explore (v2_request's 500 KB nesting seed made libFuzzer
# mutate 500 KB bodies: 87 executions/s instead of thousands; the corpus test
# still runs that seed whole).
for entry in model_spec_fuzzer:model_json safetensors_fuzzer:safetensors \
             model_run_fuzzer:model_json model_config_fuzzer:config_pbtxt \
             v1_request_fuzzer:v1_request v2_request_fuzzer:v2_request:16384; do
  target=${entry%%:*}
  format=${entry#*:}
  max_len=()
  if [[ "$format" == *:* ]]; then
    max_len=(-max_len="${format#*:}")
    format=${format%%:*}
  fi
  scratch="$build/fuzz-corpus/$target"
  artifacts="$build/fuzz-artifacts/$target/"
  mkdir -p "$scratch" "$artifacts"
  corpus="$here/corpus/$format"
  dict=()
  [[ -f "$here/$format.dict" ]] && dict=(-dict="$here/$format.dict")
  echo "== $target for ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1 "$build/fuzz/$target" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts" \
      "${dict[@]}" "${max_len[@]}" "$scratch" "$corpus" 2> "$build/fuzz-$target.log"; then
    echo "$target: FAILED, see $build/fuzz-$target.log and $artifacts"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov:" "$build/fuzz-$target.log" |
      tail -3
done
exit $status
