#!/usr/bin/env bash
# The attnserve.v1 API against the Open Inference Protocol (KServe v2) over
# gRPC and over HTTP/REST, side by side on one server: attnserve serves the
# demo model (gRPC, and HTTP on another port); attnbench drives each protocol
# in turn at each concurrency level, and the whole sweep is repeated ROUNDS
# times, interleaved, so that a change in the machine's load touches every
# protocol alike. Prints a Markdown table: per protocol and level the median
# over rounds of requests/s, p50 and p99 latency (client side), and
# requests/s relative to v1 at the same level.
#
#   bench/protocols.sh [BUILD_DIR]
# Environment: CONCURRENCY (default "1 64"), ROUNDS (3), WINDOW_S (2),
# LENGTH (32: steps per sequence), PORT (18600; HTTP on PORT+1),
# PROTOCOLS (default "v1 kserve kserve_http kserve_http_binary"), OUT (where
# attnbench's JSON of every level and round is kept; default
# BUILD_DIR/bench-results/protocols).
set -euo pipefail
build=${1:-build}
port=${PORT:-18600}
http_port=$((port + 1))
rounds=${ROUNDS:-3}
tmp=${OUT:-$build/bench-results/protocols}
rm -rf "$tmp" && mkdir -p "$tmp"
trap 'kill -TERM "$pid" 2>/dev/null || true' EXIT

"$build/server/attnserve" --host=127.0.0.1 --port="$port" --http_port="$http_port" \
    --metrics=false --model_repository=models >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q "listening" "$tmp/server.log" 2>/dev/null && break; sleep 0.1; done
grep -q "listening" "$tmp/server.log" || { cat "$tmp/server.log" >&2; exit 1; }

echo "# CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores;" \
     "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq 1 "$rounds"); do
  for protocol in ${PROTOCOLS:-v1 kserve kserve_http kserve_http_binary}; do
    for c in ${CONCURRENCY:-1 64}; do
      case $protocol in
        v1|kserve) flags=(--server="127.0.0.1:$port" --protocol="$protocol") ;;
        kserve_http) flags=(--server="127.0.0.1:$http_port" --protocol=kserve_http) ;;
        kserve_http_binary) flags=(--server="127.0.0.1:$http_port" --protocol=kserve_http
                                   --http_binary) ;;
      esac
      echo "round $round: $protocol at $c" >&2
      "$build/client/attnbench" "${flags[@]}" --model=demo --concurrency="$c" \
          --length="${LENGTH:-32}" --window_s="${WINDOW_S:-2}" --json \
          >"$tmp/$protocol-$c-$round.json"
    done
  done
done

python3 - "$tmp" "$rounds" ${PROTOCOLS:-v1 kserve kserve_http kserve_http_binary} <<'PY'
import glob, json, os, statistics, sys
tmp, rounds, protocols = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
names = {"v1": "v1 gRPC (Classify)", "kserve": "KServe v2 gRPC (ModelInfer)",
         "kserve_http": "KServe v2 HTTP, JSON", "kserve_http_binary": "KServe v2 HTTP, binary"}
rows = {}
for path in glob.glob(os.path.join(tmp, "*-*-*.json")):
    protocol, c, _ = os.path.basename(path)[:-5].rsplit("-", 2)
    level = json.load(open(path))["levels"][0]
    rows.setdefault((protocol, int(c)), []).append(level)
def median(levels, key):
    return statistics.median(l[key] for l in levels)
print("| protocol | clients | requests/s | vs v1 | p50 ms | p99 ms | errors |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for c in sorted({c for _, c in rows}):
    base = median(rows[("v1", c)], "requests_per_s") if ("v1", c) in rows else None
    for p in protocols:
        levels = rows.get((p, c))
        if not levels:
            continue
        rps = median(levels, "requests_per_s")
        kinds = {}
        for l in levels:
            for name, n in l.get("errors", {}).items():
                kinds[name] = kinds.get(name, 0) + n
        errors = ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())) or "0"
        ratio = f"{rps / base:.2f}" if base else "-"
        print(f"| {names.get(p, p)} | {c} | {rps:.0f} | {ratio} | "
              f"{statistics.median(l['latency_ms']['p50'] for l in levels):.2f} | "
              f"{statistics.median(l['latency_ms']['p99'] for l in levels):.2f} | {errors} |")
print(f"\nMedian of {rounds} interleaved rounds; errors summed over them.")
PY
