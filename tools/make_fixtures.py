#!/usr/bin/python3
"""Generates the golden parity fixtures under tests/fixtures/parity/<name>/.

Contract: each fixture directory is a model version directory (model.json +
weights.safetensors, F32) plus cases.safetensors with
  inputs               F32 [B, Tmax, D]  right-padded, zero beyond each length
  ids                  I64 [B, Tmax]     instead of inputs for a token-id model
  lengths              I32 [B]           1 <= l <= Tmax; one is 1, one is exactly Tmax
  probabilities        F32 [B, C]        head output (raw values for "linear")
  attention.<name>     F32 [B, ...]      one per attention map the model returns:
      temporal [B, S], feature [B, S, D] or [B, D], time [B, W, k] or [B, W]
      (S = Tmax, or the window W of a time_dense model); zero beyond each length
The expected values come from the float32 weights and inputs, computed in
float64 with each sequence run alone (unpadded, batch of 1), then rounded to f32.
The script asserts that the padded float64 batch matches the per-sequence results
to 1e-6 and that PyTorch's own float32 padded batch is within 1e-5 of them.
Everything is seeded from the fixture name: reruns produce identical bytes.

Run: /usr/bin/python3 tools/make_fixtures.py [--out DIR]
"""

import argparse
import copy
import os
import sys
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attnserve_ref import safetensors_io  # noqa: E402
from attnserve_ref.export import save_model  # noqa: E402
from attnserve_ref.modules import Classifier  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "parity")
MAX_TOTAL_BYTES = 5 * 1024 * 1024
ATTENTION_GAIN = 4.0
HEAD_GAIN = 2.0

# name: (layers, bidirectional, D, H, C, attention, head hidden, output, Tmax, B, extra)
# attention: None | "ff" | ("add", units, residual_last or None to omit the key) |
#            a list of model.json attention blocks
# extra: "minimal" writes only required model.json keys; "max_length" an int or None;
#        "gate" adds head.gate; "recurrent_activation" and "activation" set the LSTM's
#        (default sigmoid and tanh); "embedding" (vocab, dim) makes a token-id model;
#        "no_encoder" a model without an LSTM (one step of D values); "gate_after" j.
FAMILIES = [
    ("uni1_none_d1_h8_c2_softmax", 1, False, 1, 8, 2, None, [], "softmax", 12, 6,
     {"minimal": True}),
    ("uni1_ff_d8_h16_c3_softmax", 1, False, 8, 16, 3, "ff", [16], "softmax", 20, 8, {}),
    ("uni1_add_d4_h32_c4_softmax", 1, False, 4, 32, 4, ("add", 16, False), [32], "softmax",
     40, 8, {"max_length": 40}),
    ("uni1_addres_d16_h64_c5_softmax", 1, False, 16, 64, 5, ("add", 32, True), [32, 16],
     "softmax", 32, 9, {}),
    ("uni1_ff_d2_h128_c10_softmax", 1, False, 2, 128, 10, "ff", [64], "softmax", 24, 7, {}),
    ("uni1_add_d5_h48_c1_linear", 1, False, 5, 48, 1, ("add", 8, False), [24], "linear",
     16, 6, {}),
    ("uni2_add_d32_h32_c6_softmax", 2, False, 32, 32, 6, ("add", 24, None), [], "softmax",
     28, 8, {"max_length": None}),
    ("uni2_ff_d3_h20_c2_linear", 2, False, 3, 20, 2, "ff", [16, 8], "linear", 18, 7, {}),
    ("bi1_ff_d8_h16_c2_softmax", 1, True, 8, 16, 2, "ff", [], "softmax", 15, 6, {}),
    ("bi1_add_d64_h24_c3_sigmoid", 1, True, 64, 24, 3, ("add", 12, False), [16], "sigmoid",
     30, 8, {}),
    ("bi1_none_d10_h40_c8_softmax", 1, True, 10, 40, 8, None, [64, 32], "softmax", 22, 7, {}),
    ("bi2_addres_d12_h32_c4_softmax", 2, True, 12, 32, 4, ("add", 16, True), [24], "softmax",
     36, 9, {}),
    ("bi2_none_d6_h16_c1_sigmoid", 2, True, 6, 16, 1, None, [8], "sigmoid", 14, 6, {}),
    ("bi2_ff_d20_h24_c7_softmax", 2, True, 20, 24, 7, "ff", [32, 16], "softmax", 40, 8, {}),
]



def _catalog_families():
    """The catalog entries of docs/attention.md, each option combination once.

    Query-based scores x output modes x exclude_query_step, cycling through uni/bi and
    1/2 layers; time_dense in both placements with every padding and truncation
    option; feature attention alone and with temporal blocks; the head gate.
    """
    families = []
    encoders = [("uni1", 1, False), ("bi1", 1, True), ("uni2", 2, False), ("bi2", 2, True)]
    modes = [("ctx", "context"), ("ctxq", "context_plus_query"), ("luong", "luong")]
    outputs = [("softmax", 3), ("sigmoid", 1), ("softmax", 2), ("linear", 2)]
    kinds = ["dot", "general", "general_tanh", "cosine", "bahdanau"]
    idx = 0
    for kind in kinds:
        for short, mode in modes:
            for exclude in (False, True):
                enc, layers, bi = encoders[idx % 4]
                block = {"type": kind}
                if mode != "context" or idx % 3 == 0:
                    block["output"] = mode
                if mode == "luong":
                    block["units"] = 6 + idx % 5
                if exclude or idx % 4 == 1:
                    block["exclude_query_step"] = exclude
                output, C = outputs[idx % 4]
                name = f"{enc}_{kind}_{short}" + ("_excl" if exclude else "")
                families.append((name, layers, bi, 3 + idx % 4, 8 + 4 * (idx % 3), C, [block],
                                 [8] if idx % 2 else [], output, 9 + idx % 6, 6, {}))
                idx += 1

    def td(window, placement, **options):
        return dict(type="time_dense", window=window, placement=placement, **options)

    # (name, layers, bi, D, H, C, blocks, hidden, output, Tmax, B, extra)
    families += [
        ("uni1_td_after", 1, False, 4, 8, 3, [td(8, "after_lstm")], [8], "softmax", 8, 7, {}),
        ("bi1_td_after_sv_post_truncpost", 1, True, 3, 6, 2,
         [td(7, "after_lstm", single_vector=True, pad="post", pad_value=-1.0,
             truncate="post")], [], "softmax", 11, 7, {}),
        ("uni2_td_after_truncpre_gate", 2, False, 3, 8, 2,
         [td(6, "after_lstm", truncate="pre")], [8], "sigmoid", 10, 7, {"gate": True}),
        ("bi2_td_after_sv", 2, True, 2, 6, 3, [td(9, "after_lstm", single_vector=True)], [],
         "linear", 9, 6, {"max_length": 9}),
        ("bi2_td_before_post", 2, True, 4, 8, 3, [td(8, "before_lstm", pad="post")], [],
         "softmax", 8, 7, {}),
        ("uni1_td_before_sv_truncpost", 1, False, 5, 12, 2,
         [td(6, "before_lstm", single_vector=True, pad_value=0.5, truncate="post")], [8],
         "softmax", 10, 7, {"max_length": 64}),
        ("bi1_td_before_truncpre_general_luong", 1, True, 3, 8, 4,
         [td(7, "before_lstm", truncate="pre"), {"type": "general", "output": "luong",
                                                 "units": 6}], [], "softmax", 12, 7, {}),
        ("uni2_td_before_sv_bahdanau_ctxq_excl", 2, False, 4, 8, 2,
         [td(8, "before_lstm", single_vector=True, pad="post", pad_value=-0.5),
          {"type": "bahdanau", "output": "context_plus_query", "exclude_query_step": True}],
         [6], "softmax", 8, 6, {}),
        ("uni1_td_before_additive_res", 1, False, 3, 10, 3,
         [td(9, "before_lstm"), {"type": "additive", "units": 6, "residual_last": True}], [],
         "softmax", 9, 6, {}),
        ("uni1_feature", 1, False, 5, 8, 3, [{"type": "feature"}], [], "softmax", 10, 7, {}),
        ("bi1_feature_sv", 1, True, 4, 8, 2, [{"type": "feature", "single_vector": True}], [8],
         "softmax", 12, 7, {}),
        ("uni2_feature_dot_luong", 2, False, 6, 8, 3,
         [{"type": "feature"}, {"type": "dot", "output": "luong", "units": 5}], [], "softmax",
         11, 7, {}),
        ("bi2_feature_sv_cosine_ctxq_excl", 2, True, 4, 6, 2,
         [{"type": "feature", "single_vector": True},
          {"type": "cosine", "output": "context_plus_query", "exclude_query_step": True}],
         [], "sigmoid", 10, 7, {}),
        ("uni1_feature_additive", 1, False, 4, 12, 3,
         [{"type": "feature", "single_vector": False}, {"type": "additive", "units": 6}],
         [8], "softmax", 13, 7, {}),
        ("bi1_feature_sv_ff", 1, True, 3, 8, 2,
         [{"type": "feature", "single_vector": True}, {"type": "feedforward"}], [], "softmax",
         9, 6, {}),
        ("uni1_feature_td_after_truncpre", 1, False, 4, 8, 3,
         [{"type": "feature"}, td(7, "after_lstm", truncate="pre")], [], "softmax", 10, 7, {}),
        ("bi1_feature_sv_td_after_sv", 1, True, 3, 6, 2,
         [{"type": "feature", "single_vector": True}, td(8, "after_lstm", single_vector=True)],
         [6], "softmax", 8, 6, {}),
        ("uni1_gate_none", 1, False, 3, 8, 3, [], [8], "softmax", 9, 6, {"gate": True}),
        ("bi1_gate_additive", 1, True, 4, 8, 2, [{"type": "additive", "units": 6}], [],
         "softmax", 10, 6, {"gate": True}),
        ("uni2_gate_general_luong", 2, False, 3, 8, 3,
         [{"type": "general", "output": "luong", "units": 7}], [8], "softmax", 10, 6,
         {"gate": True}),
    ]
    return families


FAMILIES += _catalog_families()

# Every LSTM activation (docs/model-format.md), on uni and bi, 1 and 2 layers: the
# gate functions of Keras 2 and 3 and Keras' other cell activations.
FAMILIES += [
    ("uni1_hardsig_tanh_add", 1, False, 4, 16, 3, ("add", 8, False), [8], "softmax", 24, 7,
     {"recurrent_activation": "hard_sigmoid"}),
    ("bi1_hardsig3_tanh_ff", 1, True, 5, 12, 1, "ff", [], "sigmoid", 20, 7,
     {"recurrent_activation": "hard_sigmoid_keras3"}),
    ("uni2_sigmoid_relu_dot", 2, False, 3, 8, 2, [{"type": "dot"}], [8], "softmax", 16, 6,
     {"activation": "relu"}),
    ("bi2_hardsig_linear_none", 2, True, 4, 8, 2, None, [8], "linear", 14, 6,
     {"recurrent_activation": "hard_sigmoid", "activation": "linear"}),
    ("bi1_hardsig3_relu_general_luong", 1, True, 3, 10, 3,
     [{"type": "general", "output": "luong", "units": 6}], [], "softmax", 18, 6,
     {"recurrent_activation": "hard_sigmoid_keras3", "activation": "relu"}),
]

# The model format's extensions: token ids through an embedding (with a window
# padded with a token id), models without an LSTM, the gate after a dense layer
# (its map "gate"), Bahdanau with an attention size other than d, and score_mix
# over a fixed window.
FAMILIES += [
    ("uni1_emb_ff", 1, False, 0, 12, 3, "ff", [8], "softmax", 14, 7,
     {"embedding": (20, 6)}),
    ("bi2_emb_td_after_padid", 2, True, 0, 6, 2, [
        {"type": "time_dense", "window": 9, "placement": "after_lstm", "pad_value": 3}],
     [], "softmax", 9, 6, {"embedding": (15, 5)}),
    ("noenc_gate_after1", 0, False, 8, 0, 3, None, [6], "softmax", 1, 7,
     {"no_encoder": True, "gate": True, "gate_after": 1}),
    ("noenc_gate_input_sigmoid", 0, False, 5, 0, 1, None, [], "sigmoid", 1, 6,
     {"no_encoder": True, "gate": True}),
    ("uni2_add_gate_after2", 2, False, 3, 8, 3, ("add", 6, False), [8, 6], "softmax", 10, 6,
     {"gate": True, "gate_after": 2}),
    ("uni1_bahdanau_a5_luong", 1, False, 4, 8, 3,
     [{"type": "bahdanau", "attention_size": 5, "output": "luong", "units": 6}], [],
     "softmax", 11, 7, {}),
    ("bi1_bahdanau_a20_ctxq", 1, True, 3, 6, 2,
     [{"type": "bahdanau", "attention_size": 20, "output": "context_plus_query"}], [6],
     "softmax", 10, 6, {}),
    ("uni1_general_tanh_mix_ctxq", 1, False, 4, 8, 3,
     [{"type": "general_tanh", "output": "context_plus_query", "score_mix": True, "window": 8,
       "truncate": "pre"}], [], "softmax", 11, 7, {"max_length": 64}),
    ("bi2_dot_mix_post", 2, True, 3, 6, 2,
     [{"type": "dot", "score_mix": True, "window": 7, "pad": "post", "pad_value": -1.0}],
     [6], "sigmoid", 7, 6, {}),
    ("uni1_emb_bahdanau_mix_luong", 1, False, 0, 8, 2,
     [{"type": "bahdanau", "attention_size": 4, "output": "luong", "units": 5,
       "score_mix": True, "window": 6, "pad_value": 1, "truncate": "post"}], [],
     "softmax", 9, 6, {"embedding": (12, 4), "max_length": 64}),
]

LABELS = {
    ("sigmoid", 1): ["positive"],
    ("sigmoid", 3): ["urgent", "spam", "billing"],
    ("linear", 1): ["value"],
    ("linear", 2): ["x", "y"],
}


def make_spec(name, layers, bi, D, H, C, attention, hidden, output, extra):
    """The model.json dict of one family."""
    labels = LABELS.get((output, C), [f"class_{k}" for k in range(C)])
    blocks = []
    if isinstance(attention, list):
        blocks = [dict(b) for b in attention]
    elif attention == "ff":
        blocks = [{"type": "feedforward"}]
    elif attention is not None:
        block = {"type": "additive", "units": attention[1]}
        if attention[2] is not None:
            block["residual_last"] = attention[2]
        blocks = [block]
    if extra.get("no_encoder"):
        spec = {
            "format": "attnserve.model", "format_version": 1,
            "description": f"parity fixture {name} (random weights)",
            "input": {"size": D},
            "head": {"hidden": list(hidden), "output": output},
            "labels": labels,
        }
        if extra.get("gate"):
            spec["head"]["gate"] = True
            if extra.get("gate_after"):
                spec["head"]["gate_after"] = extra["gate_after"]
        return spec
    if extra.get("minimal"):
        return {
            "format": "attnserve.model", "format_version": 1,
            "input": {"size": D},
            "encoder": {"type": "lstm", "hidden_size": H},
            "head": {"output": output},
            "labels": labels,
        }
    spec = {
        "format": "attnserve.model", "format_version": 1,
        "description": f"parity fixture {name} (random weights)",
        "input": {"size": D},
        "encoder": {"type": "lstm", "hidden_size": H, "num_layers": layers,
                    "bidirectional": bi, "activation": extra.get("activation", "tanh"),
                    "recurrent_activation": extra.get("recurrent_activation", "sigmoid")},
        "attention": blocks,
        "head": {"hidden": list(hidden), "output": output},
        "labels": labels,
        "precision": "f32",
    }
    if extra.get("gate"):
        spec["head"]["gate"] = True
        if extra.get("gate_after"):
            spec["head"]["gate_after"] = extra["gate_after"]
    if extra.get("embedding"):
        vocab, dim = extra["embedding"]
        spec["input"] = {"embedding": {"vocab": vocab, "dim": dim, "mask_zero": False}}
    windowed = any(b["type"] == "time_dense" or b.get("score_mix") for b in blocks)
    max_length = extra.get("max_length", None if windowed else 512)
    if max_length is not None:
        spec["input"]["max_length"] = max_length
    return spec


def make_model(spec, seed):
    """A Classifier with random weights, scaled so that results depend on the input.

    LSTM parameters U(-0.5, 0.5); every other nn.Linear N(0, (gain / sqrt(fan_in))^2)
    with bias U(-0.5, 0.5). PyTorch's default init gives nearly uniform attention and
    nearly constant outputs, which would make weak fixtures.
    """
    torch.manual_seed(seed)
    model = Classifier(spec)
    with torch.no_grad():
        if hasattr(model, "encoder"):
            for p in model.encoder.parameters():
                p.uniform_(-0.5, 0.5)
        if hasattr(model, "embedding"):
            model.embedding.weight.normal_(0.0, 1.0)
        gains = [(m, ATTENTION_GAIN) for m in model.attention.modules()]
        gains += [(m, HEAD_GAIN) for m in model.head.modules()]
        for module, gain in gains:
            if isinstance(module, torch.nn.Linear):
                module.weight.normal_(0.0, gain / module.in_features ** 0.5)
                if module.bias is not None:
                    module.bias.uniform_(-0.5, 0.5)
    return model.eval()


def make_inputs(rng, batch, tmax, D, vocab=None):
    """Mixed lengths (one 1, one Tmax, the rest in between, unsorted), N(0,1) steps, or
    token ids uniform in [0, vocab) (0 beyond each length). Tmax 1: every length is 1."""
    if tmax == 1:
        lengths = np.ones(batch, dtype=np.int64)
    else:
        lengths = np.concatenate([[1, tmax], rng.integers(2, tmax, size=batch - 2)])
    rng.shuffle(lengths)
    if vocab is not None:
        x = rng.integers(0, vocab, size=(batch, tmax)).astype(np.int64)
        for b, l in enumerate(lengths):
            x[b, l:] = 0
        return x, lengths.astype(np.int32)
    x = rng.standard_normal((batch, tmax, D)).astype(np.float32)
    for b, l in enumerate(lengths):
        x[b, l:] = 0.0
    return x, lengths.astype(np.int32)


def _stack_padded(arrays):
    """Stacks per-sequence maps, zero-padding each dim to the largest."""
    shape = np.max([a.shape for a in arrays], axis=0)
    out = np.zeros((len(arrays),) + tuple(shape))
    for b, a in enumerate(arrays):
        out[(b,) + tuple(slice(0, n) for n in a.shape)] = a
    return out


def _strip(name, weights, length, window):
    """A batched map row reduced to what the sequence alone returns."""
    if window is None and name in ("temporal", "feature") and weights.ndim >= 1 and \
            not (name == "feature" and weights.ndim == 1):
        return weights[:length]
    return weights


def reference(model, x, lengths):
    """Float64, one sequence at a time: (outputs [B, C], {name: attention [B, ...]})."""
    ref = copy.deepcopy(model).double()
    batch = x.shape[0]
    outputs, maps = [], {}
    with torch.no_grad():
        for b in range(batch):
            l = int(lengths[b])
            seq = torch.from_numpy(x[b:b + 1, :l])
            out, alone = ref(seq if x.dtype == np.int64 else seq.double(), torch.tensor([l]))
            outputs.append(out[0].numpy())
            for name, weights in alone.items():
                maps.setdefault(name, []).append(weights[0].numpy())
        padded = torch.from_numpy(x)
        padded_out, padded_maps = ref(padded if x.dtype == np.int64 else padded.double(),
                                      torch.from_numpy(lengths).long())
    outputs = np.stack(outputs)
    maps = {name: _stack_padded(rows) for name, rows in maps.items()}
    err = np.abs(padded_out.numpy() - outputs).max()
    assert list(padded_maps) == list(maps)
    for name, expected in maps.items():
        got = padded_maps[name].numpy()
        assert got.shape == expected.shape, (name, got.shape, expected.shape)
        err = max(err, np.abs(got - expected).max())
    assert err <= 1e-6, f"padded batch differs from per-sequence runs by {err}"
    return outputs, maps


def f32_error(model, x, lengths, outputs, maps):
    """Max |PyTorch f32 padded batch - f64 reference| over outputs and attention."""
    with torch.no_grad():
        out, got = model(torch.from_numpy(x), torch.from_numpy(lengths).long())
    err = np.abs(out.numpy() - outputs).max()
    for name, expected in maps.items():
        err = max(err, np.abs(got[name].numpy() - expected).max())
    return float(err)


def describe(blocks, gate, gate_after=None):
    """A short text for the table: the blocks and their options."""
    parts = []
    for b in blocks:
        text = {"feedforward": "ff", "additive": "add"}.get(b["type"], b["type"])
        opts = [k if v is True else f"{k}={v}" for k, v in b.items()
                if k not in ("type", "units", "window") and v not in (False, None)]
        if "window" in b:
            text += f"(W={b['window']})"
        parts.append(text + (f"[{','.join(opts)}]" if opts else ""))
    gate_text = (f" +gate(after {gate_after})" if gate_after else " +gate") if gate else ""
    return " + ".join(parts or ["none"]) + gate_text


def build(family, out_dir):
    name, layers, bi, D, H, C, attention, hidden, output, tmax, batch, extra = family
    seed = zlib.crc32(name.encode())
    spec = make_spec(name, layers, bi, D, H, C, attention, hidden, output, extra)
    model = make_model(spec, seed)
    vocab = extra["embedding"][0] if extra.get("embedding") else None
    x, lengths = make_inputs(np.random.default_rng(seed), batch, tmax, D, vocab)
    outputs, maps = reference(model, x, lengths)
    err = f32_error(model, x, lengths, outputs, maps)
    assert err <= 1e-5, f"{name}: PyTorch f32 is {err} from the f64 reference"

    directory = os.path.join(out_dir, name)
    save_model(model, spec, directory)
    cases = {
        "ids" if vocab is not None else "inputs": x,
        "lengths": lengths,
        "probabilities": outputs.astype(np.float32),
    }
    for map_name, weights in maps.items():
        cases[f"attention.{map_name}"] = weights.astype(np.float32)
    safetensors_io.save(os.path.join(directory, "cases.safetensors"), cases,
                        metadata={"reference": "float64, each sequence alone"})
    size = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
    peak = None
    if maps:
        first = next(iter(maps.values()))
        peaks = [first[b].max() for b, l in enumerate(lengths) if l > 1]
        peak = float(np.mean(peaks or [first[b].max() for b in range(len(lengths))]))
    enc = spec.get("encoder")
    lstm = "none" if enc is None else f"{enc.get('recurrent_activation', 'sigmoid')}, " \
                                      f"{enc.get('activation', 'tanh')}"
    if vocab is not None:
        lstm += f"; ids, embedding {extra['embedding'][0]}x{extra['embedding'][1]}"
    return dict(name=name, layers=layers, bi=bi, lstm=lstm, D=D, H=H, C=C,
                attention=describe(spec.get("attention", []), extra.get("gate"),
                                   extra.get("gate_after")),
                hidden=hidden, output=output, tmax=tmax, batch=batch, size=size,
                f32_err=err, peak=peak, maps=", ".join(maps) or "-")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [build(f, args.out) for f in FAMILIES]
    # A markdown table, as in tests/fixtures/parity/README.md.
    print("| name | layers | bi | LSTM activations | D | H | C | attention | head hidden | output "
          "| Tmax | B | bytes | f32 err | peak a |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
          "| --- |")
    for r in rows:
        peak = "-" if r["peak"] is None else f"{r['peak']:.2f}"
        print(f"| `{r['name']}` | {r['layers']} | {'yes' if r['bi'] else 'no'} | {r['lstm']} | "
              f"{r['D']} | {r['H']} | {r['C']} | {r['attention']} | {r['hidden']} | {r['output']} | "
              f"{r['tmax']} | {r['batch']} | {r['size']} | {r['f32_err']:.1e} | {peak} |")
    total = sum(r["size"] for r in rows)
    print(f"total {total} bytes in {len(rows)} fixtures (f32 err: PyTorch f32 padded batch "
          f"vs f64 reference; peak a: mean largest weight of the first attention map)")
    assert total <= MAX_TOTAL_BYTES, "fixtures exceed the size budget"


if __name__ == "__main__":
    main()
