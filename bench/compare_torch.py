#!/usr/bin/python3
"""The attnserve engine against PyTorch on the identical model, in one run.

For each case (layers, hidden, steps, attention, batch) a random model is
written once with the PyTorch reference (bench/bench_models.py ->
export.save_model) to a temporary directory. Then, in alternating order for
--rounds rounds, the same batch (identical input, written to a file) runs:

  engine        build/bench/engine_runner on that directory (Model::Load,
                Session::Run with --threads OpenMP threads)
  torch_ref     export.load_model(dir): the reference Classifier as written
                (it packs the batch so padding is exact, as the engine is)
  torch_padded  the same module with the LSTM run on the padded tensor (no
                packing; exact here because every sequence has the full length):
                what a user with fixed-length input would write

with the same thread count on both sides (torch.set_num_threads and
OMP_NUM_THREADS). Each side's outputs are compared (max abs difference) to
show they computed the same thing. Prints seq/s per side and the ratio engine /
fastest PyTorch variant (median over rounds), per thread count.

--lstm_impl rnn_primitive,matmul runs one engine side per LSTM implementation
(named engine_<impl>), alternating with the PyTorch sides in every round; the
last one listed is also reported as "engine" with its ratio to the fastest
PyTorch variant (ratio_vs_best_torch), every one in ratios_vs_best_torch.
An implementation may name the matmul LSTM's recurrent GEMM after a colon
(matmul:packed, matmul:row_matmul; engine_runner --recurrent_gemm) to compare
the two on the same model.
--isa avx2 caps both sides to AVX2 on a CPU with more: the engine with
ONEDNN_MAX_CPU_ISA=AVX2, OpenBLAS with OPENBLAS_CORETYPE=Haswell, PyTorch's own
kernels with ATEN_CPU_CAPABILITY=avx2. OpenBLAS 0.3.21 does not recognise every
CPU (an AMD EPYC Zen 4 under KVM gets its SSE3 "Prescott" kernels):
--openblas_coretype names the kernels to use (the run reports OpenBLAS's config).

PyTorch here is Debian's python3-torch; its LSTM runs per-step addmm on the
system BLAS. Debian's default libblas.so.3 is the reference BLAS (~20x slower
for GEMM), so every PyTorch run here gets OpenBLAS (libopenblas0-openmp) by
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp, for this process
only (the system's update-alternatives choice is left as it is); the run
checks /proc/self/maps and reports the OpenBLAS config string.

  /usr/bin/python3 bench/compare_torch.py [--build build] [--threads 1,2]
      [--quick] [--rounds 3] [--min_time 0.5] [--json FILE]
      [--lstm_impl auto|rnn_primitive|matmul[:packed|:row_matmul][,...]] [--isa native|avx2] [--cases B1,B2]
"""

import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"

FULL_CASES = (
    # (layers, hidden, steps, attention, batch)
    [(1, h, 50, "additive", b) for h in (64, 128, 256) for b in (1, 8, 32, 128)]
    + [(1, 128, 50, "luong", b) for b in (1, 8, 32, 128)]
    + [(2, 128, 50, "additive", b) for b in (1, 8, 32, 128)]
    + [(1, 128, 200, "additive", b) for b in (1, 32)]
)
QUICK_CASES = [(1, 128, 50, "additive", 1), (1, 128, 50, "additive", 32)]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default="build", help="CMake build directory")
    p.add_argument("--threads", default="1,2", help="thread counts to compare")
    p.add_argument("--quick", action="store_true", help="two cases only")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per case")
    p.add_argument("--min_time", type=float, default=0.5, help="seconds per side per round")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--lstm_impl", default="auto",
                   help="engine LSTM implementation(s), comma-separated (one side each)")
    p.add_argument("--isa", default="native", choices=("native", "avx2"),
                   help="avx2: cap the engine, OpenBLAS and PyTorch to AVX2")
    p.add_argument("--batches", help="only the cases of these batch sizes (comma-separated)")
    p.add_argument("--openblas_coretype",
                   help="OPENBLAS_CORETYPE for PyTorch's OpenBLAS (--isa avx2: Haswell), for a "
                        "CPU that OpenBLAS does not recognise (it then falls back to SSE3 "
                        "kernels, \"Prescott\" in its config)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ---------------------------------------------------------------- child side

def blas_in_use():
    """The BLAS libraries mapped into this process, and OpenBLAS's config."""
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "blas" in line.split()[-1]})
    config = None
    if any("openblas" in lib for lib in libs):
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_config.restype = ctypes.c_char_p
        config = lib.openblas_get_config().decode()
    return libs, config


def time_torch(model, x, lengths, min_time):
    import torch
    with torch.inference_mode():
        out, _ = model(x, lengths)  # warm-up
        runs, start = 0, time.perf_counter()
        while True:
            model(x, lengths)
            runs += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time and runs >= 2:
                break
    return runs * x.shape[0] / elapsed, out


def padded(model):
    """The reference module with its LSTM run unpacked (all lengths equal T)."""
    from torch import nn

    def encoder_forward(x, lengths):
        H, _ = nn.LSTM.forward(model.encoder, x)
        return H, H[:, -1]

    model.encoder.forward = encoder_forward
    return model


def run_child(args):
    import numpy as np
    import torch

    import bench_models

    threads = int(args.threads)
    torch.set_num_threads(threads)
    libs, config = blas_in_use()
    runner = os.path.join(args.build, "bench", "engine_runner")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    info = {"threads": threads, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "blas_libraries": libs,
            "openblas_config": config, "torch_num_threads": torch.get_num_threads(),
            "isa": args.isa, "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
            "aten_cpu_capability": os.environ.get("ATEN_CPU_CAPABILITY")}
    print(json.dumps({"info": info}), flush=True)
    cases = QUICK_CASES if args.quick else FULL_CASES
    if args.batches:
        wanted = {int(b) for b in args.batches.split(",")}
        cases = [c for c in cases if c[4] in wanted]
    impls = args.lstm_impl.split(",")
    engines = {("engine" if len(impls) == 1 else f"engine_{impl}"): impl for impl in impls}
    with tempfile.TemporaryDirectory(prefix="compare_torch_") as tmp:
        for layers, hidden, steps, attention, batch in cases:
            model_dir = os.path.join(tmp, f"l{layers}_h{hidden}_{attention}", "1")
            if not os.path.exists(model_dir):
                bench_models.save(model_dir, hidden, layers, attention, seed=hidden + layers)
            rng = np.random.default_rng(batch * 1000 + steps)
            x_np = rng.standard_normal((batch, steps, bench_models.INPUT), dtype=np.float32)
            input_path = os.path.join(tmp, "input.f32")
            x_np.tofile(input_path)
            x = torch.from_numpy(x_np)
            lengths = torch.full((batch,), steps, dtype=torch.int64)
            ref = bench_models.load_model(model_dir)
            fast = padded(bench_models.load_model(model_dir))
            rates = {side: [] for side in list(engines) + ["torch_ref", "torch_padded"]}
            outputs = {}
            for r in range(args.rounds):
                order = list(rates)
                if r % 2:
                    order.reverse()
                for side in order:
                    if side in engines:
                        proc = subprocess.run(
                            [runner, f"--model_dir={model_dir}", f"--batch={batch}",
                             f"--steps={steps}", f"--threads={threads}",
                             f"--min_time_s={args.min_time}", f"--input={input_path}",
                             *runner_impl_args(engines[side])],
                            env=env, check=True, capture_output=True, text=True)
                        result = json.loads(proc.stdout)
                        rates[side].append(result["seq_per_s"])
                        outputs[side] = np.array(result["outputs"], dtype=np.float32)
                    else:
                        model = ref if side == "torch_ref" else fast
                        rate, out = time_torch(model, x, lengths, args.min_time)
                        rates[side].append(rate)
                        outputs[side] = out.numpy()
            diff = max(float(np.abs(outputs[e] - outputs[s]).max())
                       for e in engines for s in ("torch_ref", "torch_padded"))
            median = {side: statistics.median(v) for side, v in rates.items()}
            best_torch = max(median["torch_ref"], median["torch_padded"])
            last = list(engines)[-1]
            median["engine"] = median[last]
            rates["engine"] = rates[last]
            print(json.dumps({"case": {"layers": layers, "hidden": hidden, "steps": steps,
                                       "attention": attention, "batch": batch,
                                       "threads": threads},
                              "seq_per_s": median, "rounds": rates,
                              "ratio_vs_best_torch": median["engine"] / best_torch,
                              "ratios_vs_best_torch": {engines[e]: median[e] / best_torch
                                                       for e in engines},
                              "max_abs_diff": diff}), flush=True)


def runner_impl_args(spec):
    """engine_runner flags for an engine side "IMPL" or "IMPL:GEMM"."""
    impl, _, gemm = spec.partition(":")
    flags = [f"--lstm_impl={impl}"]
    if gemm:
        flags.append(f"--recurrent_gemm={gemm}")
    return flags


# --------------------------------------------------------------- parent side

def run_parent(args):
    if not os.path.exists(os.path.join(OPENBLAS_DIR, "libblas.so.3")):
        sys.exit(f"compare_torch: {OPENBLAS_DIR} missing: install libopenblas0-openmp "
                 "(scripts/install-deps.sh --bench)")
    results = {"info": [], "cases": []}
    print(f"{'L':>2} {'H':>4} {'T':>4} {'attn':>8} {'B':>4} {'thr':>3} {'engine':>10} "
          f"{'torch_ref':>10} {'torch_pad':>10} {'ratio':>7} {'spread':>7} {'maxdiff':>8}  "
          f"per implementation")
    results["isa"] = args.isa
    results["lstm_impl"] = args.lstm_impl
    for threads in args.threads.split(","):
        env = dict(os.environ, OMP_NUM_THREADS=threads,
                   LD_LIBRARY_PATH=OPENBLAS_DIR + ":" + os.environ.get("LD_LIBRARY_PATH", ""))
        if args.isa == "avx2":
            env.update(ONEDNN_MAX_CPU_ISA="AVX2", OPENBLAS_CORETYPE="Haswell",
                       ATEN_CPU_CAPABILITY="avx2")
        if args.openblas_coretype:
            env["OPENBLAS_CORETYPE"] = args.openblas_coretype
        cmd = [sys.executable, os.path.abspath(__file__), "--child", f"--build={args.build}",
               f"--threads={threads}", f"--rounds={args.rounds}", f"--min_time={args.min_time}",
               f"--lstm_impl={args.lstm_impl}", f"--isa={args.isa}"]
        if args.quick:
            cmd.append("--quick")
        if args.batches:
            cmd.append(f"--batches={args.batches}")
        with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) as proc:
            for line in proc.stdout:
                record = json.loads(line)
                if "info" in record:
                    results["info"].append(record["info"])
                    print(f"# threads {threads}: torch {record['info']['torch']}, "
                          f"BLAS {record['info']['openblas_config'] or record['info']['blas_libraries']}",
                          flush=True)
                    continue
                results["cases"].append(record)
                c, s = record["case"], record["seq_per_s"]
                engine_runs = record["rounds"]["engine"]
                spread = (max(engine_runs) - min(engine_runs)) / s["engine"]
                print(f"{c['layers']:>2} {c['hidden']:>4} {c['steps']:>4} {c['attention']:>8} "
                      f"{c['batch']:>4} {c['threads']:>3} {s['engine']:>10.1f} "
                      f"{s['torch_ref']:>10.1f} {s['torch_padded']:>10.1f} "
                      f"{record['ratio_vs_best_torch']:>6.2f}x {spread:>6.1%} "
                      f"{record['max_abs_diff']:>8.1e}  " +
                      " ".join(f"{impl} {s.get('engine_' + impl, s['engine']):.1f} "
                               f"({ratio:.2f}x)"
                               for impl, ratio in record["ratios_vs_best_torch"].items()),
                      flush=True)
        if proc.returncode != 0:
            sys.exit(f"compare_torch: the run with {threads} thread(s) failed")
    ratios = [r["ratio_vs_best_torch"] for r in results["cases"]]
    if ratios:
        geo = statistics.geometric_mean(ratios)
        print(f"# engine / fastest PyTorch: geometric mean {geo:.2f}x, "
              f"min {min(ratios):.2f}x, max {max(ratios):.2f}x over {len(ratios)} cases")
        results["geomean_ratio"] = geo
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def main(argv):
    args = parse_args(argv)
    if args.child:
        run_child(args)
    else:
        run_parent(args)


if __name__ == "__main__":
    main(sys.argv[1:])
