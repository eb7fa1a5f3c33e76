"""The model.json schema of docs/model-format.md, on the Python side.

Contract: normalize_spec() accepts exactly the documented schema (unknown keys,
wrong types, out-of-range values and unsupported options raise ValueError naming
the field by its full path, e.g. "model.json: attention[0].unit: unknown field") and returns a deep copy with
every optional field filled with its default. expected_tensors() lists the
state_dict names and shapes a spec needs, in the order of the format doc
(encoder, attention, head).
"""

import copy

FORMAT = "attnserve.model"
FORMAT_VERSION = 1
ATTENTION_TYPES = ("feedforward", "additive")
OUTPUTS = ("softmax", "sigmoid", "linear")
PRECISIONS = ("f32", "bf16")
MAX_SIZE = 1048576        # input.size, hidden_size, units, head.hidden[j]
MAX_LAYERS = 1024
MAX_LENGTH = 2147483647

_TOP_KEYS = {"format", "format_version", "description", "input", "encoder",
             "attention", "head", "labels", "precision"}
_INPUT_KEYS = {"size", "max_length"}
_ENCODER_KEYS = {"type", "hidden_size", "num_layers", "bidirectional", "activation",
                 "recurrent_activation"}
_ATTENTION_KEYS = {"feedforward": {"type"}, "additive": {"type", "units", "residual_last"}}
_HEAD_KEYS = {"hidden", "output"}


def _fail(field, what):
    raise ValueError(f"model.json: {field}: {what}")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _object(value, field, allowed, required=()):
    if not isinstance(value, dict):
        _fail(field, "must be an object")
    prefix = field + "." if field else ""
    for key in value:
        if key not in allowed:
            _fail(prefix + key, "unknown field")
    for key in required:
        if key not in value:
            _fail(prefix + key, "is required")
    return value


def _positive_int(value, field, limit=MAX_SIZE):
    if not _is_int(value) or not 1 <= value <= limit:
        _fail(field, f"must be an integer from 1 to {limit}, got {value!r}")
    return value


def _choice(value, field, choices):
    if value not in choices:
        _fail(field, f"{value!r} is not one of {', '.join(map(repr, choices))}")
    return value


def normalize_spec(spec):
    """Validates a model.json dict and returns a copy with defaults filled in."""
    spec = copy.deepcopy(spec)
    _object(spec, "", _TOP_KEYS, ("format", "format_version", "input", "encoder",
                                  "head", "labels"))
    if spec["format"] != FORMAT:
        _fail("format", f"must be {FORMAT!r}")
    if not _is_int(spec["format_version"]) or spec["format_version"] != FORMAT_VERSION:
        _fail("format_version", f"must be {FORMAT_VERSION}")
    if not isinstance(spec.get("description", ""), str):
        _fail("description", "must be a string")

    inp = _object(spec["input"], "input", _INPUT_KEYS, ("size",))
    _positive_int(inp["size"], "input.size")
    if "max_length" in inp:
        _positive_int(inp["max_length"], "input.max_length", MAX_LENGTH)

    enc = _object(spec["encoder"], "encoder", _ENCODER_KEYS, ("type", "hidden_size"))
    _choice(enc["type"], "encoder.type", ("lstm",))
    _positive_int(enc["hidden_size"], "encoder.hidden_size")
    _positive_int(enc.setdefault("num_layers", 1), "encoder.num_layers", MAX_LAYERS)
    if not isinstance(enc.setdefault("bidirectional", False), bool):
        _fail("encoder.bidirectional", "must be a boolean")
    if enc.setdefault("activation", "tanh") != "tanh":
        _fail("encoder.activation", f"{enc['activation']!r} cannot be served exactly")
    if enc.setdefault("recurrent_activation", "sigmoid") != "sigmoid":
        _fail("encoder.recurrent_activation",
              f"{enc['recurrent_activation']!r} cannot be served exactly")

    blocks = spec.setdefault("attention", [])
    if not isinstance(blocks, list):
        _fail("attention", "must be an array")
    if len(blocks) > 1:
        _fail("attention", "at most one temporal block")
    for i, block in enumerate(blocks):
        field = f"attention[{i}]"
        if not isinstance(block, dict):
            _fail(field, "must be an object")
        kind = _choice(block.get("type"), field + ".type", ATTENTION_TYPES)
        _object(block, field, _ATTENTION_KEYS[kind], ("type",))
        if kind == "additive":
            _object(block, field, _ATTENTION_KEYS[kind], ("units",))
            _positive_int(block["units"], field + ".units")
            if not isinstance(block.setdefault("residual_last", False), bool):
                _fail(field + ".residual_last", "must be a boolean")

    head = _object(spec["head"], "head", _HEAD_KEYS, ("output",))
    hidden = head.setdefault("hidden", [])
    if not isinstance(hidden, list):
        _fail("head.hidden", "must be an array")
    for j, size in enumerate(hidden):
        _positive_int(size, f"head.hidden[{j}]")
    _choice(head["output"], "head.output", OUTPUTS)

    labels = spec["labels"]
    if not isinstance(labels, list) or not labels:
        _fail("labels", "must be a non-empty array")
    for j, label in enumerate(labels):
        if not isinstance(label, str) or not label:
            _fail(f"labels[{j}]", "must be a non-empty string")
    if len(set(labels)) != len(labels):
        _fail("labels", "must be distinct")
    if head["output"] == "softmax" and len(labels) < 2:
        _fail("labels", "softmax needs at least 2 labels")

    _choice(spec.setdefault("precision", "f32"), "precision", PRECISIONS)
    return spec


def expected_tensors(spec):
    """Returns {state_dict name: shape tuple} for a spec, in the format doc's order."""
    spec = normalize_spec(spec)
    enc = spec["encoder"]
    hidden, dirs = enc["hidden_size"], 2 if enc["bidirectional"] else 1
    d = hidden * dirs
    out = {}
    for k in range(enc["num_layers"]):
        in_size = spec["input"]["size"] if k == 0 else d
        for suffix in ([""] if dirs == 1 else ["", "_reverse"]):
            out[f"encoder.weight_ih_l{k}{suffix}"] = (4 * hidden, in_size)
            out[f"encoder.weight_hh_l{k}{suffix}"] = (4 * hidden, hidden)
            out[f"encoder.bias_ih_l{k}{suffix}"] = (4 * hidden,)
            out[f"encoder.bias_hh_l{k}{suffix}"] = (4 * hidden,)
    for i, block in enumerate(spec["attention"]):
        if block["type"] == "feedforward":
            out[f"attention.{i}.score.weight"] = (1, d)
        else:
            out[f"attention.{i}.proj.weight"] = (block["units"], d)
            out[f"attention.{i}.proj.bias"] = (block["units"],)
            out[f"attention.{i}.score.weight"] = (1, block["units"])
        out[f"attention.{i}.score.bias"] = (1,)
    sizes = [d] + list(spec["head"]["hidden"]) + [len(spec["labels"])]
    for j in range(len(sizes) - 1):
        out[f"head.layers.{j}.weight"] = (sizes[j + 1], sizes[j])
        out[f"head.layers.{j}.bias"] = (sizes[j + 1],)
    return out
