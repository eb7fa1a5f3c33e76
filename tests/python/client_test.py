#!/usr/bin/env python3
"""attnserve.Client against the real server.

- The demo samples classified from Python give the answers `attnctl classify
  --json` gets for the same file (labels, probabilities, temporal maps), every
  label is the sample's, and attention peaks on the marked step.
- Parity fixtures with several maps (feature [l, D] / [D], time [W, k] / [W],
  temporal; uni- and bidirectional) return the golden values of their
  cases.safetensors, each map shaped as the server reports it.
- Inputs: one sequence gives a Result, several give Results; lists and arrays.
- ListModels, GetModelMetadata (field for field as attnctl --json shows them)
  and health; ClassifyStream with an error answered on the stream.
- TLS and the bearer token reach the server: checked against a small
  in-process gRPC server that records what it gets (attnserve itself does not
  check either yet).
"""
import json
import os
import subprocess
import tempfile
import unittest
from concurrent import futures

import grpc
import numpy as np

import attnserve
from attnserve import errors
import harness

ATOL = 1e-5  # the engine's parity bound (tests/fixtures/parity/README.md)
SERVER = None
REPO = None


def setUpModule():
    global SERVER, REPO
    REPO = harness.Repository(parity=harness.PARITY_MODELS, broken=True)
    SERVER = harness.Server(REPO)


def tearDownModule():
    if SERVER is not None:
        code = SERVER.stop()
        assert code == 0, f"attnserve exited with {code}"
    if REPO is not None:
        REPO.remove()


def attnctl_json(*args):
    out = subprocess.run([harness.ARGS.attnctl, *args, f"--server={SERVER.address}", "--json"],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"attnctl {' '.join(args)} failed: {out.stderr}")
    return json.loads(out.stdout)


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.client = attnserve.Client(SERVER.address, timeout=30)

    def tearDown(self):
        self.client.close()

    def test_package_is_the_installed_one(self):
        from importlib.metadata import version
        self.assertNotIn(os.path.join("client", "python"), attnserve.__file__)
        self.assertEqual(version("attnserve"), attnserve.__version__)

    # ---------------------------------------------------------------- demo

    def test_demo_samples_match_attnctl_and_peak_on_the_marked_step(self):
        samples = harness.demo_samples()
        results = self.client.classify([s["values"] for s in samples], "demo")
        self.assertIsInstance(results, attnserve.Results)
        self.assertEqual((results.model, results.model_version), ("demo", 1))
        self.assertGreater(results.server_us, 0)
        reference = attnctl_json("classify", "--model=demo",
                                 "--input=" + harness.source("client", "samples", "demo.json"))
        self.assertEqual(len(results), len(samples))
        self.assertEqual(len(reference["results"]), len(samples))
        for sample, got, ref in zip(samples, results, reference["results"]):
            self.assertEqual(got.label, sample["label"])
            self.assertEqual(got.label, ref["label"])
            self.assertEqual(got.label_index, ref["label_index"])
            np.testing.assert_allclose(got.probabilities, ref["probabilities"], atol=ATOL)
            self.assertEqual(got.probabilities.dtype, np.float32)
            self.assertGreater(got.probability, 0.99)
            self.assertEqual(list(got.attention), ["temporal"])
            temporal = got.attention["temporal"]
            self.assertEqual(temporal.shape, (len(sample["values"]),))
            self.assertEqual([a["name"] for a in ref["attention"]], ["temporal"])
            np.testing.assert_allclose(temporal, ref["attention"][0]["weights"], atol=ATOL)
            self.assertAlmostEqual(float(temporal.sum()), 1.0, places=5)
            self.assertEqual(int(np.argmax(temporal)), sample["marked_step"])
            np.testing.assert_array_equal(got.sequence, np.asarray(sample["values"], np.float32))
            self.assertGreaterEqual(got.timing.batch_size, 1)
            self.assertGreater(got.timing.compute_us, 0)

    def test_one_sequence_gives_a_result_several_give_results(self):
        sample = harness.demo_samples()[0]
        as_list = self.client.classify(sample["values"], "demo")
        as_array = self.client.classify(np.asarray(sample["values"], np.float64), "demo")
        self.assertIsInstance(as_list, attnserve.Result)
        self.assertIsInstance(as_array, attnserve.Result)
        self.assertEqual(as_list.label, "left")
        np.testing.assert_allclose(as_list.probabilities, as_array.probabilities, atol=ATOL)

        cube = np.stack([np.asarray(s["values"][:8], np.float32)
                         for s in harness.demo_samples()[:3]])
        from_cube = self.client.classify(cube, "demo")
        self.assertIsInstance(from_cube, attnserve.Results)
        self.assertEqual(len(from_cube), 3)
        self.assertEqual([r.attention["temporal"].shape for r in from_cube], [(8,)] * 3)

        one_in_list = self.client.classify([np.asarray(sample["values"])], "demo")
        self.assertIsInstance(one_in_list, attnserve.Results)
        self.assertEqual(len(one_in_list), 1)
        np.testing.assert_allclose(one_in_list[0].probabilities, as_list.probabilities,
                                   atol=ATOL)

    def test_top_k_version_and_no_attention(self):
        sample = harness.demo_samples()[1]
        r = self.client.classify(sample["values"], "demo", version=1, top_k=3,
                                 return_attention=False, request_id="r-7")
        self.assertEqual(r.model_version, 1)
        self.assertEqual(r.request_id, "r-7")
        self.assertEqual(r.attention, {})
        self.assertEqual(len(r.top), 3)
        self.assertEqual(r.top[0].label, r.label)
        self.assertEqual(r.top[0].index, r.label_index)
        order = np.argsort(-r.probabilities)[:3]
        self.assertEqual([t.index for t in r.top], list(order))
        for t in r.top:
            self.assertAlmostEqual(t.probability, float(r.probabilities[t.index]), places=6)
        labels = self.client.metadata("demo").labels
        self.assertEqual([t.label for t in r.top], [labels[i] for i in order])

    # ------------------------------------------------------ multi-map models

    def test_parity_fixtures_return_their_golden_values(self):
        for name, fixture in harness.PARITY_MODELS.items():
            with self.subTest(model=name, fixture=fixture):
                cases = harness.Cases(fixture)
                meta = self.client.metadata(name)
                results = self.client.classify(cases.sequences(), name)
                self.assertEqual(len(results), len(cases.lengths))
                for b, (r, length) in enumerate(zip(results, cases.lengths)):
                    np.testing.assert_allclose(r.probabilities, cases.probabilities[b],
                                               atol=ATOL, err_msg=f"sequence {b}")
                    self.assertEqual(list(r.attention), [a.name for a in meta.attention])
                    self.assertEqual(sorted(r.attention), sorted(cases.attention))
                    for (map_name, got), info in zip(r.attention.items(), meta.attention):
                        steps = info.shape[0] is None
                        want_shape = tuple(length if d is None else d for d in info.shape)
                        self.assertEqual(got.shape, want_shape, f"{map_name} of sequence {b}")
                        if steps:
                            self.assertEqual(got.shape[0], length)
                        want = harness.expected_map(cases.attention[map_name][b], got.shape)
                        np.testing.assert_allclose(got, want, atol=ATOL,
                                                   err_msg=f"{map_name} of sequence {b}")

    def test_multi_map_shapes_follow_the_catalog(self):
        x = harness.Cases("uni1_feature_additive").sequences()[0]
        r = self.client.classify(x, "featseq")
        self.assertEqual(list(r.attention), ["feature", "temporal"])
        self.assertEqual(r.attention["feature"].shape, (len(x), 4))
        np.testing.assert_allclose(r.attention["feature"].sum(axis=1), 1.0, atol=1e-5)
        self.assertEqual(r.attention["temporal"].shape, (len(x),))

        x = harness.Cases("bi2_feature_sv_cosine_ctxq_excl").sequences()[0]
        r = self.client.classify(x, "featbi")
        self.assertEqual(r.attention["feature"].shape, (4,))
        self.assertEqual(r.attention["temporal"].shape, (len(x),))

        x = np.random.default_rng(5).normal(size=(12, 3)).astype(np.float32)
        r = self.client.classify(x, "window")  # window 7, truncating: maps cover the window
        self.assertEqual(list(r.attention), ["time", "temporal"])
        self.assertEqual(r.attention["time"].shape, (7, 3))
        self.assertEqual(r.attention["temporal"].shape, (7,))

        r = self.client.classify(x[:5], "featwin")
        self.assertEqual(list(r.attention), ["feature", "time"])
        self.assertEqual(r.attention["feature"].shape, (3,))
        self.assertEqual(r.attention["time"].shape, (8,))

    # ------------------------------------------------- models, metadata, health

    def test_models_lists_versions_and_states(self):
        models = {m.name: m for m in self.client.models()}
        self.assertEqual(sorted(models), sorted(["demo", "broken", *harness.PARITY_MODELS]))
        self.assertEqual(models["demo"].versions, (attnserve.ModelVersion(1, "READY", ""),))
        self.assertEqual(models["demo"].ready_versions, [1])
        broken = models["broken"].versions[0]
        self.assertEqual((broken.version, broken.state), (1, "FAILED"))
        self.assertIn("model.json", broken.reason)
        self.assertEqual(models["broken"].ready_versions, [])

    def test_metadata_matches_attnctl(self):
        for name in ["demo", *harness.PARITY_MODELS]:
            with self.subTest(model=name):
                m = self.client.metadata(name)
                ref = attnctl_json("metadata", f"--model={name}")
                self.assertEqual(m.name, ref["name"])
                self.assertEqual(m.version, int(ref["version"]))
                self.assertEqual(m.description, ref["description"])
                self.assertEqual(m.input_size, ref["input_size"])
                self.assertEqual(m.max_sequence_length, ref["max_sequence_length"] or None)
                self.assertEqual(list(m.labels), ref["labels"])
                self.assertEqual(m.output_activation, ref["output_activation"])
                self.assertEqual(
                    [(a.name, a.shape) for a in m.attention],
                    [(a["name"], tuple(None if int(d) < 0 else int(d) for d in a["shape"]))
                     for a in ref["attention"]])
                for key in ["precision", "encoder", "requested_precision", "precision_note",
                            "cpu_isa", "onednn_version"]:
                    self.assertEqual(getattr(m, key), ref[key], key)
                self.assertEqual(list(m.attention_blocks), ref["attention_blocks"])
        demo = self.client.metadata("demo", version=1)
        self.assertEqual((demo.input_size, demo.labels), (4, ("up", "down", "left", "right")))
        self.assertEqual(demo.attention, (attnserve.AttentionInfo("temporal", (None,)),))
        self.assertEqual(demo.attention_blocks, ("additive",))
        self.assertEqual(demo.max_sequence_length, 256)

    def test_health(self):
        self.assertEqual(self.client.health(), "SERVING")  # the process serves
        # Readiness is strict by default: `broken` cannot load, so not ready.
        self.assertEqual(self.client.health("attnserve.v1.AttnServe"), "NOT_SERVING")
        self.assertEqual(self.client.health("demo"), "SERVING")
        self.assertEqual(self.client.health("broken"), "NOT_SERVING")
        with self.assertRaises(errors.NotFound):
            self.client.health("no-such-model")

    # ----------------------------------------------------------------- stream

    def test_stream_answers_each_input_and_reports_errors_on_the_stream(self):
        samples = harness.demo_samples()
        inputs = [samples[0]["values"],
                  [samples[1]["values"], samples[2]["values"]],
                  np.zeros((3, 5), np.float32),            # wrong feature count
                  np.asarray(samples[3]["values"])]
        consumed = []

        def produce():
            for i, item in enumerate(inputs):
                consumed.append(i)
                yield item

        answers = sorted(self.client.classify_stream(produce(), "demo", top_k=1),
                         key=lambda a: a.index)
        self.assertEqual(consumed, [0, 1, 2, 3])
        self.assertEqual([a.index for a in answers], [0, 1, 2, 3])
        self.assertEqual([a.request_id for a in answers], ["0", "1", "2", "3"])
        self.assertEqual([a.ok for a in answers], [True, True, False, True])
        self.assertIsInstance(answers[0].result, attnserve.Result)
        self.assertIsInstance(answers[1].result, attnserve.Results)
        self.assertEqual(answers[0].get().label, samples[0]["label"])
        self.assertEqual([r.label for r in answers[1].result],
                         [samples[1]["label"], samples[2]["label"]])
        self.assertEqual(answers[3].result.label, samples[3]["label"])
        self.assertEqual(int(np.argmax(answers[3].result.attention["temporal"])),
                         samples[3]["marked_step"])
        unary = self.client.classify(samples[0]["values"], "demo")
        np.testing.assert_allclose(answers[0].result.probabilities, unary.probabilities,
                                   atol=ATOL)
        err = answers[2].error
        self.assertIsInstance(err, errors.InvalidArgument)
        self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("has 5 features; the model takes 4", err.message)
        with self.assertRaises(errors.InvalidArgument):
            answers[2].get()

    def test_stream_stops_at_a_bad_local_input_after_the_answers_due(self):
        sample = harness.demo_samples()[0]["values"]
        got = []
        with self.assertRaisesRegex(ValueError, "classify_stream input 1: .*flat list"):
            for answer in self.client.classify_stream([sample, [1.0, 2.0], sample], "demo"):
                got.append(answer)
        self.assertEqual([a.index for a in got], [0])
        self.assertEqual(got[0].result.label, "left")

        def failing():
            yield sample
            raise RuntimeError("source broke")

        got = []
        with self.assertRaisesRegex(RuntimeError, "source broke"):
            for answer in self.client.classify_stream(failing(), "demo"):
                got.append(answer)
        self.assertEqual([(a.index, a.result.label) for a in got], [(0, "left")])


# ------------------------------------------------------- TLS and the token

class _Recorder:
    """An in-process AttnServe whose ListModels records the call's metadata."""

    def __init__(self):
        from attnserve.v1 import attnserve_pb2, attnserve_pb2_grpc
        self.metadata = []
        recorder = self

        class Servicer(attnserve_pb2_grpc.AttnServeServicer):
            def ListModels(self, request, context):
                recorder.metadata.append(dict(context.invocation_metadata()))
                return attnserve_pb2.ListModelsResponse(models=[
                    attnserve_pb2.ModelSummary(name="recorded", versions=[
                        attnserve_pb2.ModelVersionStatus(version=3, state="READY")])])

        self.servicer_type = Servicer
        self.add = attnserve_pb2_grpc.add_AttnServeServicer_to_server

    def start(self, credentials=None):
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self.add(self.servicer_type(), self.server)
        if credentials is None:
            port = self.server.add_insecure_port("127.0.0.1:0")
        else:
            port = self.server.add_secure_port("127.0.0.1:0", credentials)
        self.server.start()
        return f"127.0.0.1:{port}"

    def stop(self):
        self.server.stop(grace=None)


def _self_signed(directory):
    """A self-signed certificate for localhost and 127.0.0.1 (openssl)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


class CredentialsTest(unittest.TestCase):
    def test_token_is_sent_as_a_bearer_authorization(self):
        recorder = _Recorder()
        address = recorder.start()
        try:
            with attnserve.Client(address, token="s3cret", metadata=[("X-Team", "a")]) as c:
                models = c.models()
            self.assertEqual(models[0].name, "recorded")
            self.assertEqual(recorder.metadata[0]["authorization"], "Bearer s3cret")
            self.assertEqual(recorder.metadata[0]["x-team"], "a")
            with attnserve.Client(address) as c:
                c.models()
            self.assertNotIn("authorization", recorder.metadata[1])
        finally:
            recorder.stop()
        # attnserve accepts (and ignores) the header today.
        with attnserve.Client(SERVER.address, token="s3cret") as c:
            self.assertEqual(c.classify(harness.demo_samples()[0]["values"], "demo").label,
                             "left")

    def test_tls_and_mutual_tls_reach_the_server(self):
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = _self_signed(tmp)
            with open(cert, "rb") as f:
                cert_pem = f.read()
            with open(key, "rb") as f:
                key_pem = f.read()
            recorder = _Recorder()
            address = recorder.start(grpc.ssl_server_credentials(
                [(key_pem, cert_pem)], root_certificates=cert_pem, require_client_auth=True))
            try:
                tls = attnserve.TLS(ca=cert, cert=cert, key=key_pem)
                with attnserve.Client(address, tls=tls, token="t0k") as c:
                    self.assertIn("tls", repr(c))
                    self.assertEqual(c.models()[0].versions[0].version, 3)
                self.assertEqual(recorder.metadata[-1]["authorization"], "Bearer t0k")
                # Without the client certificate the handshake is refused.
                with attnserve.Client(address, tls=attnserve.TLS(ca=cert), timeout=10) as c:
                    with self.assertRaises(errors.Unavailable):
                        c.models()
                # A plaintext client cannot talk to it.
                with attnserve.Client(address, timeout=10) as c:
                    with self.assertRaises(errors.Unavailable):
                        c.models()
            finally:
                recorder.stop()

    def test_tls_settings_are_checked(self):
        with self.assertRaisesRegex(ValueError, "cert and key go together"):
            attnserve.Client("127.0.0.1:1", tls=attnserve.TLS(cert=b"x"))
        with self.assertRaisesRegex(ValueError, "cannot read /no/such/ca.pem"):
            attnserve.Client("127.0.0.1:1", tls=attnserve.TLS(ca="/no/such/ca.pem"))
        with self.assertRaisesRegex(TypeError, "tls must be"):
            attnserve.Client("127.0.0.1:1", tls="yes")


if __name__ == "__main__":
    harness.main()
