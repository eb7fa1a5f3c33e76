#!/usr/bin/python3
"""Generates the golden parity fixtures under tests/fixtures/parity/<name>/.

Contract: each fixture directory is a model version directory (model.json +
weights.safetensors, F32) plus cases.safetensors with
  inputs         F32 [B, Tmax, D]  right-padded, zero beyond each length
  lengths        I32 [B]           1 <= l <= Tmax; one is 1, one is exactly Tmax
  probabilities  F32 [B, C]        head output (raw values for "linear")
  attention      F32 [B, Tmax]     zero beyond each length; absent without attention
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
MAX_TOTAL_BYTES = 3 * 1024 * 1024
ATTENTION_GAIN = 4.0
HEAD_GAIN = 2.0

# name: (layers, bidirectional, D, H, C, attention, head hidden, output, Tmax, B, extra)
# attention: None | "ff" | ("add", units, residual_last or None to omit the key)
# extra: "minimal" writes only required model.json keys; "max_length" an int or None.
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
    if attention == "ff":
        blocks = [{"type": "feedforward"}]
    elif attention is not None:
        block = {"type": "additive", "units": attention[1]}
        if attention[2] is not None:
            block["residual_last"] = attention[2]
        blocks = [block]
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
                    "bidirectional": bi, "activation": "tanh",
                    "recurrent_activation": "sigmoid"},
        "attention": blocks,
        "head": {"hidden": list(hidden), "output": output},
        "labels": labels,
        "precision": "f32",
    }
    max_length = extra.get("max_length", 512)
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
        for p in model.encoder.parameters():
            p.uniform_(-0.5, 0.5)
        gains = [(m, ATTENTION_GAIN) for m in model.attention.modules()]
        gains += [(m, HEAD_GAIN) for m in model.head.modules()]
        for module, gain in gains:
            if isinstance(module, torch.nn.Linear):
                module.weight.normal_(0.0, gain / module.in_features ** 0.5)
                module.bias.uniform_(-0.5, 0.5)
    return model.eval()


def make_inputs(rng, batch, tmax, D):
    """Mixed lengths (one 1, one Tmax, the rest in between, unsorted), N(0,1) steps."""
    lengths = np.concatenate([[1, tmax], rng.integers(2, tmax, size=batch - 2)])
    rng.shuffle(lengths)
    x = rng.standard_normal((batch, tmax, D)).astype(np.float32)
    for b, l in enumerate(lengths):
        x[b, l:] = 0.0
    return x, lengths.astype(np.int32)


def reference(model, x, lengths):
    """Float64, one sequence at a time: (outputs [B, C], attention [B, T] or None)."""
    ref = copy.deepcopy(model).double()
    batch, tmax = x.shape[0], x.shape[1]
    outputs, attention = [], np.zeros((batch, tmax))
    with torch.no_grad():
        for b in range(batch):
            l = int(lengths[b])
            seq = torch.from_numpy(x[b:b + 1, :l]).double()
            out, a = ref(seq, torch.tensor([l]))
            outputs.append(out[0].numpy())
            if a is not None:
                attention[b, :l] = a[0].numpy()
        padded_out, padded_a = ref(torch.from_numpy(x).double(), torch.from_numpy(lengths).long())
    outputs = np.stack(outputs)
    has_attention = padded_a is not None
    err = np.abs(padded_out.numpy() - outputs).max()
    if has_attention:
        err = max(err, np.abs(padded_a.numpy() - attention).max())
    assert err <= 1e-6, f"padded batch differs from per-sequence runs by {err}"
    return outputs, (attention if has_attention else None)


def f32_error(model, x, lengths, outputs, attention):
    """Max |PyTorch f32 padded batch - f64 reference| over outputs and attention."""
    with torch.no_grad():
        out, a = model(torch.from_numpy(x), torch.from_numpy(lengths).long())
    err = np.abs(out.numpy() - outputs).max()
    if attention is not None:
        err = max(err, np.abs(a.numpy() - attention).max())
    return float(err)


def build(family, out_dir):
    name, layers, bi, D, H, C, attention, hidden, output, tmax, batch, extra = family
    seed = zlib.crc32(name.encode())
    spec = make_spec(name, layers, bi, D, H, C, attention, hidden, output, extra)
    model = make_model(spec, seed)
    x, lengths = make_inputs(np.random.default_rng(seed), batch, tmax, D)
    outputs, weights = reference(model, x, lengths)
    err = f32_error(model, x, lengths, outputs, weights)
    assert err <= 1e-5, f"{name}: PyTorch f32 is {err} from the f64 reference"

    directory = os.path.join(out_dir, name)
    save_model(model, spec, directory)
    cases = {
        "inputs": x,
        "lengths": lengths,
        "probabilities": outputs.astype(np.float32),
    }
    if weights is not None:
        cases["attention"] = weights.astype(np.float32)
    safetensors_io.save(os.path.join(directory, "cases.safetensors"), cases,
                        metadata={"reference": "float64, each sequence alone"})
    size = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
    peak = None
    if weights is not None:
        peak = float(np.mean([weights[b, :l].max() for b, l in enumerate(lengths) if l > 1]))
    attn = {None: "none", "ff": "feedforward"}.get(attention) if not isinstance(
        attention, tuple) else ("additive+res" if attention[2] else "additive")
    return dict(name=name, layers=layers, bi=bi, D=D, H=H, C=C, attention=attn,
                hidden=hidden, output=output, tmax=tmax, batch=batch, size=size,
                f32_err=err, peak=peak)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [build(f, args.out) for f in FAMILIES]
    header = (f"{'name':32} {'L':>1} {'bi':>3} {'D':>3} {'H':>4} {'C':>3} {'attention':12} "
              f"{'head':8} {'output':8} {'T':>3} {'B':>2} {'bytes':>8} {'f32 err':>8} {'peak a':>6}")
    print(header)
    print("-" * len(header))
    for r in rows:
        peak = "-" if r["peak"] is None else f"{r['peak']:.2f}"
        print(f"{r['name']:32} {r['layers']:>1} {'yes' if r['bi'] else 'no':>3} {r['D']:>3} "
              f"{r['H']:>4} {r['C']:>3} {r['attention']:12} {str(r['hidden']):8} "
              f"{r['output']:8} {r['tmax']:>3} {r['batch']:>2} {r['size']:>8} "
              f"{r['f32_err']:8.1e} {peak:>6}")
    total = sum(r["size"] for r in rows)
    print(f"total {total} bytes in {len(rows)} fixtures (f32 err: PyTorch f32 padded batch "
          f"vs f64 reference; peak a: mean max attention weight)")
    assert total <= MAX_TOTAL_BYTES, "fixtures exceed the size budget"


if __name__ == "__main__":
    main()
