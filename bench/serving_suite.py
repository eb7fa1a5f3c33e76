#!/usr/bin/python3
"""Serving comparisons through real servers on loopback, each side by side in one run.

Every comparison starts all of its servers at once (different ports) and, for
each load level, runs attnbench against each side in turn (the order
alternates from level to level), so both sides see the same machine state:

  batching   attnserve (defaults: dynamic batching, max 32) vs --max_batch_size=1;
             closed-loop concurrency sweep, then open loop (Poisson) at rates
             that are fractions of the batching side's best closed-loop rate
  echo       attnserve vs bench/echo_server (the same API and payload, no model):
             the floor of the transport
  python     attnserve vs bench/python_server.py (grpcio + the PyTorch reference,
             no batching): what a user would otherwise write
  grouping   lengths uniform 10..200: length-aware grouping vs --batch_grouping=arrival;
             padding ratio = attnserve_timesteps_computed_total /
             attnserve_timesteps_requested_total from /metrics over the run
  layouts    --workers x --threads_per_worker 1x2 vs 2x1, with and without
             OMP_WAIT_POLICY=passive, and 1x2 with OMP_NUM_THREADS=1 (the main
             thread, which loads the model, then keeps no OpenMP pool)
  lstm_batching  dynamic batching vs --max_batch_size=1 on each LSTM implementation
             (--lstm_impl=rnn_primitive and matmul): four servers, closed loop; and
             echo_server at the same levels: what the transport and the client
             cost without any model, the floor batching cannot go under
  lstm_lengths   lengths uniform 10..200, length grouping, rnn_primitive vs
             matmul: padding ratio (timesteps computed / requested) and req/s

The model: a random one written through the PyTorch reference (bench_models.py:
input 32, LSTM 1x128, additive attention), served by every side; requests carry
one sequence of 50 steps unless stated. --model demo serves the bundled demo
model (models/demo/1: input 4, LSTM 1x32, additive) instead. Per level the results hold attnbench's
JSON plus the server's CPU time per request (from /proc/PID/stat) and the
client's (getrusage of children).

  /usr/bin/python3 bench/serving_suite.py [--build build] [--out DIR]
      [--only batching,echo,...] [--quick] [--model bench|demo]
Writes DIR/serving.json (with --only, replacing just those comparisons in an
existing file) (servers' output in DIR/logs/) and prints a table per
comparison.
"""

import argparse
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MODEL = "bench"
HIDDEN = 128
LENGTH = 50
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Server:
    """A server process on loopback; started and stopped by the suite."""

    def __init__(self, name, cmd, env=None, metrics_port=None):
        self.name, self.cmd, self.env, self.metrics_port = name, cmd, env, metrics_port
        self.proc = None

    def start(self, log_dir):
        self.log = open(os.path.join(log_dir, f"{self.name}.log"), "w+")
        env = dict(os.environ, **(self.env or {}))
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            self.log.seek(0)
            if "listening on" in self.log.read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.log.seek(0)
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def metrics(self):
        if not self.metrics_port:
            return {}
        text = urllib.request.urlopen(
            f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
        values = {}
        for line in text.splitlines():
            m = re.match(r"(attnserve_timesteps_\w+|attnserve_batch_size_(?:sum|count))"
                         r"\{[^}]*\} ([0-9.e+]+)", line)
            if m:
                values[m.group(1)] = values.get(m.group(1), 0) + float(m.group(2))
        return values


class Suite:
    def __init__(self, args, repo_dir, log_dir):
        self.args, self.repo_dir, self.log_dir = args, repo_dir, log_dir
        self.next_port = 18800
        self.results = []

    def port(self):
        self.next_port += 1
        return self.next_port

    def attnserve(self, name, flags=(), env=None):
        port, metrics_port = self.port(), self.port()
        cmd = [os.path.join(self.args.build, "server", "attnserve"), "--host=127.0.0.1",
               f"--port={port}", f"--metrics_port={metrics_port}", "--http_port=0",
               f"--model_repository={self.repo_dir}"] + list(flags)
        return Server(name, cmd, env, metrics_port), port

    def echo(self, name):
        port = self.port()
        input_size = 4 if self.args.model == "demo" else 32
        cmd = [os.path.join(self.args.build, "bench", "echo_server"), "--host=127.0.0.1",
               f"--port={port}", f"--input_size={input_size}", "--outputs=4"]
        return Server(name, cmd), port

    def python(self, name):
        port = self.port()
        cmd = [sys.executable, os.path.join(HERE, "python_server.py"),
               f"--model_dir={os.path.join(self.repo_dir, MODEL, '1')}", f"--model={MODEL}",
               f"--port={port}", "--workers=2", "--torch_threads=1"]
        return Server(name, cmd), port

    def bench(self, server, port, load_flag, mix):
        a = self.args
        cmd = [os.path.join(a.build, "client", "attnbench"), f"--server=127.0.0.1:{port}",
               f"--model={MODEL}", load_flag, "--json", f"--warmup_s={a.warmup_s}",
               f"--window_s={a.window_s}", f"--max_windows={a.max_windows}",
               "--stable_windows=3", "--stability=0.1"] + mix
        cpu0, child0 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
        metrics0 = server.metrics()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        cpu1, child1 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
        metrics1 = server.metrics()
        level = json.loads(out)["levels"][0]
        # CPU per request over the whole attnbench run (warm-up and drain
        # included) over every answer in it; the client's includes its start-up.
        total = level["answered_all"]
        level["server_cpu_s"] = cpu1 - cpu0
        level["client_cpu_s"] = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime +
                                                                       child0.ru_stime)
        level["server_cpu_us_per_request"] = level["server_cpu_s"] / max(total, 1) * 1e6
        level["client_cpu_us_per_request"] = level["client_cpu_s"] / max(total, 1) * 1e6
        if metrics1:
            delta = {k: metrics1.get(k, 0) - metrics0.get(k, 0) for k in metrics1}
            requested = delta.get("attnserve_timesteps_requested_total", 0)
            computed = delta.get("attnserve_timesteps_computed_total", 0)
            level["timesteps_requested"] = requested
            level["timesteps_computed"] = computed
            level["padding_ratio"] = computed / requested if requested else None
            batches = delta.get("attnserve_batch_size_count", 0)
            level["metrics_mean_batch"] = (delta.get("attnserve_batch_size_sum", 0) / batches
                                           if batches else None)
        return level

    def compare(self, name, title, sides, mode, loads, mix=None):
        """Runs every load on every side (interleaved); returns {side: [levels]}."""
        mix = mix or [f"--length={LENGTH}"]
        print(f"\n== {name}: {title}", flush=True)
        print(f"{'side':>16} {mode:>11} {'req/s':>9} {'p50_ms':>8} {'p99_ms':>8} "
              f"{'batch':>6} {'srv_us/req':>10} {'cli_us/req':>10} {'pad':>5} {'stable':>6} "
              f"errors", flush=True)
        servers = []
        try:
            for side_name, (server, port) in sides:
                server.start(self.log_dir)
                servers.append((side_name, server, port))
            out = {side_name: [] for side_name, _, _ in servers}
            for i, load in enumerate(loads):
                order = servers if i % 2 == 0 else list(reversed(servers))
                for side_name, server, port in order:
                    flag = (f"--concurrency={load}" if mode == "concurrency"
                            else f"--request_rate={load}")
                    level = self.bench(server, port, flag, mix)
                    out[side_name].append(level)
                    pad = level.get("padding_ratio")
                    print(f"{side_name:>16} {load:>11g} {level['requests_per_s']:>9.1f} "
                          f"{level['latency_ms']['p50']:>8.2f} {level['latency_ms']['p99']:>8.2f} "
                          f"{level['server']['mean_batch_size']:>6.2f} "
                          f"{level['server_cpu_us_per_request']:>10.0f} "
                          f"{level['client_cpu_us_per_request']:>10.0f} "
                          f"{(f'{pad:.2f}' if pad else '-'):>5} "
                          f"{'yes' if level['stable'] else 'no':>6} {level['errors'] or ''}",
                          flush=True)
        finally:
            for _, server, _ in servers:
                server.stop()
        for levels in out.values():
            for level, load in zip(levels, loads):
                level["load"] = load
        self.results.append({"name": name, "title": title, "mode": mode, "loads": loads,
                             "mix": mix, "sides": out})
        return out


def best_rate(levels):
    return max(level["requests_per_s"] for level in levels)


def run(args):
    import bench_models

    quick = args.quick
    conc = [1, 4, 16, 64] if quick else [1, 2, 4, 8, 16, 32, 64, 128]
    only = set(args.only.split(",")) if args.only else None
    want = lambda name: only is None or name in only  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="serving_suite_") as tmp:
        repo_dir = os.path.join(tmp, "repo")
        if args.model == "demo":
            demo = os.path.join(os.path.dirname(HERE), "models", "demo", "1")
            os.makedirs(os.path.join(repo_dir, MODEL, "1"))
            for name in ("model.json", "weights.safetensors"):
                with open(os.path.join(demo, name), "rb") as f, \
                        open(os.path.join(repo_dir, MODEL, "1", name), "wb") as g:
                    g.write(f.read())
        else:
            bench_models.save(os.path.join(repo_dir, MODEL, "1"), HIDDEN, 1, "additive", seed=1,
                              max_length=512)
        log_dir = os.path.join(args.out, "logs")
        os.makedirs(log_dir, exist_ok=True)
        suite = Suite(args, repo_dir, log_dir)
        if want("batching"):
            closed = suite.compare("batching", "dynamic batching vs --max_batch_size=1",
                                   [("batching", suite.attnserve("batching")),
                                    ("no-batching", suite.attnserve("no-batching",
                                                                    ["--max_batch_size=1"]))],
                                   "concurrency", conc)
            peak = best_rate(closed["batching"])
            fractions = [0.2, 0.6, 1.0] if quick else [0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0]
            rates = [round(peak * f, -1) for f in fractions]
            suite.compare("batching_open", "open loop (Poisson): latency vs offered load",
                          [("batching", suite.attnserve("batching")),
                           ("no-batching", suite.attnserve("no-batching",
                                                           ["--max_batch_size=1"]))],
                          "rate", rates)
        if want("echo"):
            suite.compare("echo", "attnserve vs the transport floor (echo_server)",
                          [("attnserve", suite.attnserve("attnserve")),
                           ("echo", suite.echo("echo"))], "concurrency", conc)
        if want("python"):
            suite.compare("python", "attnserve vs Python grpcio + PyTorch",
                          [("attnserve", suite.attnserve("attnserve")),
                           ("python", suite.python("python"))], "concurrency",
                          [c for c in conc if c <= 64])
        if want("grouping"):
            suite.compare("grouping", "lengths 10..200: length grouping vs arrival order",
                          [("length", suite.attnserve("length")),
                           ("arrival", suite.attnserve("arrival", ["--batch_grouping=arrival"]))],
                          "concurrency", [8, 32] if quick else [8, 32, 128],
                          mix=["--min_length=10", "--max_length=200"])
        if want("layouts"):
            passive = {"OMP_WAIT_POLICY": "passive"}
            suite.compare("layouts", "workers x threads: 1x2 vs 2x1, OMP_WAIT_POLICY",
                          [("1x2", suite.attnserve("1x2", ["--workers=1",
                                                           "--threads_per_worker=2"])),
                           ("2x1", suite.attnserve("2x1", ["--workers=2",
                                                           "--threads_per_worker=1"])),
                           ("1x2-passive", suite.attnserve("1x2-passive",
                                                           ["--workers=1",
                                                            "--threads_per_worker=2"], passive)),
                           ("2x1-passive", suite.attnserve("2x1-passive",
                                                           ["--workers=2",
                                                            "--threads_per_worker=1"], passive)),
                           ("1x2-omp1", suite.attnserve("1x2-omp1",
                                                        ["--workers=1",
                                                         "--threads_per_worker=2"],
                                                        {"OMP_NUM_THREADS": "1"}))],
                          "concurrency", [1, 8] if quick else [1, 8, 64])
        if want("lstm_batching"):
            rnn, matmul = ["--lstm_impl=rnn_primitive"], ["--lstm_impl=matmul"]
            one = ["--max_batch_size=1"]
            suite.compare("lstm_batching",
                          "dynamic batching vs --max_batch_size=1, per LSTM implementation",
                          [("batch-rnn", suite.attnserve("batch-rnn", rnn)),
                           ("batch1-rnn", suite.attnserve("batch1-rnn", rnn + one)),
                           ("batch-matmul", suite.attnserve("batch-matmul", matmul)),
                           ("batch1-matmul", suite.attnserve("batch1-matmul", matmul + one)),
                           ("echo", suite.echo("echo"))],
                          "concurrency", [1, 64] if quick else [1, 8, 64])
        if want("lstm_lengths"):
            suite.compare("lstm_lengths", "lengths 10..200, length grouping: LSTM implementations",
                          [("rnn_primitive", suite.attnserve("rnn_primitive",
                                                             ["--lstm_impl=rnn_primitive"])),
                           ("matmul", suite.attnserve("matmul", ["--lstm_impl=matmul"]))],
                          "concurrency", [8, 64] if quick else [8, 32, 128],
                          mix=["--min_length=10", "--max_length=200"])
        return suite.results


def main():
    p = argparse.ArgumentParser(description="serving comparisons (see the module doc)")
    p.add_argument("--build", default="build")
    p.add_argument("--out", default="bench-results")
    p.add_argument("--only", help="comma-separated: batching,echo,python,grouping,layouts,"
                                  "lstm_batching,lstm_lengths")
    p.add_argument("--model", default="bench", choices=("bench", "demo"),
                   help="the model every side serves")
    p.add_argument("--quick", action="store_true", help="fewer levels, shorter windows")
    p.add_argument("--warmup_s", type=float, default=1.0)
    p.add_argument("--window_s", type=float, default=1.5)
    p.add_argument("--max_windows", type=int, default=6)
    args = p.parse_args()
    if args.quick:
        args.window_s, args.max_windows, args.warmup_s = 1.0, 4, 0.5
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    results = run(args)
    path = os.path.join(args.out, "serving.json")
    if args.only and os.path.exists(path):
        # A partial run replaces its comparisons in an earlier full run's file.
        with open(path) as f:
            earlier = json.load(f)["comparisons"]
        names = {c["name"] for c in results}
        results = [c for c in earlier if c["name"] not in names] + results
    with open(path, "w") as f:
        model = ({"name": "demo", "hidden": 32, "input": 4, "attention": "additive"}
                 if args.model == "demo" else
                 {"name": MODEL, "hidden": HIDDEN, "input": 32, "attention": "additive"})
        json.dump({"comparisons": results, "model": model,
                   "seconds": time.time() - started}, f, indent=1)
    print(f"\nserving_suite: {time.time() - started:.0f} s; wrote {args.out}/serving.json")


if __name__ == "__main__":
    main()
