#!/usr/bin/env bash
# Overload and isolation against the real server (docs/performance.md,
# "Overload and fair sharing"). Two server configurations, measured side by
# side in one run on a 2-layer bidirectional model (the parity fixture
# bi2_addres_d12_h32_c4_softmax: compute, not gRPC, dominates a request, as
# with real models; the demo model is so small that refusing a request costs
# about as much as serving it):
#   before: --fair_queueing=false --max_queued_per_client=0 --max_queue_wait_ms=0
#           (one queue in arrival order, bounded only by --max_queue_size)
#   after:  the defaults (fair sharing, 512 sequences per client) and
#           --max_queue_wait_ms=WAIT (default 100)
# 1. capacity: closed-loop attnbench against `before`, 64 requests
#    outstanding (requests of 16 sequences, lengths 16-128): the most
#    requests/s the server answers. The same rates are offered to both sides.
# For each side:
# 2. goodput at 1x and 3x capacity: open loop (Poisson arrivals) at those
#    rates; goodput = requests answered OK per second, the latency of the
#    accepted ones and the server's p99 queue wait of their sequences (from
#    the responses' timing);
# 3. a quiet client (1 request outstanding, 1 sequence of 16 steps) alone, then
#    beside a noisy one (16 requests outstanding, 128 sequences of 64 steps
#    each), each with its own x-attnserve-client identity: the quiet client's
#    p50/p99 and errors.
# Then 4. the server CPU time per refused request, over v1, KServe v2 gRPC and
# KServe v2 HTTP (JSON): a server whose queue a filler client keeps full
# (--max_queue_size=16, batches that never fill) refuses every request of a
# closed-loop attnbench (8 outstanding, 16 sequences of 16-128 steps), once
# with --refuse_before_decoding=false (refused after decoding and
# validation, as before) and once with the default (refused before); the
# server's utime+stime (/proc) over the run divided by the answers.
# `uptime` is recorded with every figure. Results: OUT_DIR/overload_*.json and
# overload.md (the tables).
#
# --pin puts the server on CPU 1 and every load generator on CPU 0
# (taskset), as in a deployment where clients run elsewhere: without it, at
# 3x the load generator's own cost of sending (and being refused) three times
# as many requests comes out of the server's CPU, which the closed-loop
# capacity run does not pay, and goodput / capacity measures the machine's
# split between them as much as the server.
#
#   bench/overload.sh [BUILD_DIR] [OUT_DIR] [--wait_ms N] [--workers N] [--pin]
set -euo pipefail
build=${1:-build}
out=${2:-$build/bench-results}
shift $(( $# >= 2 ? 2 : $# )) || true
wait_ms=100
workers=2
server_cmd=()
client_cmd=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --wait_ms) wait_ms=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --pin) server_cmd=(taskset -c 1); client_cmd=(taskset -c 0); shift ;;
    *) echo "overload.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bench=$build/client/attnbench
for binary in "$build/server/attnserve" "$bench"; do
  [[ -x "$binary" ]] || { echo "overload.sh: $binary missing (make build)" >&2; exit 1; }
done
mkdir -p "$out"
scratch=$(mktemp -d)
mkdir -p "$scratch/repo/bi"
ln -s "$root/tests/fixtures/parity/bi2_addres_d12_h32_c4_softmax" "$scratch/repo/bi/1"
server_pid=""
noisy_pid=""
cleanup() {
  [[ -n "$noisy_pid" ]] && kill "$noisy_pid" 2>/dev/null || true
  if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

start_server() {  # start_server FLAGS...: sets server_pid, port and http_port
  "${server_cmd[@]}" "$build/server/attnserve" --host=127.0.0.1 --port=0 --http_port=-1 --metrics=false \
      --model_repository="$scratch/repo" --workers="$workers" "$@" \
      > "$scratch/stdout" 2> "$scratch/stderr" &
  server_pid=$!
  for _ in $(seq 600); do
    port=$(sed -n 's/^attnserve: listening on .*:\([0-9]*\)$/\1/p' "$scratch/stdout")
    http_port=$(sed -n 's/^attnserve: HTTP (KServe v2) on .*:\([0-9]*\)$/\1/p' "$scratch/stdout")
    [[ -n "$port" ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/stderr" >&2; exit 1; }
    sleep 0.1
  done
  echo "overload.sh: the server did not start" >&2; exit 1
}
stop_server() { kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""; }

# attnbench with the measurement settings shared by every run.
run_bench() {
  "${client_cmd[@]}" "$bench" --server="127.0.0.1:$port" --model=bi --json --attention=false \
      --warmup_s=2 --window_s=3 --stable_windows=2 --max_windows=3 "$@"
}
mix=(--min_length=16 --max_length=128 --sequences_per_request=16)
rate_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['levels'][0]['requests_per_s'])" "$1"; }

declare -A flags=(
  [before]="--fair_queueing=false --max_queued_per_client=0 --max_queue_wait_ms=0 --max_client_batch_share=1"
  [after]="--max_queue_wait_ms=$wait_ms"
)
load_now() { uptime | sed 's/.*load average: //'; }
echo "overload.sh: capacity (before)" >&2
# shellcheck disable=SC2086
start_server ${flags[before]}
load_now > "$out/overload_capacity.load"
run_bench "${mix[@]}" --concurrency=64 > "$out/overload_capacity.json"
capacity=$(rate_of "$out/overload_capacity.json")
stop_server
for config in before after; do
  echo "overload.sh: $config: ${flags[$config]}" >&2
  # shellcheck disable=SC2086
  start_server ${flags[$config]}
  for factor in 1 3; do
    rate=$(python3 -c "print(round($capacity * $factor))")
    load_now > "$out/overload_${config}_${factor}x.load"
    run_bench "${mix[@]}" --request_rate="$rate" --deadline_ms=10000 \
        > "$out/overload_${config}_${factor}x.json"
  done
  quiet=(--client_id=quiet --concurrency=1 --length=16 --sequences_per_request=1)
  load_now > "$out/overload_${config}_quiet_alone.load"
  run_bench "${quiet[@]}" > "$out/overload_${config}_quiet_alone.json"
  "${client_cmd[@]}" "$bench" --server="127.0.0.1:$port" --model=bi --attention=false --client_id=noisy \
      --concurrency=16 --length=64 --sequences_per_request=128 --warmup_s=600 \
      > /dev/null 2>&1 &
  noisy_pid=$!
  sleep 3  # the noisy client's queue fills
  load_now > "$out/overload_${config}_quiet_noisy.load"
  run_bench "${quiet[@]}" > "$out/overload_${config}_quiet_noisy.json"
  kill "$noisy_pid" 2>/dev/null || true
  wait "$noisy_pid" 2>/dev/null || true
  noisy_pid=""
  stop_server
done

# 4. Server CPU per refused request.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
ticks_per_s=$(getconf CLK_TCK)
for early in false true; do
  echo "overload.sh: refused requests, --refuse_before_decoding=$early" >&2
  start_server --refuse_before_decoding="$early" --max_queue_size=16 --max_batch_size=32 \
      --max_queue_delay_us=600000000 --max_queued_per_client=0 --max_queue_wait_ms=0
  # The filler's 16 sequences fill the queue and never run (a batch would
  # need 32); its deadline is far.
  "${client_cmd[@]}" "$bench" --server="127.0.0.1:$port" --model=bi --attention=false --client_id=filler \
      --concurrency=1 --length=16 --sequences_per_request=16 --warmup_s=600 \
      --deadline_ms=600000 > /dev/null 2>&1 &
  noisy_pid=$!
  sleep 2  # the filler's request is queued
  for protocol in v1 kserve kserve_http; do
    address="127.0.0.1:$port"
    [[ "$protocol" == kserve_http ]] && address="127.0.0.1:$http_port"
    load_now > "$out/overload_refused_${early}_${protocol}.load"
    before_ticks=$(cpu_ticks)
    "${client_cmd[@]}" "$bench" --server="$address" --protocol="$protocol" --model=bi --json --attention=false \
        --client_id=refused "${mix[@]}" --concurrency=8 --warmup_s=1 --window_s=2 \
        --stable_windows=2 --max_windows=2 > "$out/overload_refused_${early}_${protocol}.json"
    after_ticks=$(cpu_ticks)
    python3 - "$out/overload_refused_${early}_${protocol}.json" "$before_ticks" "$after_ticks" \
        "$ticks_per_s" <<'PY'
import json, sys
path, t0, t1, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
result = json.load(open(path))
level = result["levels"][0]
level["server_cpu_s"] = (t1 - t0) / hz
level["server_cpu_us_per_answer"] = (t1 - t0) / hz * 1e6 / max(1, level["answered_all"])
json.dump(result, open(path, "w"))
PY
  done
  kill "$noisy_pid" 2>/dev/null || true
  wait "$noisy_pid" 2>/dev/null || true
  noisy_pid=""
  stop_server
done

python3 - "$out" "$wait_ms" "${#server_cmd[@]}" > "$out/overload.md" <<'EOF'
import json, sys
out, wait_ms, pinned = sys.argv[1], sys.argv[2], sys.argv[3] != "0"
def level(name):
    return json.load(open(f"{out}/overload_{name}.json"))["levels"][0]
def load(name):
    return open(f"{out}/overload_{name}.load").read().strip()
def errors(l):
    e = l.get("errors", {})
    return ", ".join(f"{k} {v}" for k, v in sorted(e.items())) or "none"
cap = level("capacity")["requests_per_s"]
if pinned:
    print("Pinned (--pin): the server on CPU 1, the load generators on CPU 0.")
    print()
print(f"Capacity (closed loop, 64 outstanding, before): {cap:.0f} requests/s "
      f"(load average {load('capacity')}).")
print()
print("| configuration | offered | goodput (req/s) | goodput / capacity | p50 (ms) | p99 (ms) | server p99 queue wait (ms) | refused | load average |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for config in ("before", "after"):
    for factor in (1, 3):
        l = level(f"{config}_{factor}x")
        print(f"| {config} | {factor}x ({l['load']:.0f}/s) | {l['requests_per_s']:.0f} | "
              f"{l['requests_per_s'] / cap:.2f} | {l['latency_ms']['p50']:.1f} | "
              f"{l['latency_ms']['p99']:.1f} | {l['server']['p99_queue_ms']:.1f} | {errors(l)} | "
              f"{load(f'{config}_{factor}x')} |")
print()
print("| configuration | quiet client | p50 (ms) | p99 (ms) | requests/s | errors | load average |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for config in ("before", "after"):
    for case, label in (("quiet_alone", "alone"), ("quiet_noisy", "beside a noisy client")):
        l = level(f"{config}_{case}")
        print(f"| {config} | {label} | {l['latency_ms']['p50']:.1f} | {l['latency_ms']['p99']:.1f} | "
              f"{l['requests_per_s']:.0f} | {errors(l)} | {load(f'{config}_{case}')} |")
print()
print("| protocol | server CPU per refused request, refused after decoding (µs) | refused before decoding (µs) | ratio | answers (after / before decoding) | load average |")
print("| --- | --- | --- | --- | --- | --- |")
for protocol, label in (("v1", "v1 gRPC"), ("kserve", "KServe v2 gRPC"),
                        ("kserve_http", "KServe v2 HTTP (JSON)")):
    late = level(f"refused_false_{protocol}")
    early = level(f"refused_true_{protocol}")
    ratio = late["server_cpu_us_per_answer"] / max(1e-9, early["server_cpu_us_per_answer"])
    print(f"| {label} | {late['server_cpu_us_per_answer']:.0f} | "
          f"{early['server_cpu_us_per_answer']:.0f} | {ratio:.1f}x | "
          f"{late['answered_all']} ({errors(late)}) / {early['answered_all']} ({errors(early)}) | "
          f"{load(f'refused_false_{protocol}')} / {load(f'refused_true_{protocol}')} |")
print()
print(f"before = --fair_queueing=false --max_queued_per_client=0 --max_queue_wait_ms=0 "
      f"--max_client_batch_share=1; after = --max_queue_wait_ms={wait_ms} with the default fair "
      f"sharing, per-client limit and batch share. Load average: 1, 5 and 15 minutes when each "
      f"measurement started.")
EOF
cat "$out/overload.md"
