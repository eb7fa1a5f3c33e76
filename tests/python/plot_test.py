#!/usr/bin/env python3
"""attnserve.plot_attention and its layout, on real answers of the server.

For the demo and every multi-map fixture: the PNG has the figure's size in
pixels and is not blank, there is one panel per attention map (in the
model's order) plus the input, panels over the input's steps share its axis
and window maps do not, bars are the returned weights with the peak marked,
heatmaps hold the returned map. Also the layout rules on made-up maps, JSON
results (as attnctl prints them), and the command line.
"""
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from matplotlib.colors import to_hex
from matplotlib.image import imread

import attnserve
from attnserve import layout, plot
import harness

SERVER = None
REPO = None
CLIENT = None


def setUpModule():
    global SERVER, REPO, CLIENT
    REPO = harness.Repository(parity=harness.PARITY_MODELS)
    SERVER = harness.Server(REPO)
    CLIENT = attnserve.Client(SERVER.address, timeout=30)


def tearDownModule():
    if CLIENT is not None:
        CLIENT.close()
    if SERVER is not None:
        assert SERVER.stop() == 0
    if REPO is not None:
        REPO.remove()


def axes_by_label(fig):
    return {ax.get_label(): ax for ax in fig.axes}


def check_png(test, fig, path):
    """The saved picture: the figure's size in pixels, and not blank."""
    fig.savefig(path)
    pixels = imread(path)
    width, height = fig.get_size_inches() * fig.dpi
    test.assertEqual(pixels.shape[:2], (round(height), round(width)))
    rgb = pixels[..., :3]
    not_white = np.any(rgb < 0.95, axis=-1).mean()
    test.assertGreater(not_white, 0.05, f"{path} is nearly blank ({not_white:.1%} drawn)")
    packed = (rgb * 255).astype(np.uint32).reshape(-1, 3) @ np.array([1 << 16, 1 << 8, 1],
                                                                      np.uint32)
    colours = len(np.unique(packed))
    test.assertGreater(colours, 50, f"{path} has only {colours} colours")
    return pixels


class PlotServerResultsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def picture(self, result, name, **kwargs):
        fig = attnserve.plot_attention(result, **kwargs)
        check_png(self, fig, os.path.join(self.tmp.name, f"{name}.png"))
        return fig

    def test_every_model_one_panel_per_map_and_the_input(self):
        inputs = {"demo": np.asarray(harness.demo_samples()[0]["values"], np.float32)}
        for name, fixture in harness.PARITY_MODELS.items():
            inputs[name] = harness.Cases(fixture).sequences()[1]
        for name, x in inputs.items():
            with self.subTest(model=name):
                r = CLIENT.classify(x, name)
                fig = self.picture(r, name)
                labels = [ax.get_label() for ax in fig.axes]
                maps = [label for label in labels if label.startswith("attention:")]
                self.assertEqual(maps, [f"attention:{m}" for m in r.attention])
                self.assertEqual(labels.count("input"), 1)
                heatmaps = [m for m, w in r.attention.items() if w.ndim == 2]
                heatmaps += ["input"] if x.shape[1] > layout.MAX_LINE_FEATURES else []
                self.assertEqual(sorted(l for l in labels if l.startswith("colorbar:")),
                                 sorted(f"colorbar:{k}" if k == "input" else
                                        f"colorbar:attention:{k}" for k in heatmaps))
                self.assertIn(f"{name} v1: {r.label} p={r.probability:.3f}",
                              fig._suptitle.get_text())

    def test_demo_bars_are_the_weights_and_the_peak_is_marked_on_the_input(self):
        sample = harness.demo_samples()[3]
        r = CLIENT.classify(sample["values"], "demo")
        fig = self.picture(r, "demo", expected=sample["label"])
        axes = axes_by_label(fig)
        bars = axes["attention:temporal"].patches
        weights = r.attention["temporal"]
        self.assertEqual(len(bars), len(weights))
        np.testing.assert_allclose([b.get_height() for b in bars], weights, rtol=1e-6)
        peak = sample["marked_step"]
        self.assertEqual(int(np.argmax(weights)), peak)
        self.assertEqual([i for i, b in enumerate(bars)
                          if to_hex(b.get_facecolor()) == plot.PEAK_COLOR], [peak])
        self.assertIn(f"peak step {peak}", axes["attention:temporal"].get_title(loc="left"))
        marks = [line.get_xdata()[0] for line in axes["input"].get_lines()]
        self.assertEqual(marks, [peak])
        image = axes["input"].images[0].get_array()
        np.testing.assert_array_equal(image, np.asarray(sample["values"], np.float32).T)
        self.assertTrue(axes["input"].get_shared_x_axes().joined(
            axes["input"], axes["attention:temporal"]))
        self.assertIn(f"expected {sample['label']}", fig._suptitle.get_text())

    def test_feature_heatmap_holds_the_map_and_shares_the_step_axis(self):
        x = harness.Cases(harness.PARITY_MODELS["featseq"]).sequences()[2]
        r = CLIENT.classify(x, "featseq")
        fig = self.picture(r, "featseq", feature_names=["a", "b", "c", "d"])
        axes = axes_by_label(fig)
        feature = axes["attention:feature"]
        np.testing.assert_array_equal(feature.images[0].get_array(), r.attention["feature"].T)
        self.assertEqual([t.get_text() for t in feature.get_yticklabels()], ["a", "b", "c", "d"])
        shared = feature.get_shared_x_axes()
        self.assertTrue(shared.joined(feature, axes["attention:temporal"]))
        self.assertTrue(shared.joined(feature, axes["input"]))

    def test_window_maps_get_their_own_axis(self):
        x = np.random.default_rng(3).normal(size=(12, 3)).astype(np.float32)
        r = CLIENT.classify(x, "window")  # window 7: both maps cover 7 steps, the input 12
        fig = self.picture(r, "window")
        axes = axes_by_label(fig)
        for key in ("attention:time", "attention:temporal"):
            self.assertFalse(axes[key].get_shared_x_axes().joined(axes[key], axes["input"]))
            self.assertEqual(axes[key].get_xlabel(), "window step")
        np.testing.assert_array_equal(axes["attention:time"].images[0].get_array(),
                                      r.attention["time"].T)

    def test_feature_vector_is_bars_over_the_features(self):
        x = harness.Cases(harness.PARITY_MODELS["featbi"]).sequences()[0]
        r = CLIENT.classify(x, "featbi")
        fig = self.picture(r, "featbi")
        ax = axes_by_label(fig)["attention:feature"]
        self.assertEqual(ax.get_xlabel(), "feature")
        self.assertEqual([t.get_text() for t in ax.get_xticklabels()], ["f0", "f1", "f2", "f3"])
        np.testing.assert_allclose([b.get_height() for b in ax.patches], r.attention["feature"],
                                   rtol=1e-6)

    def test_without_attention_or_input(self):
        r = CLIENT.classify(harness.demo_samples()[0]["values"], "demo", return_attention=False)
        fig = attnserve.plot_attention(r)
        self.assertEqual([ax.get_label() for ax in fig.axes], ["input", "colorbar:input"])
        r.sequence = None
        fig = attnserve.plot_attention(r)
        self.assertEqual(fig.axes, [])
        fig.savefig(io.BytesIO())  # still renders

    def test_one_result_at_a_time(self):
        samples = harness.demo_samples()
        results = CLIENT.classify([s["values"] for s in samples[:2]], "demo")
        with self.assertRaisesRegex(ValueError, "one result; got 2"):
            attnserve.plot_attention(results)
        fig = attnserve.plot_attention(attnserve.Results([results[1]]))
        self.assertIn("attention:temporal", axes_by_label(fig))


class LayoutTest(unittest.TestCase):
    """The layout rules on made-up maps."""

    def test_rules(self):
        x = np.zeros((6, 3), np.float32)
        w = np.full(6, 1 / 6, np.float32)
        w[4] = 0.5
        panels = layout.panels({"temporal": w, "feature": np.ones((6, 3)) / 3,
                                "time": np.ones((9, 5)), "gate": np.ones(11)}, x)
        kinds = [(p.key, p.kind, p.axis) for p in panels]
        self.assertEqual(kinds, [
            ("attention:temporal", "bars", "step"),
            ("attention:feature", "heatmap", "step"),
            ("attention:time", "heatmap", "window step"),
            ("attention:gate", "bars", "window step"),
            ("input", "heatmap", "step")])
        self.assertEqual(panels[0].peak, (4,))
        self.assertEqual(panels[1].data.shape, (3, 6))
        self.assertEqual(panels[2].row_labels, [f"c{i}" for i in range(5)])
        self.assertEqual(panels[4].marks, [4])
        self.assertEqual(panels[4].scale, "signed")

    def test_without_input(self):
        panels = layout.panels({"temporal": np.ones(5), "time": np.ones(7),
                                "feature": np.ones(3)})
        self.assertEqual([(p.kind, p.axis) for p in panels],
                         [("bars", "step"), ("bars", "window step"), ("bars", "feature")])

    def test_two_features_are_lines_and_names_are_checked(self):
        panels = layout.panels({"temporal": np.ones(4) / 4}, np.zeros((4, 2)),
                               feature_names=["x", "y"])
        self.assertEqual((panels[-1].kind, panels[-1].row_labels), ("lines", ["x", "y"]))
        with self.assertRaisesRegex(ValueError, "3 feature names for 2 features"):
            layout.panels({}, np.zeros((4, 2)), feature_names=["a", "b", "c"])
        with self.assertRaisesRegex(ValueError, r"\[steps, features\]"):
            layout.panels({}, np.zeros(4))

    def test_long_maps_are_drawn_as_an_outline(self):
        from matplotlib.patches import StepPatch
        n = plot.MAX_BARS + 100
        result = attnserve.Result(np.array([0.3, 0.7], np.float32), "b", 1, [],
                                  {"temporal": np.full(n, 1 / n, np.float32)},
                                  attnserve.Timing(0, 0, 1))
        fig = attnserve.plot_attention(result, np.zeros((n, 4)))
        ax = axes_by_label(fig)["attention:temporal"]
        self.assertEqual([type(p) for p in ax.patches], [StepPatch])
        self.assertEqual(fig._suptitle.get_text(), "b p=0.700")


class JsonAndCommandLineTest(unittest.TestCase):
    def attnctl_json(self, model, input_file):
        out = subprocess.run([harness.ARGS.attnctl, "classify", f"--server={SERVER.address}",
                              f"--model={model}", f"--input={input_file}", "--json"],
                             capture_output=True, text=True, timeout=60, check=True)
        return json.loads(out.stdout)

    def test_json_results_equal_the_clients(self):
        samples_file = harness.source("client", "samples", "demo.json")
        doc = self.attnctl_json("demo", samples_file)
        samples = harness.demo_samples()
        results = attnserve.Results.from_json(doc, [s["values"] for s in samples])
        direct = CLIENT.classify([s["values"] for s in samples], "demo")
        self.assertEqual((results.model, results.model_version), ("demo", 1))
        for a, b in zip(results, direct):
            self.assertEqual((a.label, a.label_index), (b.label, b.label_index))
            np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)
            np.testing.assert_allclose(a.attention["temporal"], b.attention["temporal"],
                                       atol=1e-5)
            np.testing.assert_array_equal(a.sequence, b.sequence)
        # proto3 JSON's camelCase names read the same.
        camel = json.loads(json.dumps(doc).replace('"label_index"', '"labelIndex"')
                           .replace('"model_version"', '"modelVersion"'))
        self.assertEqual([r.label_index for r in attnserve.Results.from_json(camel)],
                         [r.label_index for r in results])
        self.assertEqual(attnserve.Results.from_json(camel).model_version, 1)

    def test_command_line_writes_one_picture_per_sequence(self):
        with tempfile.TemporaryDirectory() as tmp:
            samples_file = os.path.join(tmp, "samples.json")
            with open(samples_file, "w") as f:
                json.dump({"sequences": harness.demo_samples()[:3]}, f)
            doc = self.attnctl_json("demo", samples_file)
            response = os.path.join(tmp, "response.json")
            with open(response, "w") as f:
                json.dump(doc, f)
            out = subprocess.run([sys.executable, "-m", "attnserve.plot", response,
                                  "--sequences", samples_file, "-o", os.path.join(tmp, "a.png")],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            n = len(doc["results"])
            paths = [os.path.join(tmp, f"a-{i}.png") for i in range(n)]
            self.assertEqual(out.stdout.splitlines(), [f"attention plot: {p}" for p in paths])
            for p in paths:
                self.assertGreater(imread(p).shape[0], 100)

            # One sequence through standard input, wrapped with its input.
            one = dict(doc, results=doc["results"][:1])
            wrapped = {"response": one, "sequences": [harness.demo_samples()[0]]}
            out = subprocess.run([sys.executable, "-m", "attnserve.plot", "-", "-o",
                                  os.path.join(tmp, "one.png")], input=json.dumps(wrapped),
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout.strip(), f"attention plot: {tmp}/one.png")

            out = subprocess.run([sys.executable, "-m", "attnserve.plot", "-", "-o",
                                  os.path.join(tmp, "bad.png")], input="{nope",
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 1)
            self.assertIn("standard input: invalid JSON", out.stderr)

    def test_output_names(self):
        self.assertEqual(plot.output_paths("x/out.png", 1), ["x/out.png"])
        self.assertEqual(plot.output_paths("x/out.png", 2), ["x/out-0.png", "x/out-1.png"])
        self.assertEqual(plot.output_paths("out", 2), ["out-0.png", "out-1.png"])


if __name__ == "__main__":
    harness.main()
