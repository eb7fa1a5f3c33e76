#!/usr/bin/python3
"""Tables of bench/lstm_suite.sh's results (markdown, on stdout).

Engine: the best of the repetitions of each benchmark (the least disturbed by
anything else running), GFLOP/s and its fraction of oneDNN's 1024^3 matmul
measured in the same run, per LSTM implementation, and matmul / rnn_primitive
(and, where the run has it, the matmul LSTM on its RowMatmul recurrent GEMM
beside the packed one).
Gates: median ns per step of the recurrent GEMM (oneDNN matmul and packed),
the fused kernel and the oneDNN chain.
PyTorch and serving: as compare_torch.py and serving_suite.py report them.

  /usr/bin/python3 bench/lstm_tables.py DIR
"""

import collections
import json
import os
import re
import sys


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def fields(name):
    return {k: v for k, v in re.findall(r"([a-z_]+):([^/]+)", name)}


def best(bench):
    out = collections.OrderedDict()
    for b in (bench or {}).get("benchmarks", []):
        if b.get("aggregate_name") or b.get("error_occurred"):
            continue
        name = b["run_name"]
        if name not in out or b.get("GFLOP/s", 0) > out[name].get("GFLOP/s", 0):
            out[name] = b
    return out


def engine_table(directory):
    lines = []
    for isa in ("native", "avx2"):
        rows = best(load(os.path.join(directory, f"engine_{isa}.json")))
        if not rows:
            continue
        peak = next((b["GFLOP/s"] for n, b in rows.items() if n.startswith("peak/matmul")), None)
        fma = next((b["GFLOP/s"] for n, b in rows.items() if n.startswith("peak/fma")), None)
        cells = collections.defaultdict(dict)
        for name, b in rows.items():
            if name.startswith("engine/"):
                f = fields(name)
                cells[(int(f["hidden"]), int(f["batch"]))][f["lstm"]] = b
        fma_text = f"; FMA loop {fma:.1f} GFLOP/s" if fma else ""
        lines.append(f"\n{isa} (oneDNN 1024³ matmul, same run: {peak:.1f} GFLOP/s{fma_text})\n")
        # matmul_row_matmul: the matmul LSTM with its recurrent GEMM on oneDNN
        # matmul, beside the default (packed GEMM) when the run has both.
        rows_gemm = any("matmul_row_matmul" in by for by in cells.values())
        if rows_gemm:
            lines.append("| H | batch | rnn_primitive GFLOP/s | of matmul | matmul LSTM, "
                         "RowMatmul GEMM: GFLOP/s | of matmul | matmul LSTM, packed GEMM: "
                         "seq/s | GFLOP/s | of matmul | packed / RowMatmul | "
                         "packed / rnn_primitive |")
            lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
                         "| ---: | ---: |")
        else:
            lines.append("| H | batch | rnn_primitive seq/s | GFLOP/s | of matmul | matmul seq/s | "
                         "GFLOP/s | of matmul | matmul / rnn_primitive |")
            lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for (hidden, batch), by in sorted(cells.items()):
            r, m, g = by.get("rnn_primitive"), by.get("matmul"), by.get("matmul_row_matmul")
            if not r or not m:
                continue
            if rows_gemm and g:
                lines.append(
                    f"| {hidden} | {batch} | {r['GFLOP/s']:.1f} | {r['GFLOP/s'] / peak:.0%} | "
                    f"{g['GFLOP/s']:.1f} | {g['GFLOP/s'] / peak:.0%} | {m['seq/s']:.0f} | "
                    f"{m['GFLOP/s']:.1f} | {m['GFLOP/s'] / peak:.0%} | "
                    f"{m['seq/s'] / g['seq/s']:.2f}x | {m['seq/s'] / r['seq/s']:.2f}x |")
            elif not rows_gemm:
                lines.append(
                    f"| {hidden} | {batch} | {r['seq/s']:.0f} | {r['GFLOP/s']:.1f} | "
                    f"{r['GFLOP/s'] / peak:.0%} | {m['seq/s']:.0f} | {m['GFLOP/s']:.1f} | "
                    f"{m['GFLOP/s'] / peak:.0%} | {m['seq/s'] / r['seq/s']:.2f}x |")
    return "\n".join(lines)


def gates_table(directory):
    lines = []
    for isa in ("native", "avx2"):
        bench = load(os.path.join(directory, f"gates_{isa}.json"))
        if not bench:
            continue
        med = {b["run_name"]: b for b in bench["benchmarks"] if b.get("aggregate_name") == "median"}
        kernel = bench["context"].get("gate_kernel", "?")
        lines.append(f"\n{isa} (the engine's kernel: {kernel}); µs per step, median\n")
        lines.append("| H | rows | recurrent GEMM | packed GEMM | fused | fused / GEMM | "
                     "oneDNN chain | chain, dense gates | chain dense / fused |")
        lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        shapes = sorted({(int(fields(n)["hidden"]), int(fields(n)["rows"])) for n in med})
        for hidden, rows in shapes:
            tail = f"/hidden:{hidden}/rows:{rows}"
            get = lambda prefix: med.get(prefix + tail, {}).get("ns/step")  # noqa: E731
            gemm, fused = get("gates/recurrent_gemm"), get(f"gates/fused:{kernel}")
            chain, dense = get("gates/onednn_chain"), get("gates/onednn_chain_dense")
            if None in (gemm, fused, chain, dense):
                continue
            packed = get("gates/recurrent_gemm_packed")
            packed_text = f"{packed / 1e3:.2f}" if packed else "-"
            lines.append(f"| {hidden} | {rows} | {gemm / 1e3:.2f} | {packed_text} | "
                         f"{fused / 1e3:.2f} | "
                         f"{fused / gemm:.0%} | {chain / 1e3:.2f} | {dense / 1e3:.2f} | "
                         f"{dense / fused:.1f}x |")
    return "\n".join(lines)


def torch_table(directory):
    lines = []
    for isa in ("native", "avx2"):
        t = load(os.path.join(directory, f"torch_{isa}.json"))
        if not t or not t.get("cases"):
            continue
        blas = (t.get("info") or [{}])[0].get("openblas_config", "")
        lines.append(f"\n{isa} (PyTorch's BLAS: {blas}); seq/s, median of the rounds\n")
        lines.append("| L | H | T | attention | batch | rnn_primitive | matmul | torch (ref) | "
                     "torch (padded) | rnn_primitive / best torch | matmul / best torch |")
        lines.append("| ---: | ---: | ---: | --- |" + " ---: |" * 7)
        for r in t["cases"]:
            c, s, ratios = r["case"], r["seq_per_s"], r.get("ratios_vs_best_torch", {})
            lines.append(
                f"| {c['layers']} | {c['hidden']} | {c['steps']} | {c['attention']} | "
                f"{c['batch']} | {s.get('engine_rnn_primitive', 0):.0f} | "
                f"{s.get('engine_matmul', 0):.0f} | {s['torch_ref']:.0f} | "
                f"{s['torch_padded']:.0f} | {ratios.get('rnn_primitive', 0):.2f}x | "
                f"{ratios.get('matmul', 0):.2f}x |")
    return "\n".join(lines)


def bound_table(directory):
    """What 2.5x PyTorch at batch 32 would need, against this machine's ceilings.

    FLOPs per sequence come from engine_bench (the same model configuration:
    1 layer, input 32, T 50, additive): its GFLOP/s over its seq/s."""
    lines = []
    for isa in ("native", "avx2"):
        t = load(os.path.join(directory, f"torch_{isa}.json"))
        rows = best(load(os.path.join(directory, f"engine_{isa}.json")))
        if not t or not rows:
            continue
        matmul = next((b["GFLOP/s"] for n, b in rows.items() if n.startswith("peak/matmul")), None)
        fma = next((b["GFLOP/s"] for n, b in rows.items() if n.startswith("peak/fma")), None)
        flops = {}
        for name, b in rows.items():
            f = fields(name) if name.startswith("engine/") else {}
            if f.get("layers") == "1" and f.get("attn") == "additive" and f.get("steps") == "50":
                flops[int(f["hidden"])] = b["GFLOP/s"] * 1e9 / b["seq/s"]
        if not matmul or not flops:
            continue
        lines.append(f"\n{isa}: oneDNN 1024³ matmul {matmul:.1f} GFLOP/s" +
                     (f", FMA loop {fma:.1f} GFLOP/s" if fma else "") + "\n")
        lines.append("| H | MFLOP/seq | best torch seq/s | its GFLOP/s | 2.5x needs GFLOP/s | "
                     "of matmul | of FMA loop | matmul LSTM GFLOP/s (compare_torch) |")
        lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in t["cases"]:
            c, sps = r["case"], r["seq_per_s"]
            if (c["layers"], c["steps"], c["attention"], c["batch"]) != (1, 50, "additive", 32):
                continue
            per_seq = flops.get(c["hidden"])
            if not per_seq:
                continue
            torch = max(sps["torch_ref"], sps["torch_padded"])
            need = 2.5 * torch * per_seq / 1e9
            engine = sps.get("engine_matmul", sps.get("engine", 0)) * per_seq / 1e9
            lines.append(f"| {c['hidden']} | {per_seq / 1e6:.2f} | {torch:.0f} | "
                         f"{torch * per_seq / 1e9:.1f} | {need:.1f} | {need / matmul:.0%} | " +
                         (f"{need / fma:.0%}" if fma else "-") + f" | {engine:.1f} |")
    return "\n".join(lines)


def serving_table(directory):
    serving = load(os.path.join(directory, "serving.json"))
    if not serving:
        return ""
    model = serving.get("model", {})
    lines = [f"model: {model.get('name')} (input {model.get('input')}, LSTM 1x"
             f"{model.get('hidden')}, {model.get('attention')})"]
    for c in serving.get("comparisons", []):
        if not c["name"].startswith("lstm_"):
            continue
        lines.append(f"\n{c['name']}: {c['title']}\n")
        lines.append("| side | clients | req/s | p50 ms | p99 ms | mean batch | "
                     "computed / requested timesteps | server CPU µs/req | client CPU µs/req |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for side, levels in c["sides"].items():
            for level in levels:
                pad = level.get("padding_ratio")
                latency = level["latency_ms"]
                lines.append(f"| {side} | {level['load']} | {level['requests_per_s']:.0f} | "
                             f"{latency['p50']:.2f} | {latency['p99']:.2f} | "
                             f"{level['server']['mean_batch_size']:.1f} | " +
                             (f"{pad:.3f} | " if pad else "- | ") +
                             f"{level['server_cpu_us_per_request']:.0f} | "
                             f"{level['client_cpu_us_per_request']:.0f} |")
        if c["name"] == "lstm_batching":
            lines.append("")
            for impl in ("rnn", "matmul"):
                batched, alone = c["sides"].get(f"batch-{impl}"), c["sides"].get(f"batch1-{impl}")
                if not batched or not alone:
                    continue
                for b, a in zip(batched, alone):
                    lines.append(f"- {impl}, concurrency {b['load']}: batching / --max_batch_size=1 "
                                 f"= {b['requests_per_s'] / a['requests_per_s']:.2f}x")
    return "\n".join(lines)


def main():
    directory = sys.argv[1]
    for title, table in [("Engine", engine_table(directory)),
                         ("Gate step", gates_table(directory)),
                         ("Engine vs PyTorch", torch_table(directory)),
                         ("2.5x PyTorch at batch 32: what it needs", bound_table(directory)),
                         ("Serving", serving_table(directory)),
                         ("Serving, LSTM 1x128", serving_table(
                             os.path.join(directory, "serving_h128")))]:
        if table:
            print(f"## {title}\n{table}\n")


if __name__ == "__main__":
    main()
