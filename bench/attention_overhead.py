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

--simultaneous loads both servers at the same time in every round (two
attnbench processes, one per server, started together, the start order
alternating): each side then gets about half of the machine, both see every
disturbance of a shared machine at the same moment, and the ratio of their
rates in a round is the cost of the summaries at equal CPU share.

  /usr/bin/python3 bench/attention_overhead.py [--build build] [--rounds 8]
      [--clients 64] [--model demo] [--repository models] [--simultaneous]
      [--out FILE.json]
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


def bench_cmd(build, port, model, clients, seconds, windows):
    return [os.path.join(build, "client", "attnbench"), f"--server=127.0.0.1:{port}",
            f"--model={model}", f"--concurrency={clients}", f"--window_s={seconds}",
            "--warmup_s=1", f"--stable_windows={windows}", f"--max_windows={windows}",
            "--stability=1", "--json"]


def parse(out, port):
    level = json.loads(out)["levels"][0]
    if level.get("errors"):
        sys.exit(f"attention_overhead: errors against port {port}: {level['errors']}")
    return level["requests_per_s"]


def bench(build, port, model, clients, seconds):
    out = subprocess.run(bench_cmd(build, port, model, clients, seconds, 3),
                         capture_output=True, text=True, check=True).stdout
    return parse(out, port)


def bench_together(build, ports, model, clients, seconds):
    """Both sides loaded at once; the same fixed windows for each."""
    procs = {name: subprocess.Popen(bench_cmd(build, port, model, clients, seconds, 3),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, port in ports}
    return {name: parse(proc.communicate()[0], dict(ports)[name]) for name, proc in procs.items()}


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
    parser.add_argument("--simultaneous", action="store_true")
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
                if args.simultaneous:
                    before = {n: (cpu_seconds(procs[n].pid), requests_answered(sides[n]))
                              for n in order}
                    got = bench_together(args.build, [(n, sides[n]) for n in order], args.model,
                                         args.clients, args.window_s)
                    for n in order:
                        rates[n].append(got[n])
                        cpu1, answered1 = cpu_seconds(procs[n].pid), requests_answered(sides[n])
                        cpu_us[n].append(1e6 * (cpu1 - before[n][0]) /
                                         max(1.0, answered1 - before[n][1]))
                for name in order if not args.simultaneous else []:
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
        "clients": args.clients, "rounds": args.rounds, "simultaneous": args.simultaneous,
        "requests_per_s": rates,
        "median_requests_per_s": med, "overhead_of_medians": 1 - med["on"] / med["off"],
        "median_paired_overhead": 1 - 1 / paired,
        "server_cpu_us_per_request": cpu_us, "median_server_cpu_us_per_request": cpu_med,
        "cpu_overhead_of_medians": cpu_med["on"] / cpu_med["off"] - 1,
        "median_paired_cpu_overhead": cpu_paired - 1,
        "attention_samples_on": samples["on"],
        "load_average": os.getloadavg(),
    }
    how = "simultaneous" if args.simultaneous else "alternating"
    print(f"\nCPU: {result['cpu']} ({result['cores']} cores); model {args.model}, "
          f"{args.clients} clients per side, {args.rounds} interleaved rounds ({how})")
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
