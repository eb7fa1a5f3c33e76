#!/usr/bin/env bash
# The whole benchmark suite (`make bench`): engine, engine vs PyTorch, serving
# comparisons, server profile, plots. Results go to OUT_DIR (default
# BUILD_DIR/bench-results): machine.txt, engine_bench.json,
# engine_layout_passive.json, engine_layout_omp1.json, weight_memory.json (.md),
# weight_layouts.json, compare_torch.json, serving.json,
# profile_c64.txt, profile_c1.txt, tables.md, img/*.png. docs/performance.md
# shows one such run (copy img/*.png to docs/img/ to update its plots).
#
#   bench/run_suite.sh [BUILD_DIR] [OUT_DIR] [--quick]
# --quick: the engine subset, two PyTorch cases, fewer serving levels (minutes
# instead of about 20). Needs the build's engine_bench, engine_runner,
# echo_server, attnserve and attnbench, and scripts/install-deps.sh --bench.
set -euo pipefail
build=${1:-build}
out=${2:-$build/bench-results}
quick=""
[[ "${3:-}" == "--quick" ]] && quick="--quick"
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
mkdir -p "$out"

echo "== machine ($out/machine.txt)"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "uptime: $(uptime)"
  lscpu | grep -E "Model name|^CPU\(s\)|Thread|Core|Socket|L1d|L2|L3|Hypervisor|Flags" |
      sed -E 's/^(Flags:\s+).*/\1(avx512: '"$(grep -o 'avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"'amx: '"$(grep -c amx /proc/cpuinfo | head -1)"')/'
  grep MemTotal /proc/meminfo
  echo "kernel: $(uname -r)"
  dpkg-query -W -f '${Package} ${Version}\n' libdnnl2 libgrpc++1.51 python3-torch \
      libopenblas0-openmp python3-grpcio python3-numpy g++ 2>/dev/null || true
} | tee "$out/machine.txt"

echo "== engine benchmark (1 thread per session; layouts use 2 threads)"
repetitions=3
[[ -n "$quick" ]] && repetitions=1
"$build/bench/engine_bench" $quick --benchmark_repetitions=$repetitions \
    --benchmark_report_aggregates_only=true --benchmark_out="$out/engine_bench.json" \
    --benchmark_out_format=json
echo "== thread layouts with OMP_WAIT_POLICY=passive, then with OMP_NUM_THREADS=1"
OMP_WAIT_POLICY=passive "$build/bench/engine_bench" $quick --benchmark_filter='^layout/' \
    --benchmark_out="$out/engine_layout_passive.json" --benchmark_out_format=json
OMP_NUM_THREADS=1 "$build/bench/engine_bench" $quick --benchmark_filter='^layout/' \
    --benchmark_out="$out/engine_layout_omp1.json" --benchmark_out_format=json

echo "== weights over 80 shapes, natively and capped to AVX2 ($out/weight_memory.json)"
"$here/weight_memory.sh" "$build" "$out" | tee "$out/weight_memory.md"
for isa in native AVX2; do
  if [[ $isa == native ]]; then
    OMP_NUM_THREADS=1 "$build/bench/weight_memory_bench" --mode=layouts
  else
    OMP_NUM_THREADS=1 ONEDNN_MAX_CPU_ISA=$isa "$build/bench/weight_memory_bench" --mode=layouts
  fi
done > "$out/weight_layouts.json"

echo "== engine vs PyTorch"
$py "$here/compare_torch.py" --build "$build" $quick --json "$out/compare_torch.json"

echo "== serving comparisons"
$py "$here/serving_suite.py" --build "$build" --out "$out" $quick

echo "== server profile"
"$here/profile_server.sh" "$build" "$out"

echo "== plots"
$py "$here/plots.py" "$out"
echo "bench: results in $out"
