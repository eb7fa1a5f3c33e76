#!/usr/bin/env python3
"""attnserve.aio.Client against the real server: the same answers as the
blocking client and the golden fixtures, concurrent calls on one channel,
ClassifyStream fed by an async generator, errors, metadata, models, health."""
import asyncio
import unittest

import grpc
import numpy as np

import attnserve
import attnserve.aio
from attnserve import errors
import harness

ATOL = 1e-5
SERVER = None
REPO = None
MODELS = {"featseq": harness.PARITY_MODELS["featseq"], "window": harness.PARITY_MODELS["window"]}


def setUpModule():
    global SERVER, REPO
    REPO = harness.Repository(parity=MODELS)
    SERVER = harness.Server(REPO)


def tearDownModule():
    if SERVER is not None:
        assert SERVER.stop() == 0
    if REPO is not None:
        REPO.remove()


class AioClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = attnserve.aio.Client(SERVER.address, timeout=30)

    async def asyncTearDown(self):
        await self.client.close()

    async def test_classify_matches_the_blocking_client_and_the_samples(self):
        samples = harness.demo_samples()
        results = await self.client.classify([s["values"] for s in samples], "demo", top_k=2)
        self.assertIsInstance(results, attnserve.Results)
        with attnserve.Client(SERVER.address) as sync:
            reference = sync.classify([s["values"] for s in samples], "demo", top_k=2)
        for sample, got, ref in zip(samples, results, reference):
            self.assertEqual(got.label, sample["label"])
            self.assertEqual(got.label, ref.label)
            self.assertEqual([t.label for t in got.top], [t.label for t in ref.top])
            np.testing.assert_allclose(got.probabilities, ref.probabilities, atol=ATOL)
            np.testing.assert_allclose(got.attention["temporal"], ref.attention["temporal"],
                                       atol=ATOL)
            self.assertEqual(int(np.argmax(got.attention["temporal"])), sample["marked_step"])

        one = await self.client.classify(np.asarray(samples[2]["values"]), "demo", version=1)
        self.assertIsInstance(one, attnserve.Result)
        self.assertEqual((one.label, one.model_version), (samples[2]["label"], 1))

    async def test_multi_map_model_returns_the_golden_values(self):
        cases = harness.Cases(MODELS["featseq"])
        results = await self.client.classify(cases.sequences(), "featseq")
        for b, (r, length) in enumerate(zip(results, cases.lengths)):
            np.testing.assert_allclose(r.probabilities, cases.probabilities[b], atol=ATOL)
            self.assertEqual(r.attention["feature"].shape, (length, 4))
            self.assertEqual(r.attention["temporal"].shape, (length,))
            for name, got in r.attention.items():
                np.testing.assert_allclose(
                    got, harness.expected_map(cases.attention[name][b], got.shape), atol=ATOL)

    async def test_concurrent_calls_share_the_channel(self):
        samples = harness.demo_samples()
        calls = [self.client.classify(samples[i % len(samples)]["values"], "demo")
                 for i in range(24)]
        results = await asyncio.gather(*calls)
        self.assertEqual([r.label for r in results],
                         [samples[i % len(samples)]["label"] for i in range(24)])

    async def test_stream_from_an_async_generator(self):
        samples = harness.demo_samples()

        async def produce():
            for s in samples[:3]:
                yield s["values"]
            yield np.zeros((4, 2))  # wrong feature count: answered with an error
            yield [samples[4]["values"], samples[5]["values"]]

        answers = {}
        async for answer in self.client.classify_stream(produce(), "demo"):
            answers[answer.index] = answer
        self.assertEqual(sorted(answers), [0, 1, 2, 3, 4])
        for i in range(3):
            self.assertEqual(answers[i].get().label, samples[i]["label"])
        self.assertIsInstance(answers[3].error, errors.InvalidArgument)
        self.assertIn("has 2 features; the model takes 4", answers[3].error.message)
        self.assertEqual([r.label for r in answers[4].result],
                         [samples[4]["label"], samples[5]["label"]])

        # A plain list works too.
        got = [a async for a in self.client.classify_stream([samples[6]["values"]], "demo")]
        self.assertEqual(got[0].result.label, samples[6]["label"])

        # A failing source: the answers due, then its exception.
        async def failing():
            yield samples[7]["values"]
            raise RuntimeError("source broke")

        got = []
        with self.assertRaisesRegex(RuntimeError, "source broke"):
            async for answer in self.client.classify_stream(failing(), "demo"):
                got.append(answer)
        self.assertEqual([(a.index, a.result.label) for a in got], [(0, samples[7]["label"])])

    async def test_errors_metadata_models_health(self):
        with self.assertRaises(errors.NotFound) as caught:
            await self.client.classify(np.zeros((3, 4)), "nope")
        self.assertEqual(caught.exception.code, grpc.StatusCode.NOT_FOUND)
        self.assertIn("known models: demo, featseq, window", caught.exception.message)
        with self.assertRaises(errors.InvalidArgument) as caught:
            await self.client.classify(np.zeros((3, 7)), "window")
        self.assertIn("has 7 features; the model takes 3", caught.exception.message)
        with self.assertRaises(errors.DeadlineExceeded):
            await self.client.classify(np.zeros((3, 4)), "demo", timeout=1e-6)

        meta = await self.client.metadata("window")
        self.assertEqual([(a.name, a.shape) for a in meta.attention],
                         [("time", (7, 3)), ("temporal", (7,))])
        self.assertEqual(meta.attention_blocks, ("time_dense", "general"))
        self.assertEqual(sorted(m.name for m in await self.client.models()),
                         ["demo", "featseq", "window"])
        self.assertEqual(await self.client.health(), "SERVING")
        self.assertEqual(await self.client.health("featseq"), "SERVING")
        with self.assertRaises(errors.NotFound):
            await self.client.health("nope")

    async def test_context_manager_closes_the_channel(self):
        async with attnserve.aio.Client(SERVER.address) as c:
            self.assertEqual(await c.health(), "SERVING")
        with self.assertRaisesRegex(Exception, "[Cc]losed"):
            await c.health()


if __name__ == "__main__":
    harness.main()
