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
from attnserve_ref.modules import Classifier, apply_window  # noqa: E402
from attnserve_ref.spec import QUERY_TYPES, expected_tensors, normalize_spec  # noqa: E402


def spec_for(D=3, H=5, layers=1, bi=False, attention=(), hidden=(), output="softmax", C=3,
             gate=False, recurrent="sigmoid", cell="tanh"):
    return {
        "format": "attnserve.model", "format_version": 1,
        "input": {"size": D},
        "encoder": {"type": "lstm", "hidden_size": H, "num_layers": layers,
                    "bidirectional": bi, "recurrent_activation": recurrent,
                    "activation": cell},
        "attention": [dict(b) for b in attention],
        "head": {"gate": gate, "hidden": list(hidden), "output": output},
        "labels": [f"l{k}" for k in range(C)],
    }


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# The LSTM activations as documented (docs/model-format.md).
NUMPY_RECURRENT = {
    "sigmoid": sigmoid,
    "hard_sigmoid": lambda z: np.clip(0.2 * z + 0.5, 0.0, 1.0),
    "hard_sigmoid_keras3": lambda z: np.minimum(np.maximum(z + 3.0, 0.0), 6.0) / 6.0,
}
NUMPY_CELL = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "linear": lambda z: z}


def softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def numpy_window(x, block):
    """Pads or truncates one sequence [l, D] (or token ids [l]) to the block's window."""
    window = block["window"]
    if len(x) > window:
        x = x[len(x) - window:] if block["truncate"] == "pre" else x[:window]
    fill = np.full((window - len(x),) + x.shape[1:], block["pad_value"], dtype=x.dtype)
    return np.concatenate([fill, x] if block["pad"] == "pre" else [x, fill])


def numpy_time_dense(z, weight, bias, single_vector):
    """attention_3d_block on z [T, k] -> (z * A, A [T, k] or a [T])."""
    A = softmax(weight @ z + bias[:, None], axis=0)  # softmax over t, per channel
    if single_vector:
        a = A.mean(axis=1)
        return z * a[:, None], a
    return z * A, A


def numpy_query_attention(block, p, w, Hs, q):
    """The query-based scores, pooling and output mode on one sequence."""
    kind, l = block["type"], len(Hs)
    if kind == "dot":
        e = Hs @ q
    elif kind == "general":
        e = (Hs @ w[p + "proj.weight"].T) @ q
    elif kind == "general_tanh":
        e = np.tanh(Hs @ w[p + "proj.weight"].T + w[p + "proj.bias"]) @ q
    elif kind == "cosine":
        norms = np.maximum(np.linalg.norm(Hs, axis=1), 1e-8)
        e = (Hs @ q) / (max(np.linalg.norm(q), 1e-8) * norms)
    else:
        hidden = np.tanh(w[p + "query_proj.weight"] @ q + Hs @ w[p + "proj.weight"].T)
        e = hidden @ w[p + "score.weight"][0]
    if block.get("score_mix"):
        e = w[p + "mix.weight"] @ e + w[p + "mix.bias"]
    kept = l - 1 if block["exclude_query_step"] else l
    a = np.zeros(l)
    if kept > 0:
        a[:kept] = softmax(e[:kept], axis=0)
    c = a @ Hs
    if block["output"] == "context_plus_query":
        return c + q, a
    if block["output"] == "luong":
        return np.tanh(w[p + "combine.weight"] @ np.concatenate([c, q])), a
    return c, a


def numpy_head(spec, w, v, maps):
    """The head on one vector v: dense layers, the gate after gate_after of them, output."""
    n = len(spec["head"]["hidden"]) + 1
    for j in range(n):
        if spec["head"]["gate"] and j == spec["head"].get("gate_after", 0):
            g = sigmoid(w["head.gate.weight"] @ v + w["head.gate.bias"])
            v, maps["gate"] = v * g, g
        v = w[f"head.layers.{j}.weight"] @ v + w[f"head.layers.{j}.bias"]
        if j + 1 < n:
            v = np.maximum(v, 0.0)
    if spec["head"]["output"] == "softmax":
        v = softmax(v, axis=0)
    elif spec["head"]["output"] == "sigmoid":
        v = sigmoid(v)
    return v, maps


def numpy_forward(spec, w, x):
    """One unpadded sequence x [l, D] (token ids [l] with an embedding) ->
    (outputs [C], {map name: attention weights})."""
    spec = normalize_spec(spec)
    maps = {}
    blocks = [(f"attention.{i}.", b) for i, b in enumerate(spec["attention"])]
    for p, block in blocks:
        if block["type"] == "time_dense" or block.get("score_mix"):
            x = numpy_window(x, block)
    if "embedding" in spec["input"]:
        x = w["embedding.weight"][x]
    if "encoder" not in spec:
        return numpy_head(spec, w, x[0], maps)
    enc = spec["encoder"]
    H = enc["hidden_size"]
    for p, block in blocks:
        if block["type"] == "feature":
            b = softmax(x @ w[p + "score.weight"].T + w[p + "score.bias"], axis=1)
            weights = b.mean(axis=0) if block["single_vector"] else b
            x, maps["feature"] = x * weights, weights
        elif block["type"] == "time_dense" and block["placement"] == "before_lstm":
            x, maps["time"] = numpy_time_dense(x, w[p + "score.weight"], w[p + "score.bias"],
                                               block["single_vector"])

    gate, act = NUMPY_RECURRENT[enc["recurrent_activation"]], NUMPY_CELL[enc["activation"]]

    def run(seq, suffix):
        h, c, out = np.zeros(H), np.zeros(H), []
        for x_t in seq:
            z = (w["encoder.weight_ih_" + suffix] @ x_t + w["encoder.bias_ih_" + suffix]
                 + w["encoder.weight_hh_" + suffix] @ h + w["encoder.bias_hh_" + suffix])
            i, f, g, o = gate(z[:H]), gate(z[H:2 * H]), act(z[2 * H:3 * H]), gate(z[3 * H:])
            c = f * c + i * g
            h = o * act(c)
            out.append(h)
        return np.array(out)

    seq = x
    for k in range(enc["num_layers"]):
        fwd = run(seq, f"l{k}")
        seq = np.concatenate([fwd, run(seq[::-1], f"l{k}_reverse")[::-1]], axis=1) \
            if enc["bidirectional"] else fwd
    Hs, q = seq, seq[-1]
    v = q
    for p, block in blocks:
        kind = block["type"]
        if kind == "feedforward":
            e = np.tanh(Hs @ w[p + "score.weight"][0] + w[p + "score.bias"][0])
        elif kind == "additive":
            e = np.tanh(Hs @ w[p + "proj.weight"].T + w[p + "proj.bias"]) @ w[p + "score.weight"][0] \
                + w[p + "score.bias"][0]
        elif kind == "time_dense" and block["placement"] == "after_lstm":
            out, maps["time"] = numpy_time_dense(Hs, w[p + "score.weight"], w[p + "score.bias"],
                                                 block["single_vector"])
            v = out.reshape(-1)
            continue
        elif kind in QUERY_TYPES:
            v, maps["temporal"] = numpy_query_attention(block, p, w, Hs, q)
            continue
        else:
            continue
        a = softmax(e, axis=0)
        v, maps["temporal"] = a @ Hs + (q if block.get("residual_last") else 0.0), a
    return numpy_head(spec, w, v, maps)


def time_dense(window, placement, **options):
    return dict(type="time_dense", window=window, placement=placement, **options)


class ReferenceMath(unittest.TestCase):
    CASES = [
        dict(),
        dict(attention=[{"type": "feedforward"}], hidden=[4]),
        dict(bi=True, attention=[{"type": "additive", "units": 6}], output="sigmoid", C=1),
        dict(layers=2, bi=True, attention=[{"type": "additive", "units": 4,
                                            "residual_last": True}], hidden=[7, 3]),
        dict(layers=2, output="linear", C=2, hidden=[4]),
        dict(attention=[{"type": "dot"}]),
        dict(bi=True, attention=[{"type": "general", "output": "luong", "units": 3}]),
        dict(attention=[{"type": "general_tanh", "exclude_query_step": True}]),
        dict(layers=2, attention=[{"type": "cosine", "output": "context_plus_query",
                                   "exclude_query_step": True}]),
        dict(bi=True, attention=[{"type": "bahdanau", "output": "luong", "units": 4,
                                  "exclude_query_step": True}], gate=True),
        dict(attention=[{"type": "feature"}, {"type": "dot", "output": "luong", "units": 2}]),
        dict(bi=True, attention=[{"type": "feature", "single_vector": True}]),
        dict(attention=[time_dense(9, "after_lstm")], gate=True, hidden=[5]),
        dict(bi=True, attention=[time_dense(9, "after_lstm", single_vector=True, pad="post",
                                            pad_value=-1.0)]),
        dict(attention=[time_dense(6, "before_lstm", truncate="pre"),
                        {"type": "additive", "units": 3}]),
        dict(layers=2, attention=[time_dense(7, "before_lstm", single_vector=True,
                                             truncate="post", pad="post")]),
        dict(attention=[{"type": "feature", "single_vector": True},
                        time_dense(9, "after_lstm", pad_value=0.5)]),
        dict(recurrent="hard_sigmoid", attention=[{"type": "additive", "units": 4}]),
        dict(bi=True, recurrent="hard_sigmoid_keras3", cell="relu",
             attention=[{"type": "feedforward"}]),
        dict(layers=2, bi=True, recurrent="hard_sigmoid", cell="linear", hidden=[4]),
        dict(layers=2, cell="relu", attention=[{"type": "dot", "output": "luong", "units": 3}]),
        dict(bi=True, recurrent="hard_sigmoid_keras3",
             attention=[time_dense(9, "after_lstm", single_vector=True)]),
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
                    out, maps = model(torch.from_numpy(x), torch.from_numpy(lengths))
                for b, l in enumerate(lengths):
                    want, want_maps = numpy_forward(spec, w, x[b, :l])
                    np.testing.assert_allclose(out[b].numpy(), want, atol=1e-12)
                    self.assertEqual(list(maps), list(want_maps))
                    for name, weights in want_maps.items():
                        got = maps[name][b].numpy()
                        if name != "time" and weights.shape[0] < got.shape[0]:
                            self.assertTrue(np.all(got[len(weights):] == 0.0))  # beyond l
                            got = got[:len(weights)]
                        np.testing.assert_allclose(got, weights, atol=1e-12)

    # The model format's extensions: embeddings, no LSTM, the gate after a dense
    # layer, Bahdanau's attention size, score_mix over a window.
    EXTENSIONS = [
        ("embedding", dict(input={"embedding": {"vocab": 11, "dim": 4}},
                           attention=[{"type": "feedforward"}])),
        ("embedding_window", dict(input={"embedding": {"vocab": 11, "dim": 3}},
                                  attention=[time_dense(9, "after_lstm", pad_value=2)])),
        ("no_encoder", dict(input={"size": 6}, encoder=None, attention=[],
                            head={"gate": True, "gate_after": 1, "hidden": [5],
                                  "output": "softmax"})),
        ("gate_after", dict(attention=[{"type": "additive", "units": 3}],
                            head={"gate": True, "gate_after": 2, "hidden": [5, 4],
                                  "output": "softmax"})),
        ("bahdanau_size", dict(attention=[{"type": "bahdanau", "attention_size": 7,
                                           "output": "context_plus_query"}])),
        ("score_mix", dict(attention=[{"type": "general_tanh", "output": "context_plus_query",
                                       "score_mix": True, "window": 8, "truncate": "pre"}])),
        ("score_mix_post", dict(input={"embedding": {"vocab": 11, "dim": 3}},
                                attention=[{"type": "dot", "score_mix": True, "window": 9,
                                            "pad": "post", "pad_value": 1}])),
    ]

    def test_extensions_match_numpy(self):
        rng = np.random.default_rng(1)
        for name, changes in self.EXTENSIONS:
            with self.subTest(name):
                torch.manual_seed(2)
                spec = spec_for()
                for key, value in changes.items():
                    if value is None:
                        del spec[key]
                    else:
                        spec[key] = value
                model = Classifier(spec).double().eval()
                w = {n: t.detach().numpy() for n, t in model.state_dict().items()}
                self.assertEqual({n: tuple(t.shape) for n, t in model.state_dict().items()},
                                 expected_tensors(spec))
                lengths = np.array([1, 1, 1]) if "encoder" not in spec else np.array([5, 1, 9])
                if "embedding" in spec["input"]:
                    x = rng.integers(0, 11, size=(3, 9))
                    x[lengths[:, None] <= np.arange(9)] = 0
                    tx = torch.from_numpy(x)
                else:
                    x = rng.standard_normal((3, int(lengths.max()), spec["input"]["size"]))
                    tx = torch.from_numpy(x)
                with torch.no_grad():
                    out, maps = model(tx, torch.from_numpy(lengths))
                for b, l in enumerate(lengths):
                    want, want_maps = numpy_forward(spec, w, x[b, :l])
                    np.testing.assert_allclose(out[b].numpy(), want, atol=1e-12)
                    self.assertEqual(list(maps), list(want_maps))
                    for map_name, weights in want_maps.items():
                        got = maps[map_name][b].numpy()
                        if map_name == "temporal" and weights.shape[0] < got.shape[0]:
                            self.assertTrue(np.all(got[len(weights):] == 0.0))
                            got = got[:len(weights)]
                        np.testing.assert_allclose(got, weights, atol=1e-12)

    def test_step_by_step_lstm_equals_nn_lstm(self):
        """The step-by-step path (other activations) is nn.LSTM's with sigmoid and tanh."""
        torch.manual_seed(3)
        spec = spec_for(D=4, H=6, layers=2, bi=True)
        model = Classifier(spec).double().eval()
        lengths = torch.tensor([7, 2, 5])
        x = torch.randn(3, 7, 4, dtype=torch.float64)
        with torch.no_grad():
            packed, _ = model.encoder(x, lengths)
            stepped = model.encoder._steps(x, lengths)
        np.testing.assert_allclose(stepped.numpy(), packed.numpy(), atol=1e-12)

    def test_state_dict_names_match_format(self):
        for kw in self.CASES:
            spec = spec_for(**kw)
            shapes = {n: tuple(t.shape) for n, t in Classifier(spec).state_dict().items()}
            self.assertEqual(shapes, expected_tensors(spec))

    def test_window_pads_and_truncates(self):
        block = normalize_spec(spec_for(attention=[time_dense(3, "before_lstm", truncate="pre",
                                                              pad_value=7.0)]))["attention"][0]
        x = torch.arange(8.0).reshape(1, 4, 2)
        windowed, lengths = apply_window(x, torch.tensor([4]), block)
        self.assertEqual(windowed[0].tolist(), [[2, 3], [4, 5], [6, 7]])  # keeps the last 3
        windowed, _ = apply_window(x, torch.tensor([1]), block)
        self.assertEqual(windowed[0].tolist(), [[7, 7], [7, 7], [0, 1]])  # pre-padded
        self.assertEqual(lengths.tolist(), [3])


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
            (lambda s: s["encoder"].update(recurrent_activation="softsign"),
             "encoder.recurrent_activation: 'softsign' is not one of"),
            (lambda s: s["encoder"].update(activation="selu"), "encoder.activation"),
            (lambda s: s["head"].update(extra=1), "head.extra: unknown field"),
            (lambda s: s["encoder"].update(num_layers=1025), "encoder.num_layers"),
            (lambda s: s.update(attention=[{"type": "feedforward", "residual_last": True}]),
             r"attention\[0\].residual_last"),
            (lambda s: s.update(labels=["only"]), "labels"),
            (lambda s: s["input"].update(size=0), "input.size"),
            (lambda s: s.update(attention=[{"type": "additive", "units": 2,
                                            "exclude_query_step": True}]),
             r"attention\[0\].exclude_query_step: 'additive' attention does not take"),
            (lambda s: s.update(attention=[{"type": "feedforward", "output": "luong"}]),
             r"attention\[0\].output: 'feedforward' attention does not take"),
            (lambda s: s.update(attention=[{"type": "dot", "units": 3}]),
             r"attention\[0\].units: only the 'luong' output"),
            (lambda s: s.update(attention=[{"type": "dot", "output": "luong"}]),
             r"attention\[0\].units: is required"),
            (lambda s: s.update(attention=[time_dense(4, "after_lstm"), {"type": "dot"}]),
             r"attention\[1\]: time_dense after the LSTM cannot be combined"),
            (lambda s: s.update(attention=[{"type": "feature"}, time_dense(4, "before_lstm")]),
             r"attention\[1\]: feature attention and time_dense"),
            (lambda s: s.update(attention=[{"type": "dot"}, {"type": "feature"}]),
             r"attention\[1\]: runs before the LSTM"),
            (lambda s: (s["input"].update(max_length=5),
                        s.update(attention=[time_dense(4, "after_lstm")])),
             "input.max_length: differs from attention"),
            (lambda s: s["head"].update(gate="yes"), "head.gate"),
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
