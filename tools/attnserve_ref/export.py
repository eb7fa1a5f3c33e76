"""Model version directories: save_model() and load_model().

Contract: a version directory holds model.json (the spec, pretty-printed with
keys in the order of docs/model-format.md) and weights.safetensors (the
classifier's state_dict() as contiguous F32, with __metadata__
{"producer": "attnserve_ref"}). Both functions check that the tensor names and
shapes are exactly spec.expected_tensors(spec) and that every value is finite in
f32, and raise ValueError otherwise; load_model() also refuses a key given twice
in model.json. load_model() returns a float32 Classifier in eval() mode.
"""

import json
import os

import torch

from . import safetensors_io
from .modules import Classifier
from .spec import expected_tensors, normalize_spec

MODEL_JSON = "model.json"
WEIGHTS = "weights.safetensors"

_ORDER = {
    "": ["format", "format_version", "description", "input", "encoder", "attention",
         "head", "labels", "precision"],
    "input": ["size", "embedding", "max_length"],
    "encoder": ["type", "hidden_size", "num_layers", "bidirectional", "activation",
                "recurrent_activation"],
    "attention": ["type", "units", "attention_size", "residual_last", "output",
                  "exclude_query_step", "score_mix", "window", "placement", "single_vector", "pad",
                  "pad_value", "truncate"],
    "head": ["gate", "gate_after", "hidden", "output"],
}


def _ordered(value, keys):
    return {k: value[k] for k in keys if k in value}


def _pretty(value, indent=0):
    """JSON with objects spread over lines and arrays of scalars kept on one line."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {_pretty(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [inner + _pretty(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value)


def canonical_json(spec):
    """model.json text for `spec` (validated), keys in the documented order."""
    normalize_spec(spec)  # raises on any schema error
    out = _ordered(spec, _ORDER[""])
    for section in ("input", "encoder", "head"):
        if section in spec:
            out[section] = _ordered(spec[section], _ORDER[section])
    if "attention" in spec:
        out["attention"] = [_ordered(b, _ORDER["attention"]) for b in spec["attention"]]
    text = _pretty(out) + "\n"
    if json.loads(text) != out:
        raise AssertionError("model.json formatting changed the content")
    return text


def check_tensors(spec, tensors, label):
    """Raises ValueError unless `tensors` {name: tensor} is exactly what `spec` needs."""
    expected = expected_tensors(spec)
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ValueError(f"{label}: tensor names differ from the format: "
                         f"missing {missing}, unexpected {extra}")
    for name, shape in expected.items():
        tensor = tensors[name]
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{label}: {name} has shape {tuple(tensor.shape)}, expected {shape}")
        if not tensor.is_floating_point():
            raise ValueError(f"{label}: {name} has integer dtype {tensor.dtype}")
        if not torch.isfinite(tensor.to(torch.float32)).all():
            raise ValueError(f"{label}: {name} has values that are not finite in f32")


def _refuse_duplicates(pairs):
    keys = [k for k, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise ValueError(f"model.json: {key}: given twice")
    return dict(pairs)


def save_model(classifier, spec, version_dir):
    """Writes `classifier` (built from `spec`) to version_dir as model.json + weights."""
    if classifier.spec != normalize_spec(spec):
        raise ValueError("the classifier was not built from this spec")
    state = {name: t.detach().to(torch.float32).contiguous()
             for name, t in classifier.state_dict().items()}
    check_tensors(spec, state, "state_dict")
    os.makedirs(version_dir, exist_ok=True)
    with open(os.path.join(version_dir, MODEL_JSON), "w") as f:
        f.write(canonical_json(spec))
    safetensors_io.save(os.path.join(version_dir, WEIGHTS), state,
                        metadata={"producer": "attnserve_ref"})


def load_model(version_dir):
    """Reads a version directory back into a float32 Classifier in eval() mode."""
    with open(os.path.join(version_dir, MODEL_JSON)) as f:
        spec = json.load(f, object_pairs_hook=_refuse_duplicates)
    path = os.path.join(version_dir, WEIGHTS)
    tensors, _ = safetensors_io.load(path)
    check_tensors(spec, tensors, path)
    model = Classifier(spec)
    model.load_state_dict({n: t.to(torch.float32) for n, t in tensors.items()}, strict=True)
    return model.eval()
