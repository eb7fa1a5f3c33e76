"""Random-weight benchmark models, written through the PyTorch reference.

Contract: spec(...) returns a model.json dict (input 32, unidirectional LSTM,
one attention block, head [16] -> 4 softmax) in the same shapes as
bench/engine_bench.cc's models; save(...) builds the reference Classifier
(tools/attnserve_ref) with seeded default PyTorch initialisation and writes it
with export.save_model, so the engine and PyTorch load the very same files.
Attention "additive" = additive with 64 units; "luong" = `general` scores with
output "luong" (64 units), as in docs/attention.md.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))

import torch  # noqa: E402

from attnserve_ref.export import load_model, save_model  # noqa: E402,F401
from attnserve_ref.modules import Classifier  # noqa: E402

INPUT = 32
UNITS = 64


def spec(hidden, layers=1, attention="additive", input_size=INPUT, max_length=None):
    """model.json dict of a benchmark model."""
    if attention == "additive":
        block = {"type": "additive", "units": UNITS}
    elif attention == "luong":
        block = {"type": "general", "output": "luong", "units": UNITS}
    else:
        raise ValueError(f"unknown benchmark attention {attention!r}")
    inp = {"size": input_size}
    if max_length:
        inp["max_length"] = max_length
    return {
        "format": "attnserve.model",
        "format_version": 1,
        "description": f"benchmark model: lstm {layers}x{hidden}, {attention} attention, "
                       "random weights",
        "input": inp,
        "encoder": {"type": "lstm", "hidden_size": hidden, "num_layers": layers},
        "attention": [block],
        "head": {"hidden": [16], "output": "softmax"},
        "labels": ["c0", "c1", "c2", "c3"],
    }


def save(version_dir, hidden, layers=1, attention="additive", seed=0, max_length=None):
    """Writes a random model to version_dir (<repo>/<model>/<version>/); returns its spec."""
    model_spec = spec(hidden, layers, attention, max_length=max_length)
    torch.manual_seed(seed)
    save_model(Classifier(model_spec), model_spec, version_dir)
    return model_spec
