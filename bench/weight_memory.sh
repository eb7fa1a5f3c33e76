#!/usr/bin/env bash
# Weights over 80 batch shapes (bench/weight_memory_bench.cc), side by side in
# one run: the per-plan-copy baseline, the engine's shared weights, and a
# whole Session; each natively and with ONEDNN_MAX_CPU_ISA=AVX2. Writes
# OUT_DIR/weight_memory.json (one object per line) and prints a table.
#
#   bench/weight_memory.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
build=${1:-build}
out=${2:-$build/bench-results}
mkdir -p "$out"
json="$out/weight_memory.json"
: > "$json"
for isa in native AVX2; do
  for mode in per_plan shared session; do
    if [[ $isa == native ]]; then
      OMP_NUM_THREADS=1 "$build/bench/weight_memory_bench" --mode=$mode >> "$json"
    else
      OMP_NUM_THREADS=1 ONEDNN_MAX_CPU_ISA=$isa "$build/bench/weight_memory_bench" --mode=$mode >> "$json"
    fi
  done
done
/usr/bin/python3 - "$json" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
mb = lambda b: f"{b / 1e6:.1f}"
print("| ISA | mode | plans | weight reorders after load | weight MB at load -> after | plan MB (estimate) | RSS growth MB | seconds |")
print("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |")
for r in rows:
    plan = mb(r["plan_bytes"]) if r["mode"] == "session" else "-"
    print(f"| {r['isa']} | {r['mode']} | {r['plans']} | {r['reorders']} | "
          f"{mb(r['weight_bytes_at_load'])} -> {mb(r['weight_bytes'])} | {plan} | "
          f"{mb(r['rss_growth_bytes'])} | {r['seconds']:.2f} |")
PY
