#!/usr/bin/python3
"""Steady-state instructions per batch of the engine, counted by callgrind.

Timing on a shared machine moves with its load; callgrind counts executed
instructions, which do not. This runs build/bench/engine_runner (or --runner,
e.g. an older build of it) under `valgrind --tool=callgrind`, which writes a
profile each time Session::Run returns: the first holds the load and the
warm-up batch (which builds the plan and lets oneDNN generate its JIT
kernels), each later one exactly one steady-state batch (and the runner's
clock reads). Their mean is the instructions per batch. Prints the total per
batch and per sequence, and the functions that take the most, grouped:

  jit        oneDNN's generated kernels (no symbol: "???" in valgrind's names)
  onednn     libdnnl's compiled code (primitive execution, GEMM driver, copies)
  gates      the engine's fused LSTM gate kernel (engine/lstm_gates*)
  engine     the rest of the engine
  other      libc, libstdc++ and the rest

Valgrind runs AVX2 code but not AVX-512, so oneDNN and the gate kernel run
their AVX2 variants under it whatever the CPU (ONEDNN_MAX_CPU_ISA=AVX2 is set
to make that explicit). An instruction is not a unit of time (an FMA over 8
floats and a scalar move count one each): compare like with like.

  /usr/bin/python3 bench/callgrind_batch.py --model_dir DIR --batch 32 --steps 50
      [--lstm_impl matmul] [--recurrent_gemm auto|packed|row_matmul] [--build build]
      [--runner PATH] [--top 15] [--json FILE]
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default="build")
    p.add_argument("--model_dir", required=True, help="a model version directory")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--lstm_impl", default="matmul")
    p.add_argument("--recurrent_gemm", default="auto",
                   help="the matmul LSTM's recurrent GEMM (engine_runner --recurrent_gemm)")
    p.add_argument("--runner", help="engine_runner binary (default: BUILD/bench/engine_runner)")
    p.add_argument("--top", type=int, default=15, help="functions listed")
    p.add_argument("--json", help="write the results here")
    return p.parse_args(argv)


def self_costs(path):
    """{function: self instructions} from a callgrind output file.

    In a profile dumped while functions are running (--dump-after), the
    frames still on the stack (main and below) show the part's whole cost as
    their own: those entries, equal to the total, are left out."""
    out = subprocess.run(["callgrind_annotate", "--threshold=100", path], check=True,
                         capture_output=True, text=True).stdout
    costs = {}
    total = None
    started = False
    for line in out.splitlines():
        m = re.match(r"\s*([0-9,]+)\s+\(100.0%\)\s+PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
        if "file:function" in line:
            started = True
            continue
        m = re.match(r"\s*([0-9,]+)\s+\([ 0-9.]+%\)\s+(.*)$", line)
        if started and m:
            value = int(m.group(1).replace(",", ""))
            if value != total:
                costs[m.group(2).strip()] = value
    return costs


def run(args, tmp):
    """Self instructions per function, per steady-state batch, and the batch count."""
    out = os.path.join(tmp, "callgrind")
    runner = args.runner or os.path.join(args.build, "bench", "engine_runner")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
           "--dump-after=attnserve::engine::Session::Run(*", runner,
           f"--model_dir={args.model_dir}", f"--batch={args.batch}", f"--steps={args.steps}",
           "--min_time_s=0", f"--lstm_impl={args.lstm_impl}"]
    if args.recurrent_gemm != "auto":  # runners built before the flag take no such flag
        cmd.append(f"--recurrent_gemm={args.recurrent_gemm}")
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2", OMP_NUM_THREADS="1")
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    parts = sorted((f for f in os.listdir(tmp) if re.fullmatch(r"callgrind\.\d+", f)),
                   key=lambda f: int(f.split(".")[1]))
    steady = parts[1:]  # parts[0]: the load and the warm-up batch
    if not steady:
        sys.exit("callgrind_batch: no steady-state batch was profiled")
    total = collections.Counter()
    for part in steady:
        total.update(self_costs(os.path.join(tmp, part)))
    return {name: value / len(steady) for name, value in total.items()}, len(steady)


def group(name):
    if name.startswith("???:0x") and "[???]" in name:
        return "jit"
    if "libdnnl" in name:
        return "onednn"
    if "lstm_gate_kernel" in name or "(anonymous namespace)::Rows<" in name:
        return "gates"
    if "attnserve::engine" in name:
        return "engine"
    return "other"


def main(argv):
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="callgrind_batch_") as tmp:
        per_batch, batches = run(args, tmp)
    total = sum(per_batch.values())
    groups = collections.Counter()
    for name, value in per_batch.items():
        groups[group(name)] += value
    print(f"# {args.model_dir} batch {args.batch} steps {args.steps} lstm {args.lstm_impl} "
          f"gemm {args.recurrent_gemm}: "
          f"{total / 1e6:.2f} M instructions per batch, {total / args.batch / 1e3:.1f} k per "
          f"sequence (mean of {batches} batches)")
    for name, value in groups.most_common():
        print(f"{name:>8} {value / 1e6:9.2f} M {value / total:6.1%}")
    top = sorted(per_batch.items(), key=lambda kv: -kv[1])[:args.top]
    for name, value in top:
        print(f"  {value / 1e6:9.2f} M {value / total:6.1%}  [{group(name)}] {name[:110]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model_dir": args.model_dir, "batch": args.batch, "steps": args.steps,
                       "lstm_impl": args.lstm_impl,
                       "recurrent_gemm": args.recurrent_gemm, "runner": args.runner,
                       "per_batch": total,
                       "groups": dict(groups), "top": top}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
