#!/usr/bin/env python3
"""Every status the server answers with becomes its attnserve.errors class,
carrying the code and the server's own message (docs/api.md, Errors).

The server runs capped to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2, as the integration
suite's precision test does) so that `demo16`, the demo asking for bf16,
fails to load with FAILED_PRECONDITION on any x86-64 machine; `broken` fails
to load (UNAVAILABLE); --max_message_bytes is small so that a large request
is refused with RESOURCE_EXHAUSTED.
"""
import pickle
import unittest

import grpc
import numpy as np

import attnserve
from attnserve import errors
import harness

SERVER = None
REPO = None
MAX_MESSAGE_BYTES = 256 * 1024


def setUpModule():
    global SERVER, REPO
    REPO = harness.Repository(broken=True, bf16=True)
    SERVER = harness.Server(REPO, flags=[f"--max_message_bytes={MAX_MESSAGE_BYTES}"],
                            env={"ONEDNN_MAX_CPU_ISA": "AVX2"})


def tearDownModule():
    if SERVER is not None:
        assert SERVER.stop() == 0
    if REPO is not None:
        REPO.remove()


class ServerErrorsTest(unittest.TestCase):
    def setUp(self):
        self.client = attnserve.Client(SERVER.address, timeout=30)
        self.good = np.asarray(harness.demo_samples()[0]["values"], np.float32)

    def tearDown(self):
        self.client.close()

    def refused(self, cls, code, call):
        with self.assertRaises(cls) as caught:
            call()
        e = caught.exception
        self.assertIsInstance(e, errors.AttnServeError)
        self.assertEqual(e.code, code)
        self.assertEqual(str(e), f"{code.name}: {e.message}")
        return e.message

    def test_invalid_argument_names_the_place(self):
        wrong_width = np.zeros((5, 3), np.float32)
        message = self.refused(errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT,
                               lambda: self.client.classify([self.good, wrong_width], "demo"))
        self.assertIn("sequence 1: has 3 features; the model takes 4 per step", message)

        bad = self.good.copy()
        bad[2, 3] = np.nan
        message = self.refused(errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT,
                               lambda: self.client.classify([self.good, bad], "demo"))
        self.assertIn("sequence 1: step 2, feature 3 is NaN", message)

        too_long = np.zeros((257, 4), np.float32)  # the demo takes at most 256 steps
        message = self.refused(errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT,
                               lambda: self.client.classify(too_long, "demo"))
        self.assertIn("257", message)
        self.assertIn("256", message)

        # Also a ValueError, for generic handlers.
        with self.assertRaises(ValueError):
            self.client.classify(wrong_width, "demo")

    def test_not_found_lists_what_exists(self):
        message = self.refused(errors.NotFound, grpc.StatusCode.NOT_FOUND,
                               lambda: self.client.classify(self.good, "nope"))
        self.assertEqual(message, "model 'nope' not found; known models: broken, demo, demo16")
        message = self.refused(errors.NotFound, grpc.StatusCode.NOT_FOUND,
                               lambda: self.client.metadata("demo", version=9))
        self.assertEqual(message, "model 'demo' has no version 9; versions: 1")
        self.assertIsInstance(errors.NotFound(grpc.StatusCode.NOT_FOUND, ""), LookupError)

    def test_failed_precondition_for_bf16_on_a_cpu_without_it(self):
        message = self.refused(errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION,
                               lambda: self.client.classify(self.good, "demo16"))
        self.assertIn("bf16", message)
        self.assertIn("avx2", message)
        models = {m.name: m for m in self.client.models()}
        self.assertEqual(models["demo16"].versions[0].state, "FAILED")

    def test_unavailable_for_a_version_that_failed_to_load(self):
        message = self.refused(errors.Unavailable, grpc.StatusCode.UNAVAILABLE,
                               lambda: self.client.classify(self.good, "broken"))
        self.assertIn("model 'broken' has no ready version", message)
        self.assertIn("model.json: not valid JSON", message)
        message = self.refused(errors.Unavailable, grpc.StatusCode.UNAVAILABLE,
                               lambda: self.client.classify(self.good, "broken", version=1))
        self.assertIn("model 'broken' version 1 is FAILED: ", message)

    def test_resource_exhausted_for_a_request_over_the_size_limit(self):
        big = [np.zeros((256, 4), np.float32)] * 80  # about 330 kB of floats
        self.refused(errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED,
                     lambda: self.client.classify(big, "demo"))

    def test_deadline_exceeded(self):
        self.refused(errors.DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED,
                     lambda: self.client.classify(self.good, "demo", timeout=1e-6))

    def test_unavailable_when_no_server_listens(self):
        with attnserve.Client(f"127.0.0.1:{harness.free_port()}", timeout=10) as c:
            self.refused(errors.Unavailable, grpc.StatusCode.UNAVAILABLE, c.models)

    def test_the_server_still_answers_good_requests(self):
        self.assertEqual(self.client.classify(self.good, "demo").label, "left")


class LocalErrorsTest(unittest.TestCase):
    """Inputs that are not [steps, features] never reach the server."""

    def setUp(self):
        self.client = attnserve.Client(SERVER.address)

    def tearDown(self):
        self.client.close()

    def test_inputs_that_are_not_sequences(self):
        cases = [
            (np.zeros(5), ValueError, r"1-D array of shape \(5,\).*reshape\(-1, 1\)"),
            (np.zeros((2, 3, 4, 5)), ValueError, r"shape \(2, 3, 4, 5\)"),
            ([1.0, 2.0], ValueError, "flat list of numbers"),
            ([], ValueError, "no sequences"),
            ([[[1, 2], [3]]], ValueError, "sequence 0 is not a"),
            ([np.zeros((2, 4)), np.zeros(3)], ValueError, "sequence 1: a sequence is"),
            ("abc", TypeError, "numpy array or a list"),
            ([[["a", "b"]]], ValueError, "sequence 0 is not a"),
        ]
        for value, cls, pattern in cases:
            with self.subTest(value=repr(value)[:40]):
                with self.assertRaisesRegex(cls, pattern):
                    self.client.classify(value, "demo")
        with self.assertRaisesRegex(ValueError, "model must be"):
            self.client.classify(np.zeros((2, 4)), "")
        with self.assertRaisesRegex(ValueError, "top_k"):
            self.client.classify(np.zeros((2, 4)), "demo", top_k=-1)


class MappingTest(unittest.TestCase):
    def test_every_code_has_its_class(self):
        expected = {
            "INVALID_ARGUMENT": errors.InvalidArgument, "NOT_FOUND": errors.NotFound,
            "FAILED_PRECONDITION": errors.FailedPrecondition,
            "UNAVAILABLE": errors.Unavailable, "RESOURCE_EXHAUSTED": errors.ResourceExhausted,
            "DEADLINE_EXCEEDED": errors.DeadlineExceeded, "CANCELLED": errors.Cancelled,
            "INTERNAL": errors.Internal, "UNAUTHENTICATED": errors.Unauthenticated,
            "PERMISSION_DENIED": errors.PermissionDenied, "UNIMPLEMENTED": errors.Unimplemented,
            "UNKNOWN": errors.AttnServeError, "ABORTED": errors.AttnServeError,
        }
        for name, cls in expected.items():
            code = getattr(grpc.StatusCode, name)
            for key in (code, code.value[0]):  # as gRPC gives it, and as a stream Status number
                e = errors.from_status(key, "why")
                self.assertIs(type(e), cls, name)
                self.assertEqual((e.code, e.message), (code, "why"))
        self.assertIs(type(errors.from_status(99, "x")), errors.AttnServeError)
        self.assertEqual(errors.from_status(99, "x").code, grpc.StatusCode.UNKNOWN)

    def test_errors_pickle(self):
        e = pickle.loads(pickle.dumps(errors.from_status(grpc.StatusCode.NOT_FOUND, "gone")))
        self.assertIsInstance(e, errors.NotFound)
        self.assertEqual((e.code, e.message), (grpc.StatusCode.NOT_FOUND, "gone"))


if __name__ == "__main__":
    harness.main()
