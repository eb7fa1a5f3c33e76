#!/usr/bin/env python3
"""examples/classify_demo.py runs as its docstring says against the real
server: every demo sample gets its label, attention peaks on its marked step,
and one non-blank picture is written per sample."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from matplotlib.image import imread

import harness

SERVER = None
REPO = None


def setUpModule():
    global SERVER, REPO
    REPO = harness.Repository()
    SERVER = harness.Server(REPO)


def tearDownModule():
    if SERVER is not None:
        assert SERVER.stop() == 0
    if REPO is not None:
        REPO.remove()


class ExampleTest(unittest.TestCase):
    def test_classify_demo(self):
        samples = harness.demo_samples()
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, harness.source("examples", "classify_demo.py"),
                 f"--server={SERVER.address}", f"--output={tmp}/demo.png"],
                capture_output=True, text=True, timeout=120, cwd=tmp)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            lines = out.stdout.splitlines()
            self.assertTrue(lines[0].startswith("demo v1: lstm 1x32"), lines[0])
            rows = [re.match(r"\[(\d+)\] (\w+) +p=([\d.]+) +expected (\w+) +attention peak at "
                             r"step (\d+) \(([\d.]+)\), marked step (\d+)$", line)
                    for line in lines if line.startswith("[")]
            self.assertEqual(len(rows), len(samples))
            for i, (row, sample) in enumerate(zip(rows, samples)):
                self.assertIsNotNone(row, lines)
                self.assertEqual(int(row.group(1)), i)
                self.assertEqual(row.group(2), sample["label"])
                self.assertEqual(row.group(4), sample["label"])
                self.assertEqual(int(row.group(5)), sample["marked_step"])
                self.assertEqual(int(row.group(7)), sample["marked_step"])
                picture = imread(os.path.join(tmp, f"demo-{i}.png"))
                self.assertGreater(np.any(picture[..., :3] < 0.95, axis=-1).mean(), 0.05)
            self.assertEqual(lines[-1], f"{len(samples)} of {len(samples)} as expected")


if __name__ == "__main__":
    harness.main()
