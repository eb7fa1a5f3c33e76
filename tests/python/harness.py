"""What the Python client tests share: the real attnserve started on a free
port over a private model repository, the golden parity cases, and the paths
CMake passes (tests/python/CMakeLists.txt).

Every test module is a script run by ctest as

    PYTHON MODULE.py --source DIR --attnserve BIN --attnctl BIN [unittest args]

with PYTHON the build tree's virtual environment, where the attnserve package
is installed as a user installs it. A module starts its server once
(setUpModule) and stops it at the end (tearDownModule); the server also gets
SIGTERM if the test process dies (PR_SET_PDEATHSIG), so none outlives a test.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

import numpy as np

ARGS = None


def parse_args():
    """Reads --source, --attnserve, --attnctl; leaves the rest for unittest."""
    global ARGS
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--source", required=True, help="the repository's root")
    parser.add_argument("--attnserve", required=True)
    parser.add_argument("--attnctl", required=True)
    parser.add_argument("--kserve_stubs", default=None,
                        help="where the KServe v2 (grpc_predict_v2) stubs were generated")
    ARGS, rest = parser.parse_known_args()
    return [sys.argv[0]] + rest


def main():
    """unittest.main with the harness's own arguments taken out."""
    argv = parse_args()
    unittest.main(argv=argv, verbosity=2)


def source(*parts):
    return os.path.join(ARGS.source, *parts)


def parity_dir(name):
    return source("tests", "fixtures", "parity", name)


# Models the client tests serve, by the name they are served under:
# demo (temporal [l]), and parity fixtures with several maps each.
PARITY_MODELS = {
    # feature [l, D] + temporal [l], unidirectional
    "featseq": "uni1_feature_additive",
    # feature [D] (single vector) + temporal [l], 2-layer bidirectional
    "featbi": "bi2_feature_sv_cosine_ctxq_excl",
    # time [W, D] before the LSTM (window 7, truncating) + temporal [W], bidirectional
    "window": "bi1_td_before_truncpre_general_luong",
    # feature [D] + time [W] after the LSTM, bidirectional
    "featwin": "bi1_feature_sv_td_after_sv",
}


class Repository:
    """A model repository in a fresh temporary directory: `demo` (models/demo),
    each of `parity` (served name -> fixture name) as version 1, `broken`
    (version 1's model.json is cut short, so it loads FAILED) when asked, and
    `demo16` (the demo asking for bf16) when asked."""

    def __init__(self, parity=None, broken=False, bf16=False):
        self.path = tempfile.mkdtemp(prefix="attnserve-pytest-")
        os.symlink(source("models", "demo"), os.path.join(self.path, "demo"))
        for name, fixture in (parity or {}).items():
            os.makedirs(os.path.join(self.path, name))
            os.symlink(parity_dir(fixture), os.path.join(self.path, name, "1"))
        if broken:
            os.makedirs(os.path.join(self.path, "broken", "1"))
            with open(os.path.join(self.path, "broken", "1", "model.json"), "w") as f:
                f.write('{"format": "attnserve.model", "format_version": 1,')
        if bf16:
            demo = source("models", "demo", "1")
            os.makedirs(os.path.join(self.path, "demo16", "1"))
            with open(os.path.join(demo, "model.json"), encoding="utf-8") as f:
                text = f.read()
            assert '"precision": "f32"' in text, "the demo's model.json names its precision"
            with open(os.path.join(self.path, "demo16", "1", "model.json"), "w") as f:
                f.write(text.replace('"precision": "f32"', '"precision": "bf16"'))
            os.symlink(os.path.join(demo, "weights.safetensors"),
                       os.path.join(self.path, "demo16", "1", "weights.safetensors"))

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)  # removes the links, not their targets


_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


class Server:
    """The real attnserve on 127.0.0.1, a port it picks, metrics off, no
    warm-up (startup in well under a second)."""

    STARTUP_S = 30

    def __init__(self, repository, flags=(), env=None):
        self.stderr_file = tempfile.NamedTemporaryFile(prefix="attnserve-stderr-", delete=False)
        argv = [ARGS.attnserve, "--host=127.0.0.1", "--port=0", "--http_port=0", "--metrics=false",
                "--warmup_lengths=none", f"--model_repository={repository.path}", *flags]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.stderr_file,
                                     preexec_fn=_die_with_parent,
                                     env={**os.environ, **(env or {})})
        # The server prints "attnserve: listening on HOST:PORT" once it serves
        # (every model loaded); read it on a thread so the wait is bounded.
        lines, done = [], threading.Event()

        def read():
            for raw in self.proc.stdout:
                lines.append(raw.decode(errors="replace").rstrip("\n"))
                if lines[-1].startswith("attnserve: listening on"):
                    break
            done.set()

        threading.Thread(target=read, daemon=True).start()
        if not done.wait(self.STARTUP_S):
            self.stop()
            raise RuntimeError(f"attnserve did not listen within {self.STARTUP_S} s: {lines}")
        m = re.match(r"attnserve: listening on ([\d.]+):(\d+)$", lines[-1] if lines else "")
        if not m:
            code = self.stop()
            raise RuntimeError(f"attnserve exited ({code}) before listening: {lines}\n"
                               f"{self.stderr()}")
        self.address = f"{m.group(1)}:{m.group(2)}"
        # With --http_port (-1: a free one) and metrics on, where they listen.
        self.http_address = self.metrics_address = None
        for line in lines:
            h = re.match(r"attnserve: HTTP \(KServe v2\) on ([\d.]+):(\d+)$", line)
            if h:
                self.http_address = f"{h.group(1)}:{h.group(2)}"
            mm = re.match(r"attnserve: metrics on ([\d.]+):(\d+)/metrics$", line)
            if mm:
                self.metrics_address = f"{mm.group(1)}:{mm.group(2)}"

    def stderr(self):
        with open(self.stderr_file.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.stderr_file.close()
        os.unlink(self.stderr_file.name)
        return self.proc.returncode


def free_port():
    """A loopback port nothing listens on (for "server unreachable")."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------- golden cases

_DTYPES = {"F32": np.float32, "I32": np.int32, "I64": np.int64, "F64": np.float64}


def read_safetensors(path):
    """{name: array} of a .safetensors file (an 8-byte little-endian header
    length, a JSON header of dtype/shape/data_offsets, then the data)."""
    with open(path, "rb") as f:
        blob = f.read()
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + size])
    data = memoryview(blob)[8 + size:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=_DTYPES[info["dtype"]]).reshape(
            info["shape"])
    return tensors


class Cases:
    """A parity fixture's cases.safetensors: inputs [B, T, D], lengths [B],
    expected probabilities [B, C] and attention.<name> [B, ...]."""

    def __init__(self, fixture):
        t = read_safetensors(os.path.join(parity_dir(fixture), "cases.safetensors"))
        self.inputs = t["inputs"]
        self.lengths = [int(n) for n in t["lengths"]]
        self.probabilities = t["probabilities"]
        self.attention = {k[len("attention."):]: v for k, v in t.items()
                          if k.startswith("attention.")}

    def sequences(self):
        """The inputs without their padding, one [length, D] array each."""
        return [self.inputs[b, :n] for b, n in enumerate(self.lengths)]


def expected_map(expected, shape):
    """The expected map cut to the shape the server returned; asserts that
    nothing but zeros (the fixture's padding) lies outside it."""
    window = tuple(slice(0, n) for n in shape)
    outside = expected.copy()
    outside[window] = 0
    assert not outside.any(), f"non-zero expected weights outside the returned shape {shape}"
    return expected[window]


def demo_samples():
    with open(source("client", "samples", "demo.json"), encoding="utf-8") as f:
        return json.load(f)["sequences"]
