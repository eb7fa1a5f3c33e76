"""attnbench, the load generator, against the real server over every
protocol it speaks (v1 unary, v1 streams, KServe v2 gRPC, KServe v2 HTTP
JSON and binary): each run must be answered in full, without errors, with
the server's batching visible in the answers' timing fields, and the
stream mode must match its answers to the requests it sent (an answer
matched to no request, or a request never answered, fails the run's counts).

Short windows: these check that the tool measures what it says, not speed.
"""
import json
import os
import subprocess
import unittest

import harness

SERVER = None
REPO = None


def setUpModule():
    global SERVER, REPO
    REPO = harness.Repository()
    SERVER = harness.Server(REPO, flags=["--http_port=-1", "--max_queue_delay_us=2000"])


def tearDownModule():
    if SERVER is not None:
        SERVER.stop()
    if REPO is not None:
        REPO.remove()


def attnbench(*flags):
    binary = os.path.join(os.path.dirname(harness.ARGS.attnctl), "attnbench")
    argv = [binary, "--model=demo", "--json", "--warmup_s=0.2", "--window_s=0.4",
            "--stable_windows=1", "--max_windows=1", "--length=20", "--deadline_ms=20000",
            *flags]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout)


class AttnbenchTest(unittest.TestCase):

    def check_levels(self, report, levels, sequences_per_request=1):
        self.assertEqual([lvl["load"] for lvl in report["levels"]], levels)
        for lvl in report["levels"]:
            with self.subTest(load=lvl["load"]):
                self.assertGreater(lvl["ok"], 0)
                self.assertEqual(lvl.get("errors", {}), {})
                self.assertAlmostEqual(lvl["sequences_per_s"],
                                       lvl["requests_per_s"] * sequences_per_request, delta=1e-6)
                # Every request sent was answered (closed loop: the run
                # drains what it has in flight before it reports).
                self.assertGreaterEqual(lvl["answered_all"], lvl["ok"])
                self.assertGreater(lvl["server"]["mean_compute_ms"], 0.0)
                self.assertGreaterEqual(lvl["server"]["mean_batch_size"], 1.0)

    def test_v1_unary(self):
        report = attnbench(f"--server={SERVER.address}", "--protocol=v1", "--concurrency=1,16")
        self.assertEqual(report["protocol"], "v1")
        self.check_levels(report, [1, 16])

    def test_v1_stream_matches_answers_to_requests(self):
        report = attnbench(f"--server={SERVER.address}", "--protocol=v1_stream", "--streams=3",
                           "--concurrency=1,16", "--sequences_per_request=2")
        self.assertEqual(report["protocol"], "v1_stream")
        self.check_levels(report, [1, 16], sequences_per_request=2)
        # With 16 requests outstanding over the streams, the server batches
        # sequences of different requests together.
        self.assertGreater(report["levels"][1]["server"]["mean_batch_size"], 2.0)

    def test_v1_stream_open_loop(self):
        report = attnbench(f"--server={SERVER.address}", "--protocol=v1_stream",
                           "--request_rate=200")
        lvl = report["levels"][0]
        self.assertGreater(lvl["ok"], 0)
        self.assertEqual(lvl.get("errors", {}), {})

    def test_v1_stream_refusals_are_counted_as_errors(self):
        # A model that does not exist: attnbench stops at its metadata call.
        binary = os.path.join(os.path.dirname(harness.ARGS.attnctl), "attnbench")
        out = subprocess.run([binary, f"--server={SERVER.address}", "--model=nosuch",
                              "--protocol=v1_stream", "--concurrency=1"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn("model metadata", out.stderr)

    def test_kserve_grpc(self):
        report = attnbench(f"--server={SERVER.address}", "--protocol=kserve", "--concurrency=4")
        self.check_levels(report, [4])

    def test_kserve_http_json_and_binary(self):
        for binary in ("false", "true"):
            with self.subTest(binary=binary):
                report = attnbench(f"--server={SERVER.http_address}", "--protocol=kserve_http",
                                   f"--http_binary={binary}", "--concurrency=4")
                self.check_levels(report, [4])

    def test_unknown_protocol_is_refused(self):
        binary = os.path.join(os.path.dirname(harness.ARGS.attnctl), "attnbench")
        out = subprocess.run([binary, "--protocol=v3"], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 2)
        self.assertIn("v1_stream", out.stderr)


if __name__ == "__main__":
    harness.main()
