#!/usr/bin/env python3
"""Token-id models (model.json input.embedding) through the Python clients and
attnctl, against the real server serving a parity fixture that reads token ids
(uni1_emb_bahdanau_mix_luong: vocabulary 12, temporal attention):

- attnserve.Client.classify with token ids (a flat list of integers, a 1-D
  integer array, several with ids=True, a 2-D integer array) returns the
  fixture's golden probabilities and attention; the aio client and
  classify_stream too; metadata says vocab_size; plot_attention draws a token
  result's maps; local mistakes (non-integer ids) raise before any call, and
  the server's refusals (values for a token model, ids for a value model, an
  id outside the vocabulary) arrive with its message.
- attnctl classify reads token ids from JSON (flat arrays, {"ids": [...]}) and
  CSV (a line per sequence) and answers what the Python client answers;
  --random draws ids in the vocabulary; --plot draws a picture; attnctl
  metadata says "token ids in [0, 12)".
"""
import asyncio
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np

import attnserve
import attnserve.aio
from attnserve import errors
import harness

ATOL = 1e-5  # the engine's parity bound (tests/fixtures/parity/README.md)
FIXTURE = "uni1_emb_bahdanau_mix_luong"
WINDOW = 6  # its bahdanau block's score_mix window: every temporal map has 6 steps
SERVER = None
REPO = None


def setUpModule():
    global SERVER, REPO
    REPO = harness.Repository(parity={"tokens": FIXTURE})
    SERVER = harness.Server(REPO)


def tearDownModule():
    if SERVER is not None:
        assert SERVER.stop() == 0
    if REPO is not None:
        REPO.remove()


def golden():
    """(id sequences without padding, probabilities [B, C], temporal [B, T'])."""
    t = harness.read_safetensors(os.path.join(harness.parity_dir(FIXTURE), "cases.safetensors"))
    lengths = [int(n) for n in t["lengths"]]
    return ([t["ids"][b, :n] for b, n in enumerate(lengths)], t["probabilities"],
            t["attention.temporal"])


def attnctl(*args):
    return subprocess.run([harness.ARGS.attnctl, *args, f"--server={SERVER.address}"],
                          capture_output=True, text=True, timeout=60)


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.client = attnserve.Client(SERVER.address, timeout=30)

    def tearDown(self):
        self.client.close()

    def assertGolden(self, results, sequences, probabilities, temporal):
        self.assertEqual(len(results), len(sequences))
        for b, (r, ids) in enumerate(zip(results, sequences)):
            np.testing.assert_allclose(r.probabilities, probabilities[b], atol=ATOL,
                                       err_msg=f"sequence {b}")
            got = r.attention["temporal"]
            self.assertEqual(got.shape, (WINDOW,))  # score_mix: a fixed window
            np.testing.assert_allclose(got, harness.expected_map(temporal[b], got.shape),
                                       atol=ATOL, err_msg=f"temporal of sequence {b}")
            self.assertEqual(r.sequence.dtype, np.int64)
            np.testing.assert_array_equal(r.sequence, ids)

    def test_golden_values_from_lists_and_arrays(self):
        sequences, probabilities, temporal = golden()
        self.assertGreater(len(set(len(s) for s in sequences)), 1)  # lengths differ
        results = self.client.classify(sequences, "tokens", ids=True)
        self.assertGolden(results, sequences, probabilities, temporal)
        as_lists = self.client.classify([[int(i) for i in s] for s in sequences], "tokens",
                                        ids=True)
        self.assertGolden(as_lists, sequences, probabilities, temporal)
        # One sequence: a flat list of integers or a 1-D integer array is token
        # ids without ids=True, and gives a Result.
        one = self.client.classify([int(i) for i in sequences[0]], "tokens")
        self.assertIsInstance(one, attnserve.Result)
        self.assertGolden([one], sequences[:1], probabilities, temporal)
        self.assertGolden([self.client.classify(sequences[1], "tokens")], sequences[1:2],
                          probabilities[1:], temporal[1:])
        # Several of one length as a 2-D integer array.
        n = len(sequences[0])
        same = [s for s in sequences if len(s) == n]
        stacked = self.client.classify(np.stack(same), "tokens", ids=True)
        self.assertEqual(len(stacked), len(same))
        # Integral floats are accepted as ids.
        floats = self.client.classify(np.asarray(sequences[0], np.float64), "tokens", ids=True)
        np.testing.assert_array_equal(floats.probabilities, one.probabilities)

    def test_stream_and_aio(self):
        sequences, probabilities, temporal = golden()
        answers = sorted(self.client.classify_stream(sequences[:3], "tokens", ids=True),
                         key=lambda a: a.index)
        self.assertGolden([a.result for a in answers], sequences[:3], probabilities, temporal)

        async def run():
            async with attnserve.aio.Client(SERVER.address, timeout=30) as c:
                return await c.classify(sequences, "tokens", ids=True)

        self.assertGolden(asyncio.run(run()), sequences, probabilities, temporal)

    def test_metadata_says_the_vocabulary(self):
        tokens = self.client.metadata("tokens")
        self.assertEqual(tokens.vocab_size, 12)
        self.assertEqual(tokens.attention, (attnserve.AttentionInfo("temporal", (WINDOW,)),))
        self.assertEqual(self.client.metadata("demo").vocab_size, 0)

    def test_plot_draws_the_maps_of_a_token_result(self):
        sequences, _, _ = golden()
        fig = attnserve.plot_attention(self.client.classify(sequences[0], "tokens"))
        labels = [ax.get_label() for ax in fig.axes]
        self.assertIn("attention:temporal", labels)
        self.assertNotIn("input", labels)

    def test_mistakes(self):
        with self.assertRaisesRegex(ValueError, "sequence 1: token ids must be integers"):
            self.client.classify([[1, 2], [1.5, 2]], "tokens", ids=True)
        with self.assertRaisesRegex(ValueError, r"token ids are one integer per step"):
            self.client.classify([[[1, 2]]], "tokens", ids=True)
        with self.assertRaises(errors.InvalidArgument) as raised:
            self.client.classify([[1.0], [2.0]], "tokens")  # values for a token model
        self.assertIn("sequence 0: carries values; the model reads token ids",
                      str(raised.exception))
        with self.assertRaises(errors.InvalidArgument) as raised:
            self.client.classify([3, 1, 4], "demo")  # ids for a model of values
        self.assertIn("sequence 0: carries token ids; the model reads values",
                      str(raised.exception))
        with self.assertRaises(errors.InvalidArgument) as raised:
            self.client.classify([3, 12], "tokens")
        self.assertIn("sequence 0: step 1: token id 12 is outside the vocabulary [0, 12)",
                      str(raised.exception))


class AttnctlTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_json_and_csv_ids_answer_as_the_python_client(self):
        sequences, probabilities, _ = golden()
        lists = [[int(i) for i in s] for s in sequences]
        items = [lists[0], {"ids": lists[1], "label": "class_1"}, *lists[2:]]
        json_path = self.write("ids.json", json.dumps({"model": "tokens", "sequences": items}))
        csv_path = self.write("ids.csv", "# one sequence per line\n" +
                              "\n".join(", ".join(map(str, s)) for s in lists) + "\n")
        for path in (json_path, csv_path):
            with self.subTest(input=os.path.basename(path)):
                out = attnctl("classify", "--model=tokens", f"--input={path}", "--json")
                self.assertEqual(out.returncode, 0, out.stderr)
                results = json.loads(out.stdout)["results"]
                self.assertEqual(len(results), len(lists))
                for b, r in enumerate(results):
                    np.testing.assert_allclose(r["probabilities"], probabilities[b], atol=ATOL)
        out = attnctl("classify", "--model=tokens", f"--input={json_path}")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f"({len(lists[1])} steps, expected class_1", out.stdout)

    def test_random_ids_and_plot(self):
        picture = os.path.join(self.tmp.name, "tokens.png")
        out = attnctl("classify", "--model=tokens", "--random=2", "--steps=7", "--seed=5",
                      f"--plot={picture}")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("tokens version 1: 2 sequences", out.stdout)
        self.assertTrue(os.path.getsize(os.path.join(self.tmp.name, "tokens-0.png")) > 1000)

    def test_metadata_and_bad_ids(self):
        out = attnctl("metadata", "--model=tokens")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("input: token ids in [0, 12), at most 64 steps", out.stdout)
        bad = self.write("bad.json", "[[1, 2.5]]")
        out = attnctl("classify", "--model=tokens", f"--input={bad}")
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("sequence 0, step 1: expected an integer token id, got 2.5", out.stderr)


if __name__ == "__main__":
    harness.main()
