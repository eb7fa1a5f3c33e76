#!/usr/bin/python3
"""Plots and markdown tables from a benchmark results directory.

Reads what bench/run_suite.sh writes into DIR: engine_bench.json,
engine_layout_passive.json and engine_layout_omp1.json (Google Benchmark JSON
of bench/engine_bench),
compare_torch.json (bench/compare_torch.py) and serving.json
(bench/serving_suite.py); any of them may be missing. Writes PNGs (matplotlib,
Agg backend) into --img and the tables docs/performance.md shows into
DIR/tables.md.

  /usr/bin/python3 bench/plots.py DIR [--img DIR/img]
"""

import argparse
import json
import os
import re
from collections import defaultdict

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def parse_name(name):
    """'engine/layers:1/hidden:64/.../real_time' -> ('engine', {'layers': 1, ...})."""
    parts = name.split("/")
    fields = {}
    for part in parts[1:]:
        if ":" in part:
            key, value = part.split(":", 1)
            fields[key] = int(value) if re.fullmatch(r"\d+", value) else value
    return parts[0], fields


def engine_rows(bench):
    """(kind, fields, benchmark) per benchmark; with repetitions, the median
    aggregate, with the coefficient of variation of seq/s as b["cv"]."""
    entries = [b for b in (bench or {}).get("benchmarks", []) if not b.get("error_occurred")]
    cv = {b["run_name"]: b.get("seq/s", b.get("GFLOP/s")) for b in entries
          if b.get("aggregate_name") == "cv"}
    if any(b.get("aggregate_name") for b in entries):
        entries = [dict(b, cv=cv.get(b["run_name"])) for b in entries
                   if b.get("aggregate_name") == "median"]
    rows = []
    for b in entries:
        kind, fields = parse_name(b.get("run_name", b["name"]))
        rows.append((kind, fields, b))
    return rows


def peaks(rows):
    out = {}
    for kind, fields, b in rows:
        if kind == "peak":
            which = b.get("run_name", b["name"]).split("/")[1]
            out[(which, fields["threads"])] = b["GFLOP/s"]
    return out


# ------------------------------------------------------------------ plots

def plot_engine(rows, peak, img):
    engine = [(f, b) for k, f, b in rows if k == "engine"]
    if not engine:
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    series = defaultdict(list)
    for f, b in engine:
        if f["layers"] == 1 and f["steps"] == 50 and f["attn"] == "additive":
            series[(f["hidden"], f.get("lstm", ""))].append((f["batch"], b["GFLOP/s"]))
    for (hidden, lstm), pts in sorted(series.items()):
        pts.sort()
        axes[0].plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                     linestyle="--" if lstm == "rnn_primitive" else "-",
                     label=f"H={hidden} {lstm}".strip())
    axes[0].set_title("1 layer, T=50, additive attention")
    series = defaultdict(list)
    for f, b in engine:
        if f["hidden"] == 128 and f.get("lstm", "matmul") == "matmul":
            series[(f["layers"], f["steps"], f["attn"])].append((f["batch"], b["GFLOP/s"]))
    shapes = sorted({(layers, steps) for layers, steps, _ in series})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (layers, steps, attn), pts in sorted(series.items()):
        pts.sort()
        axes[1].plot([p[0] for p in pts], [p[1] for p in pts], "-" if attn == "additive" else "--",
                     marker="o", color=colors[shapes.index((layers, steps)) % len(colors)],
                     label=f"L={layers} T={steps} {attn}")
    axes[1].set_title("H=128: layers, length, attention (matmul LSTM)")
    for ax in axes:
        if ("fma", 1) in peak:
            ax.axhline(peak[("fma", 1)], color="black", linestyle=":",
                       label=f"FMA peak, 1 thread ({peak[('fma', 1)]:.0f})")
        if ("matmul_1024", 1) in peak:
            ax.axhline(peak[("matmul_1024", 1)], color="gray", linestyle="-.",
                       label=f"oneDNN 1024³ matmul ({peak[('matmul_1024', 1)]:.0f})")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size (sequences)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("achieved GFLOP/s (1 thread)")
    fig.suptitle("attnserve engine: achieved GFLOP/s vs batch size")
    fig.tight_layout()
    fig.savefig(os.path.join(img, "engine_gflops_vs_batch.png"), dpi=110)
    plt.close(fig)


def comparison(serving, name):
    for c in (serving or {}).get("comparisons", []):
        if c["name"] == name:
            return c
    return None


def plot_throughput(serving, img):
    lines = []
    for comp, side, label in [("batching", "batching", "attnserve (dynamic batching)"),
                              ("batching", "no-batching", "attnserve --max_batch_size=1"),
                              ("echo", "echo", "echo_server (transport floor)"),
                              ("python", "python", "Python grpcio + PyTorch")]:
        c = comparison(serving, comp)
        if c and side in c["sides"]:
            lines.append((label, c["sides"][side]))
    if not lines:
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, levels in lines:
        x = [lv["load"] for lv in levels]
        axes[0].plot(x, [lv["requests_per_s"] for lv in levels], marker="o", label=label)
        axes[1].plot(x, [lv["latency_ms"]["p99"] for lv in levels], marker="o", label=label)
    axes[0].set_ylabel("requests/s (1 sequence of 50 steps each)")
    axes[1].set_ylabel("p99 latency (ms)")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("concurrency (outstanding requests, closed loop)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Serving throughput and p99 latency vs concurrency")
    fig.tight_layout()
    fig.savefig(os.path.join(img, "throughput_vs_concurrency.png"), dpi=110)
    plt.close(fig)


def plot_latency(serving, img):
    c = comparison(serving, "batching_open")
    if not c:
        return
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (side, levels) in enumerate(c["sides"].items()):
        x = [lv["load"] for lv in levels]
        for q, style in [("p50", "-"), ("p90", "-."), ("p99", "--"), ("p999", ":")]:
            ax.plot(x, [lv["latency_ms"][q] for lv in levels], style, marker="o",
                    color=colors[k % len(colors)], label=f"{side} {q}")
    ax.set_yscale("log")
    ax.set_xlabel("offered load (requests/s, Poisson arrivals)")
    ax.set_ylabel("latency from intended send (ms; answered requests)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Open-loop latency percentiles vs load")
    fig.tight_layout()
    fig.savefig(os.path.join(img, "latency_vs_load.png"), dpi=110)
    plt.close(fig)


def plot_torch(torch_results, img):
    if not torch_results or not torch_results.get("cases"):
        return
    fig, ax = plt.subplots(figsize=(12, 5.5))
    by_threads = defaultdict(list)
    for r in torch_results["cases"]:
        by_threads[r["case"]["threads"]].append(r)
    width = 0.8 / max(1, len(by_threads))
    labels = None
    for i, (threads, cases) in enumerate(sorted(by_threads.items())):
        labels = [f"L{c['case']['layers']} H{c['case']['hidden']} T{c['case']['steps']} "
                  f"{c['case']['attention'][:3]} B{c['case']['batch']}" for c in cases]
        ax.bar([k + i * width for k in range(len(cases))],
               [c["ratio_vs_best_torch"] for c in cases], width, label=f"{threads} thread(s)")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks([k + width / 2 for k in range(len(labels))])
    ax.set_xticklabels(labels, fontsize=7, rotation=60, ha="right")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%gx"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%gx"))
    ax.set_ylabel("engine seq/s / fastest PyTorch seq/s")
    ax.set_title("attnserve engine vs PyTorch (OpenBLAS) on the same model files")
    ax.legend()
    ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(img, "engine_vs_torch.png"), dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------- tables

def table_peak(peak):
    lines = ["| reference | 1 thread | 2 threads |", "| --- | ---: | ---: |"]
    for which, label in [("fma", "AVX-512 FMA loop (GFLOP/s)"),
                         ("matmul_1024", "oneDNN f32 matmul 1024³ (GFLOP/s)")]:
        lines.append(f"| {label} | {peak.get((which, 1), 0):.1f} | {peak.get((which, 2), 0):.1f} |")
    return "\n".join(lines)


def table_engine(rows, attn):
    cells = defaultdict(dict)
    batches = set()
    for k, f, b in rows:
        if k == "engine" and f["attn"] == attn:
            cells[(f["layers"], f["hidden"], f["steps"], f.get("lstm", "-"))][f["batch"]] = b
            batches.add(f["batch"])
    if not cells:
        return ""
    batches = sorted(batches)
    head = "| L | H | T | LSTM | " + " | ".join(f"B={x} seq/s (GFLOP/s, % peak)"
                                              for x in batches) + " |"
    lines = [head, "| ---: | ---: | ---: | --- |" + " ---: |" * len(batches)]
    for (layers, hidden, steps, lstm), by_batch in sorted(cells.items()):
        row = [f"{layers}", f"{hidden}", f"{steps}", lstm]
        for x in batches:
            b = by_batch.get(x)
            row.append(f"{b['seq/s']:.0f} ({b['GFLOP/s']:.1f}, {b['peak_frac']:.0%})" if b else "-")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def table_layouts(variants):
    """variants: [(label, rows)], e.g. default / OMP_WAIT_POLICY=passive / OMP_NUM_THREADS=1."""
    data = defaultdict(dict)
    cols = []
    for label, source in variants:
        for k, f, b in source:
            if k == "layout":
                col = (f"{f['workers']}x{f['threads']}", label)
                data[f["batch"]][col] = b["seq/s"]
                if col not in cols:
                    cols.append(col)
    if not data:
        return ""
    lines = ["| batch | " + " | ".join(f"{w} {p}" for w, p in cols) + " |",
             "| ---: |" + " ---: |" * len(cols)]
    for batch in sorted(data):
        lines.append(f"| {batch} | " + " | ".join(
            f"{data[batch][c]:.0f}" if c in data[batch] else "-" for c in cols) + " |")
    return "\n".join(lines)


def table_torch(t):
    if not t or not t.get("cases"):
        return ""
    lines = ["| L | H | T | attention | batch | threads | engine seq/s | torch (ref) | "
             "torch (padded) | engine / best torch | max abs diff |",
             "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in t["cases"]:
        c, s = r["case"], r["seq_per_s"]
        lines.append(f"| {c['layers']} | {c['hidden']} | {c['steps']} | {c['attention']} | "
                     f"{c['batch']} | {c['threads']} | {s['engine']:.0f} | {s['torch_ref']:.0f} | "
                     f"{s['torch_padded']:.0f} | {r['ratio_vs_best_torch']:.2f}x | "
                     f"{r['max_abs_diff']:.1e} |")
    return "\n".join(lines)


def table_serving(c):
    lines = [f"| {c['mode']} | side | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | batch | "
             "queue ms | compute ms | server CPU µs/req | pad | stable | errors |",
             "| ---: | --- |" + " ---: |" * 11 + " --- |"]
    for i, load in enumerate(c["loads"]):
        for side, levels in c["sides"].items():
            lv = levels[i]
            lat, srv = lv["latency_ms"], lv["server"]
            pad = lv.get("padding_ratio")
            errors = ", ".join(f"{k} {v}" for k, v in lv["errors"].items()) or "0"
            lines.append(
                f"| {load:g} | {side} | {lv['requests_per_s']:.0f} | {lat['p50']:.2f} | "
                f"{lat['p90']:.2f} | {lat['p99']:.2f} | {lat['p999']:.2f} | "
                f"{srv['mean_batch_size']:.1f} | {srv['mean_queue_ms']:.2f} | "
                f"{srv['mean_compute_ms']:.2f} | {lv['server_cpu_us_per_request']:.0f} | "
                f"{f'{pad:.2f}' if pad else '-'} | {'yes' if lv['stable'] else 'no'} | {errors} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description="plots and tables from bench results")
    p.add_argument("dir")
    p.add_argument("--img", help="where the PNGs go (default DIR/img)")
    args = p.parse_args()
    img = args.img or os.path.join(args.dir, "img")
    os.makedirs(img, exist_ok=True)
    rows = engine_rows(load(os.path.join(args.dir, "engine_bench.json")))
    layout_rows = [("default", rows),
                   ("passive", engine_rows(load(os.path.join(args.dir, "engine_layout_passive.json")))),
                   ("omp1", engine_rows(load(os.path.join(args.dir, "engine_layout_omp1.json"))))]
    torch_results = load(os.path.join(args.dir, "compare_torch.json"))
    serving = load(os.path.join(args.dir, "serving.json"))
    peak = peaks(rows)
    plot_engine(rows, peak, img)
    plot_throughput(serving, img)
    plot_latency(serving, img)
    plot_torch(torch_results, img)
    sections = []
    if peak:
        sections.append("## peak\n\n" + table_peak(peak))
    for attn in ("additive", "luong"):
        t = table_engine(rows, attn)
        if t:
            sections.append(f"## engine, {attn}\n\n{t}")
    t = table_layouts(layout_rows)
    if t:
        sections.append("## layouts (engine)\n\n" + t)
    t = table_torch(torch_results)
    if t:
        sections.append("## engine vs torch\n\n" + t)
    for c in (serving or {}).get("comparisons", []):
        sections.append(f"## serving: {c['name']} ({c['title']})\n\n" + table_serving(c))
    with open(os.path.join(args.dir, "tables.md"), "w") as f:
        f.write("\n\n".join(sections) + "\n")
    print(f"plots: wrote {img}/*.png and {args.dir}/tables.md")


if __name__ == "__main__":
    main()
