#!/usr/bin/python3
"""The cost of the attention summaries (--attention_metrics), side by side in one run.

Starts two attnserve servers on loopback at once, identical but for
--attention_metrics=true / false (metrics on for both), serving the same model
repository, and runs attnbench against each in turn, closed loop at
--clients outstanding requests, for --rounds rounds; the order alternates from
round to round so that both sides see the same machine state. Each
measurement is attnbench's mean over its stable windows. Reports per side the
median requests/s over the rounds, and the ratio off/on of the medians and the
median of the per-round ratios (paired rounds cancel slow drifts of a shared
machine). It also checks that the "on" server exported attention summaries and
the "off" server none.

  /usr/bin/python3 bench/attention_overhead.py [--build build] [--rounds 8]
      [--clients 64] [--model demo] [--repository models] [--out FILE.json]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def start(build, repository, port, attention, log_dir):
    log = open(os.path.join(log_dir, f"attnserve-{port}.log"), "w+")
    proc = subprocess.Popen(
        [os.path.join(build, "server", "attnserve"), "--host=127.0.0.1", f"--port={port}",
         f"--metrics_port={port + 1}", f"--model_repository={repository}",
         f"--attention_metrics={'true' if attention else 'false'}"],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        log.seek(0)
        if "listening on" in log.read():
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    log.seek(0)
    proc.kill()
    sys.exit(f"attention_overhead: attnserve on {port} did not start:\n{log.read()}")


def bench(build, port, model, clients, seconds):
    out = subprocess.run(
        [os.path.join(build, "client", "attnbench"), f"--server=127.0.0.1:{port}",
         f"--model={model}", f"--concurrency={clients}", f"--window_s={seconds}",
         "--warmup_s=1", "--stable_windows=2", "--max_windows=4", "--json"],
        capture_output=True, text=True, check=True).stdout
    level = json.loads(out)["levels"][0]
    if level.get("errors"):
        sys.exit(f"attention_overhead: errors against port {port}: {level['errors']}")
    return level["requests_per_s"]


def attention_samples(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/metrics", timeout=10).read().decode()
    return sum(float(v) for v in re.findall(
        r'^attnserve_attention_peak_weight_count\{[^}]*\} (\S+)$', text, re.M))


def cpu_model():
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--window_s", type=float, default=2)
    parser.add_argument("--model", default="demo")
    parser.add_argument("--repository", default="models")
    parser.add_argument("--port", type=int, default=18700)
    parser.add_argument("--out", default="")
    args = parser.parse_args()

    sides = {"on": args.port, "off": args.port + 10}
    rates = {"on": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="attention-overhead-") as log_dir:
        procs = {name: start(args.build, args.repository, port, name == "on", log_dir)
                 for name, port in sides.items()}
        try:
            for r in range(args.rounds):
                order = ["on", "off"] if r % 2 == 0 else ["off", "on"]
                for name in order:
                    rates[name].append(bench(args.build, sides[name], args.model, args.clients,
                                             args.window_s))
                print(f"round {r + 1}/{args.rounds}: on {rates['on'][-1]:.0f} req/s, "
                      f"off {rates['off'][-1]:.0f} req/s", flush=True)
            samples = {name: attention_samples(port) for name, port in sides.items()}
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(timeout=30)

    if samples["on"] <= 0 or samples["off"] != 0:
        sys.exit(f"attention_overhead: expected summaries from 'on' only, got {samples}")
    med = {name: statistics.median(v) for name, v in rates.items()}
    paired = statistics.median(off / on for on, off in zip(rates["on"], rates["off"]))
    result = {
        "cpu": cpu_model(), "cores": os.cpu_count(), "model": args.model,
        "clients": args.clients, "rounds": args.rounds, "requests_per_s": rates,
        "median_requests_per_s": med, "overhead_of_medians": 1 - med["on"] / med["off"],
        "median_paired_overhead": 1 - 1 / paired,
        "attention_samples_on": samples["on"],
    }
    print(f"\nCPU: {result['cpu']} ({result['cores']} cores); model {args.model}, "
          f"{args.clients} clients, {args.rounds} interleaved rounds")
    print(f"{'':18} {'median req/s':>12}")
    print(f"{'summaries on':18} {med['on']:12.0f}")
    print(f"{'summaries off':18} {med['off']:12.0f}")
    print(f"overhead: {100 * result['overhead_of_medians']:+.2f}% (ratio of medians), "
          f"{100 * result['median_paired_overhead']:+.2f}% (median of paired rounds)")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
