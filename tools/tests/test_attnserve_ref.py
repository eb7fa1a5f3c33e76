"""Self-tests for tools/attnserve_ref.

Contract: checks the reference against an independent NumPy float64
implementation of the formulas in docs/model-format.md (LSTM gates i, f, g, o;
backward direction from each sequence's own last valid step; masked softmax;
head), that padding never changes a result, the safetensors round trip and its
validation, and the model.json schema checks.

Run: /usr/bin/python3 -m unittest discover -s tools/tests
"""

import os
import struct
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from attnserve_ref import safetensors_io  # noqa: E402
from attnserve_ref.export import load_model, save_model  # noqa: E402
from attnserve_ref.modules import Classifier  # noqa: E402
from attnserve_ref.spec import expected_tensors, normalize_spec  # noqa: E402


def spec_for(D=3, H=5, layers=1, bi=False, attention=(), hidden=(), output="softmax", C=3):
    return {
        "format": "attnserve.model", "format_version": 1,
        "input": {"size": D},
        "encoder": {"type": "lstm", "hidden_size": H, "num_layers": layers,
                    "bidirectional": bi},
        "attention": list(attention),
        "head": {"hidden": list(hidden), "output": output},
        "labels": [f"l{k}" for k in range(C)],
    }


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_forward(spec, w, x):
    """One unpadded sequence x [l, D] -> (outputs [C], attention [l] or None)."""
    enc = spec["encoder"]
    H = enc["hidden_size"]

    def run(seq, suffix):
        h, c, out = np.zeros(H), np.zeros(H), []
        for x_t in seq:
            z = (w["encoder.weight_ih_" + suffix] @ x_t + w["encoder.bias_ih_" + suffix]
                 + w["encoder.weight_hh_" + suffix] @ h + w["encoder.bias_hh_" + suffix])
            i, f, g, o = sigmoid(z[:H]), sigmoid(z[H:2 * H]), np.tanh(z[2 * H:3 * H]), sigmoid(z[3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            out.append(h)
        return np.array(out)

    seq = x
    for k in range(enc["num_layers"]):
        fwd = run(seq, f"l{k}")
        seq = np.concatenate([fwd, run(seq[::-1], f"l{k}_reverse")[::-1]], axis=1) \
            if enc["bidirectional"] else fwd
    Hs, q, v, a = seq, seq[-1], seq[-1], None
    for i, block in enumerate(spec["attention"]):
        p = f"attention.{i}."
        if block["type"] == "feedforward":
            e = np.tanh(Hs @ w[p + "score.weight"][0] + w[p + "score.bias"][0])
        else:
            e = np.tanh(Hs @ w[p + "proj.weight"].T + w[p + "proj.bias"]) @ w[p + "score.weight"][0] \
                + w[p + "score.bias"][0]
        a = np.exp(e - e.max())
        a /= a.sum()
        v = a @ Hs + (q if block.get("residual_last") else 0.0)
    n = len(spec["head"]["hidden"]) + 1
    for j in range(n):
        v = w[f"head.layers.{j}.weight"] @ v + w[f"head.layers.{j}.bias"]
        if j + 1 < n:
            v = np.maximum(v, 0.0)
    if spec["head"]["output"] == "softmax":
        v = np.exp(v - v.max())
        v /= v.sum()
    elif spec["head"]["output"] == "sigmoid":
        v = sigmoid(v)
    return v, a


class ReferenceMath(unittest.TestCase):
    CASES = [
        dict(),
        dict(attention=[{"type": "feedforward"}], hidden=[4]),
        dict(bi=True, attention=[{"type": "additive", "units": 6}], output="sigmoid", C=1),
        dict(layers=2, bi=True, attention=[{"type": "additive", "units": 4,
                                            "residual_last": True}], hidden=[7, 3]),
        dict(layers=2, output="linear", C=2, hidden=[4]),
    ]

    def test_matches_numpy_and_padding_is_neutral(self):
        rng = np.random.default_rng(0)
        for kw in self.CASES:
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                torch.manual_seed(1)
                spec = spec_for(**kw)
                model = Classifier(spec).double().eval()
                for p in model.encoder.parameters():
                    torch.nn.init.uniform_(p, -0.6, 0.6)
                w = {n: t.detach().numpy() for n, t in model.state_dict().items()}
                lengths = np.array([5, 1, 9, 3])
                x = rng.standard_normal((4, 9, 3))
                for b, l in enumerate(lengths):
                    x[b, l:] = 0.0
                with torch.no_grad():
                    out, att = model(torch.from_numpy(x), torch.from_numpy(lengths))
                for b, l in enumerate(lengths):
                    want, want_a = numpy_forward(normalize_spec(spec), w, x[b, :l])
                    np.testing.assert_allclose(out[b].numpy(), want, atol=1e-12)
                    if want_a is None:
                        self.assertIsNone(att)
                    else:
                        np.testing.assert_allclose(att[b, :l].numpy(), want_a, atol=1e-12)
                        self.assertTrue(np.all(att[b, l:].numpy() == 0.0))

    def test_state_dict_names_match_format(self):
        spec = spec_for(layers=2, bi=True, attention=[{"type": "additive", "units": 4}],
                        hidden=[8])
        shapes = {n: tuple(t.shape) for n, t in Classifier(spec).state_dict().items()}
        self.assertEqual(shapes, expected_tensors(spec))


class SafetensorsIo(unittest.TestCase):
    def test_round_trip_all_dtypes(self):
        tensors = {
            "f32": torch.randn(2, 3), "f64": torch.randn(4, dtype=torch.float64),
            "f16": torch.randn(3).half(), "bf16": torch.randn(2, 2).bfloat16(),
            "i32": torch.arange(5, dtype=torch.int32), "i64": torch.arange(3),
            "scalar": torch.tensor(1.5),
        }
        data = safetensors_io.encode(tensors, {"k": "v"})
        (n,) = struct.unpack("<Q", data[:8])
        self.assertEqual(n % 8, 0)
        back, metadata = safetensors_io.decode(data)
        self.assertEqual(metadata, {"k": "v"})
        for name, t in tensors.items():
            self.assertEqual(back[name].dtype, t.dtype)
            self.assertTrue(torch.equal(back[name], t), name)

    def test_rejects_defects(self):
        good = safetensors_io.encode({"a": torch.zeros(2), "b": torch.zeros(3)})
        with self.assertRaisesRegex(ValueError, "trailing"):
            safetensors_io.decode(good + b"\0\0\0\0")
        with self.assertRaisesRegex(ValueError, "exceeds"):
            safetensors_io.decode(struct.pack("<Q", 1 << 40) + good[8:])
        bad = good.replace(b'"F32","shape":[3]', b'"F32","shape":[4]')
        with self.assertRaisesRegex(ValueError, "'b'"):
            safetensors_io.decode(bad)


class SchemaAndExport(unittest.TestCase):
    def test_schema_errors_name_the_field(self):
        for mutate, field in [
            (lambda s: s["encoder"].update(recurrent_activation="hard_sigmoid"),
             "encoder.recurrent_activation"),
            (lambda s: s["head"].update(extra=1), "head.extra: unknown field"),
            (lambda s: s["encoder"].update(num_layers=1025), "encoder.num_layers"),
            (lambda s: s.update(attention=[{"type": "feedforward", "residual_last": True}]),
             r"attention\[0\].residual_last"),
            (lambda s: s.update(labels=["only"]), "labels"),
            (lambda s: s["input"].update(size=0), "input.size"),
        ]:
            spec = spec_for()
            mutate(spec)
            with self.assertRaisesRegex(ValueError, "model.json: " + field):
                normalize_spec(spec)

    def test_save_and_load(self):
        spec = spec_for(bi=True, attention=[{"type": "feedforward"}])
        model = Classifier(spec).eval()
        with tempfile.TemporaryDirectory() as d:
            save_model(model, spec, d)
            loaded = load_model(d)
        x, lengths = torch.randn(2, 4, 3), torch.tensor([4, 2])
        self.assertTrue(torch.equal(model(x, lengths)[0], loaded(x, lengths)[0]))


if __name__ == "__main__":
    unittest.main()
