#!/usr/bin/env python3
"""Import + serve parity for every Keras recipe, through the real server.

Contract: each fixture of tests/fixtures/keras is imported with
tools/attnserve-import from each of its containers (TensorFlow.js model.json,
Keras .h5, Keras 3 .keras where written) into one model repository, served by
the real attnserve binary, and classified over gRPC (v1 Classify, token ids in
Sequence.ids for token models): once as one request with every sequence
(mixed lengths, one batch) and once per sequence. Outputs and every attention
map must match what TensorFlow.js computed within 1e-5 (max absolute error),
with the map shapes attnserve documents. Also: an id outside the vocabulary
and values sent to a token model are INVALID_ARGUMENT.

Run by ctest (tests/keras/CMakeLists.txt) in the build tree's venv:
  PYTHON keras_parity_test.py --source DIR --attnserve BIN --attnctl BIN
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import grpc
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
import harness  # noqa: E402

TOLERANCE = 1e-5
SERVER = None
REPO = None
MODELS = {}  # served name -> (recipe, container)


class _Repository:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="attnserve-keras-")


def fixtures():
    root = harness.source("tests", "fixtures", "keras")
    return root, sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))


def setUpModule():
    global SERVER, REPO
    REPO = _Repository()
    root, recipes = fixtures()
    for recipe in recipes:
        for container, suffix in (("model.json", "tfjs"), ("model.h5", "h5"),
                                  ("model.keras", "keras")):
            path = os.path.join(root, recipe, container)
            if not os.path.exists(path):
                continue
            name = f"{recipe}_{suffix}"
            run = subprocess.run(
                [sys.executable, harness.source("tools", "attnserve-import"), "keras", path,
                 "--out", os.path.join(REPO.path, name, "1")], capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError(f"import of {path} failed: {run.stderr}")
            MODELS[name] = (recipe, container)
    SERVER = harness.Server(REPO)


def tearDownModule():
    if SERVER is not None:
        SERVER.stop()
    if REPO is not None:
        import shutil
        shutil.rmtree(REPO.path, ignore_errors=True)


def stub():
    from attnserve.v1 import attnserve_pb2, attnserve_pb2_grpc
    channel = grpc.insecure_channel(SERVER.address)
    return attnserve_pb2, attnserve_pb2_grpc.AttnServeStub(channel)


def add_sequence(request, kind, steps):
    seq = request.sequences.add()
    if kind == "ids":
        seq.ids.extend(int(i) for i in steps)
    else:
        values = np.asarray(steps, dtype=np.float32)
        seq.values.extend(values.ravel().tolist())
        seq.steps = values.shape[0]


def errors_of(cases, results, rows):
    """Max |served - TensorFlow.js| over outputs and maps, for results of `rows`."""
    out_err = att_err = 0.0
    for result, b in zip(results, rows):
        want = np.asarray(cases["outputs"][b], dtype=np.float64)
        got = np.asarray(result.probabilities, dtype=np.float64)
        assert got.shape == want.shape, (got.shape, want.shape)
        out_err = max(out_err, float(np.abs(got - want).max()))
        served = {a.name: a for a in result.attention}
        assert sorted(served) == sorted(cases["attention"]), (sorted(served),
                                                               sorted(cases["attention"]))
        for name, per_sequence in cases["attention"].items():
            want = np.asarray(per_sequence[b], dtype=np.float64)
            a = served[name]
            assert tuple(a.shape) == want.shape, (name, tuple(a.shape), want.shape)
            got = np.asarray(a.weights, dtype=np.float64).reshape(want.shape)
            att_err = max(att_err, float(np.abs(got - want).max()))
    return out_err, att_err


class KerasParity(unittest.TestCase):
    def test_every_recipe_matches_tensorflow_js(self):
        pb, client = stub()
        root, recipes = fixtures()
        self.assertGreaterEqual(len(recipes), 13)
        rows = []
        for name, (recipe, container) in sorted(MODELS.items()):
            with self.subTest(model=name):
                with open(os.path.join(root, recipe, "cases.json")) as f:
                    cases = json.load(f)
                count = len(cases["lengths"])
                request = pb.ClassifyRequest(model=name, return_attention=True)
                for steps in cases["inputs"]:
                    add_sequence(request, cases["input"], steps)
                batched = client.Classify(request, timeout=30)
                self.assertEqual(len(batched.results), count)
                out_b, att_b = errors_of(cases, batched.results, range(count))
                out_a = att_a = 0.0
                for b, steps in enumerate(cases["inputs"]):
                    alone = pb.ClassifyRequest(model=name, return_attention=True)
                    add_sequence(alone, cases["input"], steps)
                    result = client.Classify(alone, timeout=30).results
                    o, a = errors_of(cases, result, [b])
                    out_a, att_a = max(out_a, o), max(att_a, a)
                rows.append((name, max(out_b, out_a), max(att_b, att_a), cases["lengths"]))
                for value in (out_b, att_b, out_a, att_a):
                    self.assertLessEqual(value, TOLERANCE, name)
        print("\nKeras parity (max |attnserve - TensorFlow.js|, batched and alone):")
        for name, out, att, lengths in rows:
            print(f"  {name:40s} outputs {out:.2e}  attention {att:.2e}  lengths {lengths}")

    def test_token_ids_are_checked(self):
        pb, client = stub()
        name = "r1_embedding_feedforward_tfjs"
        request = pb.ClassifyRequest(model=name)
        request.sequences.add().ids.extend([1, 2, 40])
        with self.assertRaises(grpc.RpcError) as raised:
            client.Classify(request, timeout=30)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("sequence 0: step 2: token id 40 is outside the vocabulary [0, 40)",
                      raised.exception.details())
        request = pb.ClassifyRequest(model=name)
        request.sequences.add().values.extend([0.5] * 8)
        with self.assertRaises(grpc.RpcError) as raised:
            client.Classify(request, timeout=30)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("carries values; the model reads token ids", raised.exception.details())
        request = pb.ClassifyRequest(model="r7_han_residual_tfjs")
        request.sequences.add().ids.extend([1, 2])
        with self.assertRaises(grpc.RpcError) as raised:
            client.Classify(request, timeout=30)
        self.assertIn("carries token ids; the model reads values", raised.exception.details())

    def test_model_without_lstm_reads_one_step(self):
        pb, client = stub()
        request = pb.ClassifyRequest(model="r2_dense_gate_h5")
        seq = request.sequences.add()
        seq.values.extend([0.1] * 20)
        with self.assertRaises(grpc.RpcError) as raised:
            client.Classify(request, timeout=30)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("a model without an LSTM reads exactly one step of 10 values",
                      raised.exception.details())


if __name__ == "__main__":
    harness.main()
