#!/usr/bin/env python3
"""`attnctl classify --plot` end to end, with the real server and Debian's
/usr/bin/python3 (attnctl's default interpreter) drawing with the checkout's
attnserve package.

- One picture per sequence; each is exactly the picture attnserve.plot_attention
  draws for the same response and input (pixel for pixel), so the terminal and
  Python users see the same thing.
- With --json, standard output stays the response alone.
- A missing interpreter, a Python without matplotlib (a stand-in package that
  fails to import shadows it) and --plot with --no_attention say what is wrong.
"""
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np
from matplotlib.image import imread

import attnserve
import harness

SERVER = None
REPO = None


def setUpModule():
    global SERVER, REPO
    REPO = harness.Repository(parity={"featseq": harness.PARITY_MODELS["featseq"]})
    SERVER = harness.Server(REPO)


def tearDownModule():
    if SERVER is not None:
        assert SERVER.stop() == 0
    if REPO is not None:
        REPO.remove()


def attnctl(*args, env=None):
    return subprocess.run([harness.ARGS.attnctl, "classify", f"--server={SERVER.address}", *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


class AttnctlPlotTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.samples = os.path.join(self.tmp.name, "samples.json")
        with open(self.samples, "w") as f:
            json.dump({"sequences": harness.demo_samples()[:3]}, f)

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_one_picture_per_sequence_equal_to_plot_attention(self):
        out = attnctl("--model=demo", f"--input={self.samples}", "--json",
                      f"--plot={self.path('demo.png')}")
        self.assertEqual(out.returncode, 0, out.stderr)
        response = json.loads(out.stdout)  # stdout is the JSON alone
        paths = [self.path(f"demo-{i}.png") for i in range(3)]
        self.assertEqual([line for line in out.stderr.splitlines()
                          if line.startswith("attention plot:")],
                         [f"attention plot: {p}" for p in paths])
        samples = harness.demo_samples()[:3]
        results = attnserve.Results.from_json(response, [s["values"] for s in samples])
        for sample, result, path in zip(samples, results, paths):
            drawn = imread(path)
            fig = attnserve.plot_attention(result, expected=sample["label"])
            fig.savefig(self.path("reference.png"))
            np.testing.assert_array_equal(drawn, imread(self.path("reference.png")),
                                          err_msg=path)
            self.assertGreater(np.any(drawn[..., :3] < 0.95, axis=-1).mean(), 0.05)

    def test_text_output_then_the_picture(self):
        out = attnctl("--model=featseq", "--random=1", "--steps=9", "--seed=4",
                      f"--plot={self.path('one.png')}")
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertTrue(lines[0].startswith("featseq version 1: 1 sequence"), lines)
        self.assertIn("feature [9x4]", out.stdout)
        self.assertEqual(lines[-1], f"attention plot: {self.path('one.png')}")
        self.assertFalse(os.path.exists(self.path("one-0.png")))
        pixels = imread(self.path("one.png"))
        self.assertEqual(pixels.shape[1], 1000)  # 10 inches at 100 dpi
        # Three panels (feature, temporal, input) are taller than the demo's two.
        out = attnctl("--model=demo", "--random=1", "--steps=9", f"--plot={self.path('d.png')}")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertGreater(pixels.shape[0], imread(self.path("d.png")).shape[0])

    def test_missing_interpreter_is_named(self):
        out = attnctl("--model=demo", f"--input={self.samples}",
                      f"--plot={self.path('x.png')}", "--python=/nonexistent/python3")
        self.assertEqual(out.returncode, 1)
        self.assertIn("attnctl: cannot run /nonexistent/python3: No such file or directory",
                      out.stderr)
        self.assertIn("--plot needs Python 3 with the attnserve package", out.stderr)
        self.assertIn("[0] left", out.stdout)  # the answer was still printed
        out = attnctl("--model=demo", f"--input={self.samples}", f"--plot={self.path('x.png')}",
                      env={"ATTNSERVE_PYTHON": "/nonexistent/python4"})
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot run /nonexistent/python4", out.stderr)
        self.assertFalse(os.path.exists(self.path("x-0.png")))

    def test_missing_matplotlib_is_named(self):
        shadow = self.path("shadow")
        os.makedirs(os.path.join(shadow, "matplotlib"))
        with open(os.path.join(shadow, "matplotlib", "__init__.py"), "w") as f:
            f.write('raise ImportError("No module named \'matplotlib\'")\n')
        out = attnctl("--model=demo", f"--input={self.samples}", f"--plot={self.path('x.png')}",
                      env={"PYTHONPATH": shadow})
        self.assertEqual(out.returncode, 1)
        self.assertIn("attnserve.plot needs matplotlib (Debian: apt-get install "
                      "python3-matplotlib)", out.stderr)
        self.assertIn("-m attnserve.plot cannot import matplotlib or numpy", out.stderr)

    def test_plot_needs_attention(self):
        out = attnctl("--model=demo", f"--input={self.samples}", "--no_attention",
                      f"--plot={self.path('x.png')}")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--plot draws the attention maps: drop --no_attention", out.stderr)


if __name__ == "__main__":
    harness.main()
