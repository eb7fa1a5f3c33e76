#!/usr/bin/env bash
# Ad-hoc serving comparison: for each server configuration, start attnserve
# on loopback, run attnbench's concurrency sweep against it, stop it. All
# configurations run in the same invocation, one after another. (The full,
# interleaved comparisons of docs/performance.md are bench/serving_suite.py.)
#
#   bench/serving_compare.sh [BUILD_DIR] -- "NAME:FLAGS" ["NAME:FLAGS" ...]
# FLAGS are attnserve flags; a word VAR=value (no leading --) is put in the
# server's environment instead, e.g.
#   bench/serving_compare.sh build -- "batching:--max_batch_size=32" \
#                                     "no-batching:--max_batch_size=1" \
#                                     "1x2-passive:--workers=1 --threads_per_worker=2 OMP_WAIT_POLICY=passive"
# Environment: CONCURRENCY (default 1,8,64), WINDOW_S (2), MIN_LENGTH/MAX_LENGTH
# (32/32), MODEL (demo), REPOSITORY (models), PORT (18500; metrics on PORT+1),
# BENCH_FLAGS (more attnbench flags, e.g. --json).
set -euo pipefail
build=${1:-build}
shift || true
[[ "${1:-}" == "--" ]] && shift
port=${PORT:-18500}
for config in "$@"; do
  name=${config%%:*}
  flags=()
  envs=()
  for word in ${config#*:}; do
    if [[ "$word" == --* ]]; then flags+=("$word"); else envs+=("$word"); fi
  done
  log=$(mktemp)
  env ${envs[@]+"${envs[@]}"} "$build/server/attnserve" --host=127.0.0.1 --port="$port" \
      --metrics_port=$((port + 1)) --http_port=0 --model_repository="${REPOSITORY:-models}" \
      ${flags[@]+"${flags[@]}"} >"$log" 2>&1 &
  pid=$!
  # Wait for the listening line (the server prints it once ready).
  for _ in $(seq 1 100); do grep -q "listening" "$log" 2>/dev/null && break; sleep 0.1; done
  if ! grep -q "listening" "$log"; then
    echo "serving_compare: $name did not start:" >&2
    cat "$log" >&2
    kill -TERM "$pid" 2>/dev/null || true
    exit 1
  fi
  echo "== $name (${config#*:})"
  # shellcheck disable=SC2086
  "$build/client/attnbench" --server="127.0.0.1:$port" --model="${MODEL:-demo}" \
      --concurrency="${CONCURRENCY:-1,8,64}" --window_s="${WINDOW_S:-2}" \
      --min_length="${MIN_LENGTH:-32}" --max_length="${MAX_LENGTH:-32}" ${BENCH_FLAGS:-}
  kill -TERM "$pid"
  wait "$pid"
  rm -f "$log"
done
