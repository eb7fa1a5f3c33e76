#!/usr/bin/env bash
# Model lifecycle measurements against the real server (docs/performance.md,
# "Model rollouts and warm-up"):
# 1. rollouts under load: attnserve --model_control=poll serves a scratch
#    repository holding demo/1; rollout_bench loads it with closed-loop clients
#    and adds demo/2, then demo/3, then demo/4 (each a rescan, a load, a warm-up
#    and a swap), reporting requests/s before, during and after each, and every
#    failed request;
# 2. the first request's latency on a fresh server, with the default warm-up and
#    with --warmup_lengths=none, at a warmed length (32) and another (50).
# Results: OUT_DIR/rollout_*.json, first_request.json and rollout.md (tables).
#
#   bench/rollout.sh [BUILD_DIR] [OUT_DIR] [--clients N] [--model demo|bi]
set -euo pipefail
build=${1:-build}
out=${2:-$build/bench-results}
shift $(( $# >= 2 ? 2 : $# )) || true
clients=8
model=demo
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) clients=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "rollout.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
case "$model" in
  demo) source_dir=$root/models/demo/1; features=4 ;;
  bi) source_dir=$root/tests/fixtures/parity/bi2_addres_d12_h32_c4_softmax; features=12 ;;
  *) echo "rollout.sh: --model must be demo or bi" >&2; exit 2 ;;
esac
mkdir -p "$out"
scratch=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

# start_server REPOSITORY FLAGS...: starts attnserve, sets server_pid and port.
start_server() {
  local repository=$1; shift
  "$build/server/attnserve" --host=127.0.0.1 --port=0 --http_port=0 --metrics=false \
      --model_repository="$repository" "$@" > "$scratch/stdout" 2> "$scratch/stderr" &
  server_pid=$!
  for _ in $(seq 600); do
    port=$(sed -n 's/^attnserve: listening on .*:\([0-9]*\)$/\1/p' "$scratch/stdout")
    [[ -n "$port" ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/stderr" >&2; exit 1; }
    sleep 0.1
  done
  echo "rollout.sh: the server did not start" >&2; exit 1
}
stop_server() {
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
}

echo "== rollouts under load ($model, $clients clients)"
mkdir -p "$scratch/repo/$model"
ln -s "$source_dir" "$scratch/repo/$model/1"
start_server "$scratch/repo" --model_control=poll --repository_poll_s=3600
for n in 1 2 3; do
  "$build/bench/rollout_bench" --mode=rollout --server="127.0.0.1:$port" \
      --repository="$scratch/repo" --model="$model" --source="$source_dir" \
      --features=$features --clients="$clients" --before_s=5 --after_s=5 \
      > "$out/rollout_$model-$n.json"
  echo "rollout $n: $(grep -m1 '"swap_seconds"' "$out/rollout_$model-$n.json")"
done
stop_server
grep -E "READY|unloading" "$scratch/stderr" | sed 's/^/  server: /'

echo "== first request, with and without warm-up"
echo "[" > "$out/first_request.json"
first=1
for warmup in default none; do
  for length in 32 50; do
    for run in 1 2 3; do
      flags=()
      [[ $warmup == none ]] && flags=(--warmup_lengths=none)
      start_server "$root/models" "${flags[@]}"
      result=$("$build/bench/rollout_bench" --mode=first_request --server="127.0.0.1:$port" \
          --model=demo --features=4 --length=$length --requests=1000)
      stop_server
      [[ $first == 1 ]] || echo "," >> "$out/first_request.json"
      first=0
      echo "$result" | sed "s/\"mode\"/\"warmup\": \"$warmup\", \"run\": $run, \"mode\"/" >> "$out/first_request.json"
    done
  done
done
echo "]" >> "$out/first_request.json"

/usr/bin/python3 - "$out" "$model" <<'PY'
import glob, json, sys
out, model = sys.argv[1], sys.argv[2]
lines = ["| rollout | swap (s) | before req/s | during req/s | after req/s | p99 before / during / after (ms) | failed | answered by |",
         "| --- | --- | --- | --- | --- | --- | --- | --- |"]
for path in sorted(glob.glob(f"{out}/rollout_{model}-*.json")):
    r = json.load(open(path))
    b, d, a, t = r["before"], r["during"], r["after"], r["total"]
    lines.append(f"| {r['old_version']} -> {r['new_version']} | {r['swap_seconds']:.3f} | "
                 f"{b['requests_per_s']:.0f} | {d['requests_per_s']:.0f} | {a['requests_per_s']:.0f} | "
                 f"{b['p99_ms']:.2f} / {d['p99_ms']:.2f} / {a['p99_ms']:.2f} | {t['failed']} | "
                 f"{', '.join(f'v{k}: {v}' for k, v in t['answered_by_version'].items())} |")
lines += ["", "| warm-up | length | first request (ms), 3 fresh servers | next 1000: p50 / p99 (ms) |",
          "| --- | --- | --- | --- |"]
runs = json.load(open(f"{out}/first_request.json"))
for warmup in ("default", "none"):
    for length in (32, 50):
        rs = [r for r in runs if r["warmup"] == warmup and r["length"] == length]
        firsts = ", ".join(f"{r['first_ms']:.1f}" for r in rs)
        p50 = sorted(r["next_p50_ms"] for r in rs)[len(rs) // 2]
        p99 = sorted(r["next_p99_ms"] for r in rs)[len(rs) // 2]
        lines.append(f"| {warmup} | {length} | {firsts} | {p50:.2f} / {p99:.2f} |")
open(f"{out}/rollout.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
