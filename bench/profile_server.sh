#!/usr/bin/env bash
# Where attnserve's time goes under load: a sampling profile of the server.
#
#   bench/profile_server.sh [BUILD_DIR] [OUT_DIR]
# Serves the benchmark model (bench/bench_models.py: LSTM 1x128, additive,
# input 32) with default flags, drives it with attnbench (closed loop, length
# 50; concurrency 64, then 1) and samples the server with `perf record -e
# cpu-clock` for PROFILE_S seconds (default 8) at each level. oneDNN writes
# /tmp/perf-PID.map (ONEDNN_JIT_PROFILE=2) so its JIT kernels get names.
# This VM exposes no hardware counters (`perf stat -e instructions` is "not
# supported"), hence cpu-clock (timer) sampling. Falls back to valgrind
# --tool=callgrind on a short run when perf cannot sample at all.
# Writes OUT_DIR/profile_c{64,1}.txt (bench/profile_summary.py: time by
# component and the top symbols).
set -euo pipefail
build=${1:-build}
out=${2:-bench-results}
seconds=${PROFILE_S:-8}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    if kill -TERM "$server_pid" 2>/dev/null; then wait "$server_pid" || true; fi
    rm -f "/tmp/perf-$server_pid.map"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

/usr/bin/python3 -c "import sys; sys.path.insert(0, '$here'); import bench_models; \
bench_models.save('$tmp/repo/bench/1', 128, 1, 'additive', seed=1, max_length=512)"

port=${PORT:-18950}
ONEDNN_JIT_PROFILE=2 "$build/server/attnserve" --host=127.0.0.1 --port="$port" \
    --metrics_port=$((port + 1)) --http_port=0 --model_repository="$tmp/repo" >"$tmp/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening" "$tmp/server.out" && break; sleep 0.1; done

have_perf=0
if perf record -e cpu-clock -o "$tmp/probe.data" -- true >/dev/null 2>&1; then have_perf=1; fi

for concurrency in 64 1; do
  windows=$(( (seconds + 4) / 2 ))
  "$build/client/attnbench" --server="127.0.0.1:$port" --model=bench --length=50 \
      --concurrency="$concurrency" --warmup_s=1 --window_s=2 --stable_windows="$windows" \
      --max_windows="$windows" >"$tmp/bench_c$concurrency.txt" &
  bench_pid=$!
  sleep 2
  report="$out/profile_c$concurrency.txt"
  if [[ $have_perf == 1 ]]; then
    perf record -e cpu-clock -F 999 -p "$server_pid" -o "$tmp/perf.data" -- sleep "$seconds" \
        >/dev/null 2>&1
    wait "$bench_pid"
    {
      echo "# perf record -e cpu-clock -F 999 -p attnserve, ${seconds} s, attnbench closed loop"
      echo "# concurrency $concurrency, length 50, model LSTM 1x128 additive (input 32)"
      cat "$tmp/bench_c$concurrency.txt"
      perf report -i "$tmp/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
          /usr/bin/python3 "$here/profile_summary.py"
      echo
      echo "## time by thread name (batch workers run as 'attnserve')"
      echo '```'
      perf report -i "$tmp/perf.data" --no-children --sort comm --stdio 2>/dev/null |
          grep -v '^#' | grep -v '^$' | head -12
      echo '```'
    } >"$report"
  else
    wait "$bench_pid"
    echo "# perf unavailable: callgrind on a short run instead" >"$report"
    kill -TERM "$server_pid"; wait "$server_pid" || true
    valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.out" \
        "$build/server/attnserve" --host=127.0.0.1 --port="$port" --http_port=0 --metrics=false \
        --model_repository="$tmp/repo" >"$tmp/server.out" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do grep -q "listening" "$tmp/server.out" && break; sleep 0.1; done
    "$build/client/attnbench" --server="127.0.0.1:$port" --model=bench --length=50 \
        --concurrency="$concurrency" --warmup_s=1 --window_s=2 --max_windows=3 >>"$report"
    kill -TERM "$server_pid"; wait "$server_pid" || true
    server_pid=""
    callgrind_annotate "$tmp/callgrind.out" | head -60 >>"$report"
    break
  fi
  echo "profile_server: wrote $report"
done
