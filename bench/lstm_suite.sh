#!/usr/bin/env bash
# The LSTM implementations side by side (docs/performance.md, "LSTM
# implementations"): oneDNN's LSTM primitive vs the ragged matmul LSTM, on the
# native ISA and capped to AVX2, each figure measured beside its baseline in
# the same run. Results go to OUT_DIR (default BUILD_DIR/bench-results/lstm):
#   machine.txt
#   engine_native.json, engine_avx2.json   engine_bench: 1 layer, T 50, additive,
#        H 64/128/256, batch 1/8/32/128, both implementations (the matmul
#        LSTM also with its recurrent GEMM on oneDNN matmul), oneDNN's
#        1024^3 matmul and the FMA loop (both capped like the rest);
#        5 repetitions (tables take the best)
#   gates_native.json, gates_avx2.json     lstm_gates_bench: fused kernel vs oneDNN chain
#   torch_native.json, torch_avx2.json     compare_torch.py, 1 thread, batch 1 and 32,
#        both implementations (and matmul:row_matmul) against PyTorch + OpenBLAS
#        (capped to AVX2 too)
#   serving.json                           serving_suite.py on the demo model:
#        lstm_batching (with the echo server's floor), lstm_lengths
#   serving_h128/serving.json              the same lstm_batching on the bench model
#        (input 32, LSTM 1x128, additive), where the model weighs more
#   tables.md                              bench/lstm_tables.py
#
#   bench/lstm_suite.sh [BUILD_DIR] [OUT_DIR]
# About 20 minutes. Needs engine_bench, lstm_gates_bench, engine_runner,
# attnserve, attnbench, echo_server and scripts/install-deps.sh --bench.
set -euo pipefail
build=${1:-build}
out=${2:-$build/bench-results/lstm}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
mkdir -p "$out"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "uptime: $(uptime)"
  lscpu | grep -E "Model name|^CPU\(s\)|Thread|Core|L1d|L2|L3|Hypervisor"
  flags=$(grep -o -w 'avx2\|avx512f\|avx512_bf16\|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')
  echo "isa flags: $flags"
  dpkg-query -W -f '${Package} ${Version}\n' libdnnl2 python3-torch libopenblas0-openmp g++ \
      2>/dev/null || true
} | tee "$out/machine.txt"

filter='^peak/(fma|matmul_1024)/threads:1|^engine/layers:1/hidden:(64|128|256)/steps:50/'
filter+='attn:additive/batch:(1|8|32|128)/'
for isa in native avx2; do
  cap=ALL
  [[ $isa == avx2 ]] && cap=AVX2
  echo "== engine_bench ($isa)"
  ONEDNN_MAX_CPU_ISA=$cap OMP_NUM_THREADS=1 "$build/bench/engine_bench" \
      --benchmark_filter="$filter" --benchmark_repetitions=5 \
      --benchmark_out="$out/engine_$isa.json" --benchmark_out_format=json > /dev/null
  echo "== lstm_gates_bench ($isa)"
  ONEDNN_MAX_CPU_ISA=$cap OMP_NUM_THREADS=1 "$build/bench/lstm_gates_bench" \
      --benchmark_min_time=0.1 --benchmark_repetitions=5 \
      --benchmark_out="$out/gates_$isa.json" --benchmark_out_format=json > /dev/null
  echo "== engine vs PyTorch ($isa)"
  # OpenBLAS kernels of the ISA compared (it may not recognise the CPU itself).
  coretype=Haswell
  [[ $isa == native ]] && grep -q -w avx512f /proc/cpuinfo && coretype=SkylakeX
  $py "$here/compare_torch.py" --build "$build" --threads 1 --batches 1,32 \
      --lstm_impl rnn_primitive,matmul:row_matmul,matmul --isa $isa --openblas_coretype $coretype \
      --json "$out/torch_$isa.json"
done
echo "== serving, demo model"
$py "$here/serving_suite.py" --build "$build" --out "$out" --model demo \
    --only lstm_batching,lstm_lengths
echo "== serving, LSTM 1x128"
$py "$here/serving_suite.py" --build "$build" --out "$out/serving_h128" --model bench \
    --only lstm_batching
$py "$here/lstm_tables.py" "$out" | tee "$out/tables.md"
