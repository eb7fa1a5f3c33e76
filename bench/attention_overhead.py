#!/usr/bin/python3
"""The cost of the attention summaries (--attention_metrics), side by side in one run.

Starts two attnserve servers on loopback at once, identical but for
--attention_metrics=true / false (metrics on for both), serving the same model
repository, and runs attnbench against each in turn, closed loop at
--clients outstanding requests, for --rounds rounds; the order alternates from
round to round so that both sides see the same machine state. Each
measurement is attnbench's mean over its stable windows, and the server's CPU
time (user + system, /proc/PID/stat) per request answered during it, which a
machine shared with other work disturbs far less than throughput. Reports per
side the median requests/s and CPU per request over the rounds, the overhead
as the ratio of the medians and as the median of the per-round ratios (paired
rounds cancel slow drifts of a shared machine). It also checks that the "on"
server exported attention summaries and the "off" server none.

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


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def requests_answered(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/metrics", timeout=10).read().decode()
    return sum(float(v) for v in re.findall(
        r'^attnserve_requests_total\{[^}]*code="OK"[^}]*\} (\S+)$', text, re.M))


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
    cpu_us = {"on": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="attention-overhead-") as log_dir:
        procs = {name: start(args.build, args.repository, port, name == "on", log_dir)
                 for name, port in sides.items()}
        try:
            for r in range(args.rounds):
                order = ["on", "off"] if r % 2 == 0 else ["off", "on"]
                for name in order:
                    pid, port = procs[name].pid, sides[name]
                    cpu0, answered0 = cpu_seconds(pid), requests_answered(port)
                    rates[name].append(bench(args.build, port, args.model, args.clients,
                                             args.window_s))
                    cpu1, answered1 = cpu_seconds(pid), requests_answered(port)
                    cpu_us[name].append(1e6 * (cpu1 - cpu0) / max(1.0, answered1 - answered0))
                print(f"round {r + 1}/{args.rounds}: on {rates['on'][-1]:.0f} req/s "
                      f"{cpu_us['on'][-1]:.1f} us CPU/req, off {rates['off'][-1]:.0f} req/s "
                      f"{cpu_us['off'][-1]:.1f} us CPU/req", flush=True)
            samples = {name: attention_samples(port) for name, port in sides.items()}
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(timeout=30)

    if samples["on"] <= 0 or samples["off"] != 0:
        sys.exit(f"attention_overhead: expected summaries from 'on' only, got {samples}")
    med = {name: statistics.median(v) for name, v in rates.items()}
    paired = statistics.median(off / on for on, off in zip(rates["on"], rates["off"]))
    cpu_med = {name: statistics.median(v) for name, v in cpu_us.items()}
    cpu_paired = statistics.median(on / off for on, off in zip(cpu_us["on"], cpu_us["off"]))
    result = {
        "cpu": cpu_model(), "cores": os.cpu_count(), "model": args.model,
        "clients": args.clients, "rounds": args.rounds, "requests_per_s": rates,
        "median_requests_per_s": med, "overhead_of_medians": 1 - med["on"] / med["off"],
        "median_paired_overhead": 1 - 1 / paired,
        "server_cpu_us_per_request": cpu_us, "median_server_cpu_us_per_request": cpu_med,
        "cpu_overhead_of_medians": cpu_med["on"] / cpu_med["off"] - 1,
        "median_paired_cpu_overhead": cpu_paired - 1,
        "attention_samples_on": samples["on"],
        "load_average": os.getloadavg(),
    }
    print(f"\nCPU: {result['cpu']} ({result['cores']} cores); model {args.model}, "
          f"{args.clients} clients, {args.rounds} interleaved rounds")
    print(f"{'':18} {'median req/s':>12} {'server CPU us/req':>18}")
    print(f"{'summaries on':18} {med['on']:12.0f} {cpu_med['on']:18.2f}")
    print(f"{'summaries off':18} {med['off']:12.0f} {cpu_med['off']:18.2f}")
    print(f"throughput overhead: {100 * result['overhead_of_medians']:+.2f}% (ratio of medians), "
          f"{100 * result['median_paired_overhead']:+.2f}% (median of paired rounds)")
    print(f"server CPU per request: {100 * result['cpu_overhead_of_medians']:+.2f}% (ratio of "
          f"medians), {100 * result['median_paired_cpu_overhead']:+.2f}% (median of paired rounds)")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
