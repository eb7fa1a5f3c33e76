#!/usr/bin/env bash
# Side-by-side serving comparison: for each server configuration, start
# attnserve on loopback, run attnbench's concurrency sweep against it, stop it.
# All configurations run in the same invocation, one after another.
#
#   bench/serving_compare.sh [BUILD_DIR] -- "NAME:FLAGS" ["NAME:FLAGS" ...]
# e.g.
#   bench/serving_compare.sh build -- "batching:--max_batch_size=32" \
#                                     "no-batching:--max_batch_size=1"
# Environment: CONCURRENCY (default 1,8,64), DURATION_S (5), MIN_LENGTH/MAX_LENGTH (32/32),
# MODEL (demo), REPOSITORY (models).
set -euo pipefail
build=${1:-build}
shift || true
[[ "${1:-}" == "--" ]] && shift
port=${PORT:-18500}
for config in "$@"; do
  name=${config%%:*}
  flags=${config#*:}
  log=$(mktemp)
  # shellcheck disable=SC2086
  "$build/server/attnserve" --host=127.0.0.1 --port="$port" \
      --model_repository="${REPOSITORY:-models}" $flags >"$log.out" 2>"$log" &
  pid=$!
  # Wait for the listening line (the server prints it once ready).
  for _ in $(seq 1 100); do grep -q "listening" "$log.out" 2>/dev/null && break; sleep 0.1; done
  echo "== $name ($flags)"
  "$build/client/attnbench" --server="127.0.0.1:$port" --model="${MODEL:-demo}" \
      --concurrency="${CONCURRENCY:-1,8,64}" --duration_s="${DURATION_S:-5}" \
      --min_length="${MIN_LENGTH:-32}" --max_length="${MAX_LENGTH:-32}" ${BENCH_FLAGS:-}
  kill -TERM "$pid"
  wait "$pid"
  rm -f "$log" "$log.out"
done
