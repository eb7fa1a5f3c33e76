#!/usr/bin/python3
"""Unit tests of tools/attnserve-import (tools/keras_import).

Contract: every recipe fixture under tests/fixtures/keras imports from its
three containers (TensorFlow.js model.json, Keras .h5, Keras 3 .keras where
written) to the same model.json and the same tensors; each recipe is
recognized as the attnserve model it is; variants it cannot serve exactly are
refused naming the layer and the reason, with exit status 2 and nothing
written. The numbers themselves are checked through the server by
keras_parity_test.py. Needs numpy and h5py (Debian's python3-h5py).

Run: /usr/bin/python3 -m unittest discover -s tests/keras -p 'keras_import_test.py'
"""

import contextlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "keras")
IMPORT = os.path.join(REPO, "tools", "attnserve-import")
sys.path.insert(0, os.path.join(REPO, "tools"))
from keras_import.containers import read_model  # noqa: E402
from keras_import.graph import Refusal  # noqa: E402
from keras_import.matcher import match  # noqa: E402

RECIPES = sorted(d for d in os.listdir(FIXTURES) if os.path.isdir(os.path.join(FIXTURES, d)))

# What each recipe must import as: (encoder summary, attention blocks, head).
EXPECTED = {
    "r1_embedding_feedforward": ("lstm 1x16", [{"type": "feedforward"}], {"hidden": [],
                                                                           "output": "softmax"}),
    "r2_dense_gate": (None, [], {"hidden": [8], "output": "softmax", "gate": True,
                                 "gate_after": 1}),
    "r3_time_after_lstm_single": ("lstm 1x6", [{"type": "time_dense", "window": 9,
                                                "placement": "after_lstm",
                                                "single_vector": True}],
                                  {"hidden": [], "output": "sigmoid"}),
    "r3_time_after_lstm_per_channel": ("lstm 1x6", [{"type": "time_dense", "window": 9,
                                                     "placement": "after_lstm",
                                                     "single_vector": False}],
                                       {"hidden": [], "output": "sigmoid"}),
    "r3_time_before_lstm_single": ("lstm 1x7", [{"type": "time_dense", "window": 8,
                                                 "placement": "before_lstm",
                                                 "single_vector": True}],
                                   {"hidden": [], "output": "sigmoid"}),
    "r4_feature_lstm": ("lstm 1x8", [{"type": "feature"}], {"hidden": [], "output": "softmax"}),
    "r4_feature_then_time_after": ("lstm 1x5", [{"type": "feature"},
                                                {"type": "time_dense", "window": 7,
                                                 "placement": "after_lstm",
                                                 "single_vector": True}],
                                   {"hidden": [], "output": "softmax"}),
    "r5_keras_attention_luong": ("lstm 1x5 bi", [{"type": "general", "output": "luong",
                                                  "units": 7}],
                                 {"hidden": [], "output": "softmax"}),
    "r5_keras_attention_bahdanau": ("lstm 1x5 bi", [{"type": "bahdanau", "output": "luong",
                                                     "units": 7}],
                                    {"hidden": [], "output": "softmax"}),
    "r6_temporal_over_8_states": ("lstm 1x6", [{"type": "general_tanh", "score_mix": True,
                                                "window": 8, "output": "context_plus_query"}],
                                  {"hidden": [], "output": "softmax"}),
    "r7_han_residual": ("lstm 1x8", [{"type": "additive", "units": 5, "residual_last": True}],
                        {"hidden": [], "output": "softmax"}),
    "r8_hard_sigmoid_bi_stacked": ("lstm 2x4 bi hard_sigmoid", [{"type": "feedforward"}],
                                   {"hidden": [], "output": "softmax"}),
    "r8_hard_sigmoid_last_state": ("lstm 1x6 hard_sigmoid", [], {"hidden": [],
                                                                 "output": "sigmoid"}),
}


def summary(spec):
    enc = spec.get("encoder")
    if enc is None:
        return None
    text = f"lstm {enc['num_layers']}x{enc['hidden_size']}" + (" bi" if enc["bidirectional"]
                                                               else "")
    if enc["recurrent_activation"] != "sigmoid":
        text += " " + enc["recurrent_activation"]
    return text


def containers(recipe):
    return [f for f in ("model.json", "model.h5", "model.keras")
            if os.path.exists(os.path.join(FIXTURES, recipe, f))]


class ImportsEveryRecipe(unittest.TestCase):
    def test_expected_covers_the_fixtures(self):
        self.assertEqual(sorted(EXPECTED), RECIPES)

    def test_each_container_gives_the_same_model(self):
        for recipe in RECIPES:
            first = None
            for container in containers(recipe):
                with self.subTest(recipe=recipe, container=container):
                    imported = match(read_model(os.path.join(FIXTURES, recipe, container)))
                    encoder, blocks, head = EXPECTED[recipe]
                    self.assertEqual(summary(imported.spec), encoder)
                    self.assertEqual(imported.spec.get("attention", []), blocks)
                    self.assertEqual(imported.spec["head"], head)
                    self.assertTrue(imported.recognized)
                    if first is None:
                        first = imported
                        continue
                    self.assertEqual(imported.spec["attention" if "attention" in
                                                   imported.spec else "head"],
                                     first.spec["attention" if "attention" in
                                                first.spec else "head"])
                    self.assertEqual(sorted(imported.tensors), sorted(first.tensors))
                    for name, value in imported.tensors.items():
                        np.testing.assert_array_equal(value, first.tensors[name], err_msg=name)

    def test_every_lambda_is_an_assumption(self):
        for recipe in RECIPES:
            with open(os.path.join(FIXTURES, recipe, "model.json")) as f:
                config = json.load(f)
            lambdas = [l["name"] for l in config["modelTopology"]["config"]["layers"]
                       if l["class_name"] == "Lambda"]
            imported = match(read_model(os.path.join(FIXTURES, recipe, "model.json")))
            for name in lambdas:
                self.assertTrue(any(f"layer {name!r} (Lambda" in a for a in imported.assumptions),
                                (recipe, name, imported.assumptions))

    def test_hard_sigmoid_follows_the_keras_version(self):
        path = os.path.join(FIXTURES, "r8_hard_sigmoid_last_state", "model.h5")
        model = read_model(path)
        self.assertEqual(match(model).spec["encoder"]["recurrent_activation"], "hard_sigmoid")
        model.keras_version = "3.3.3"
        self.assertEqual(match(model).spec["encoder"]["recurrent_activation"],
                         "hard_sigmoid_keras3")


def tfjs_copy(recipe, edit):
    """A temporary copy of a recipe's TF.js model with `edit(layers by name)` applied."""
    directory = tempfile.mkdtemp()
    for name in ("model.json", "weights.bin"):
        shutil.copy(os.path.join(FIXTURES, recipe, name), directory)
    path = os.path.join(directory, "model.json")
    with open(path) as f:
        model = json.load(f)
    edit({l["name"]: l for l in model["modelTopology"]["config"]["layers"]})
    with open(path, "w") as f:
        json.dump(model, f)
    return path


class RefusesWhatItCannotServe(unittest.TestCase):
    CASES = [
        ("r1_embedding_feedforward", lambda L: L["embedding"]["config"].update(mask_zero=True),
         "embedding", "mask_zero=True is not served"),
        ("r5_keras_attention_luong",
         lambda L: L["bidirectional"]["config"].update(merge_mode="sum"),
         "bidirectional", "merge_mode 'sum'"),
        ("r8_hard_sigmoid_last_state", lambda L: L["lstm"].update(class_name="GRU"),
         "lstm", "GRU is not an LSTM"),
        ("r8_hard_sigmoid_last_state",
         lambda L: L["lstm"]["config"].update(recurrent_activation="softsign"),
         "lstm", "recurrent_activation 'softsign' is not served"),
        ("r8_hard_sigmoid_last_state", lambda L: L["lstm"]["config"].update(go_backwards=True),
         "lstm", "go_backwards=True is not served"),
        ("r1_embedding_feedforward",
         lambda L: L["attention_score"]["config"].update(activation="relu"),
         "attention_score", "feed-forward scores are Dense(1, tanh)"),
        ("r2_dense_gate", lambda L: L["output"]["config"].update(activation="tanh"),
         "output", "the output activation 'tanh' is not served"),
        ("r2_dense_gate", lambda L: L["dense"]["config"].update(activation="tanh"),
         "dense", "hidden Dense layers of the head use relu"),
        ("r4_feature_lstm", lambda L: L["lstm"].update(class_name="Conv1D"),
         "lstm", "Conv1D is not an LSTM"),
        ("r6_temporal_over_8_states",
         lambda L: L["attention_weight"]["config"].update(activation="relu"),
         "attention_weight", "Dense(T, softmax)"),
    ]

    def test_refusals_name_the_layer_and_the_reason(self):
        for recipe, edit, layer, reason in self.CASES:
            with self.subTest(recipe=recipe, layer=layer, reason=reason):
                path = tfjs_copy(recipe, edit)
                with self.assertRaises(Refusal) as raised:
                    match(read_model(path))
                self.assertEqual(raised.exception.layer, layer)
                self.assertIn(reason, str(raised.exception))

    def test_bidirectional_without_sequences_is_refused(self):
        def edit(L):
            L["bidirectional"]["config"]["layer"]["config"]["return_sequences"] = False
        path = tfjs_copy("r5_keras_attention_luong", edit)
        with self.assertRaises(Refusal) as raised:
            match(read_model(path))
        self.assertIn("return_sequences=False", str(raised.exception))

    def test_cli_refusal_writes_nothing(self):
        path = tfjs_copy("r1_embedding_feedforward",
                         lambda L: L["embedding"]["config"].update(mask_zero=True))
        out = os.path.join(tempfile.mkdtemp(), "repo", "m", "1")
        run = subprocess.run([sys.executable, IMPORT, "keras", path, "--out", out],
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("refused: layer 'embedding': mask_zero=True", run.stderr)
        self.assertFalse(os.path.exists(os.path.dirname(os.path.dirname(out))))


class WritesAVersion(unittest.TestCase):
    def test_cli_writes_model_json_weights_and_labels(self):
        out = os.path.join(tempfile.mkdtemp(), "m", "1")
        path = os.path.join(FIXTURES, "r7_han_residual", "model.h5")
        run = subprocess.run([sys.executable, IMPORT, "keras", path, "--out", out,
                              "--labels", "neg,pos"], capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("recognized:", run.stdout)
        self.assertIn("assumptions:", run.stdout)
        spec = json.load(open(os.path.join(out, "model.json")))
        self.assertEqual(spec["labels"], ["neg", "pos"])
        self.assertEqual(spec["attention"], [{"type": "additive", "units": 5,
                                              "residual_last": True}])
        with open(os.path.join(out, "weights.safetensors"), "rb") as f:
            data = f.read()
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + n])
        self.assertEqual(header["__metadata__"], {"producer": "attnserve-import keras"})
        self.assertEqual(header["attention.0.proj.weight"]["shape"], [5, 8])
        self.assertEqual(header["encoder.weight_ih_l0"]["shape"], [32, 4])
        # An existing version is not replaced without --force; labels must fit.
        again = subprocess.run([sys.executable, IMPORT, "keras", path, "--out", out],
                               capture_output=True, text=True)
        self.assertEqual(again.returncode, 1)
        self.assertIn("exists", again.stderr)
        wrong = subprocess.run([sys.executable, IMPORT, "keras", path, "--out", out, "--force",
                                "--labels", "a,b,c"], capture_output=True, text=True)
        self.assertIn("3 labels given; the model has 2 outputs", wrong.stderr)


if __name__ == "__main__":
    unittest.main()
