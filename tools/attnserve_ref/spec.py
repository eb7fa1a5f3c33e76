"""The model.json schema of docs/model-format.md, on the Python side.

Contract: normalize_spec() accepts exactly the documented schema (unknown keys,
wrong types, out-of-range values, options on blocks that do not take them and
the combinations the catalog refuses raise ValueError naming the field by its
full path, e.g. "model.json: attention[0].unit: unknown field") and returns a
deep copy with every optional field filled with its default (a time_dense model
without truncate also gets input.max_length = its window). expected_tensors() lists the
state_dict names and shapes a spec needs, in the order of the format doc
(encoder, attention, head).
"""

import copy

FORMAT = "attnserve.model"
FORMAT_VERSION = 1
QUERY_TYPES = ("dot", "general", "general_tanh", "cosine", "bahdanau")
TEMPORAL_TYPES = ("feedforward", "additive") + QUERY_TYPES
ATTENTION_TYPES = TEMPORAL_TYPES + ("time_dense", "feature")
QUERY_OUTPUTS = ("context", "context_plus_query", "luong")
PLACEMENTS = ("before_lstm", "after_lstm")
PAD_SIDES = ("pre", "post")
OUTPUTS = ("softmax", "sigmoid", "linear")
PRECISIONS = ("f32", "bf16")
# LSTM gate (Keras recurrent_activation) and cell (Keras activation) functions.
RECURRENT_ACTIVATIONS = ("sigmoid", "hard_sigmoid", "hard_sigmoid_keras3")
CELL_ACTIVATIONS = ("tanh", "relu", "linear")
MAX_SIZE = 1048576        # input.size, hidden_size, units, head.hidden[j]
MAX_LAYERS = 1024
MAX_LENGTH = 2147483647

_TOP_KEYS = {"format", "format_version", "description", "input", "encoder",
             "attention", "head", "labels", "precision"}
_INPUT_KEYS = {"size", "max_length", "embedding"}
_EMBEDDING_KEYS = {"vocab", "dim", "mask_zero"}
MAX_VOCAB = 1 << 24
_ENCODER_KEYS = {"type", "hidden_size", "num_layers", "bidirectional", "activation",
                 "recurrent_activation"}
# option -> the types that take it
_OPTIONS = {
    "units": ("additive",) + QUERY_TYPES,
    "residual_last": ("additive",),
    "output": QUERY_TYPES,
    "exclude_query_step": QUERY_TYPES,
    "attention_size": ("bahdanau",),
    "score_mix": QUERY_TYPES,
    "window": ("time_dense",) + QUERY_TYPES,
    "placement": ("time_dense",),
    "single_vector": ("time_dense", "feature"),
    "pad": ("time_dense",) + QUERY_TYPES,
    "pad_value": ("time_dense",) + QUERY_TYPES,
    "truncate": ("time_dense",) + QUERY_TYPES,
}
_WINDOW_OPTIONS = ("window", "pad", "pad_value", "truncate")
_HEAD_KEYS = {"gate", "gate_after", "hidden", "output"}


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


def _bool(block, key, field):
    if not isinstance(block.setdefault(key, False), bool):
        _fail(f"{field}.{key}", "must be a boolean")


def _normalize_block(block, field):
    """Validates one attention block in place and fills its defaults."""
    if not isinstance(block, dict):
        _fail(field, "must be an object")
    kind = _choice(block.get("type"), field + ".type", ATTENTION_TYPES)
    for key in block:
        if key == "type":
            continue
        if key not in _OPTIONS:
            _fail(f"{field}.{key}", "unknown field")
        if kind not in _OPTIONS[key]:
            _fail(f"{field}.{key}", f"{kind!r} attention does not take this option")
    if kind == "additive":
        _object(block, field, {"type", "units", "residual_last"}, ("units",))
        _positive_int(block["units"], field + ".units")
        _bool(block, "residual_last", field)
    elif kind in QUERY_TYPES:
        _choice(block.setdefault("output", "context"), field + ".output", QUERY_OUTPUTS)
        _bool(block, "exclude_query_step", field)
        _bool(block, "score_mix", field)
        if "attention_size" in block:
            _positive_int(block["attention_size"], field + ".attention_size")
        if block["score_mix"]:
            if block["exclude_query_step"]:
                _fail(field + ".exclude_query_step", "cannot be combined with score_mix")
            if "window" not in block:
                _fail(field + ".window", "is required")
            _window_options(block, field)
        else:
            for key in _WINDOW_OPTIONS:
                if key in block:
                    _fail(f"{field}.{key}", "only time_dense, and a query-based block with "
                                            "score_mix true, take a window")
        if block["output"] == "luong":
            _object(block, field, set(_OPTIONS) | {"type"}, ("units",))
            _positive_int(block["units"], field + ".units")
        elif "units" in block:
            _fail(field + ".units", "only the 'luong' output takes units")
    elif kind == "time_dense":
        _object(block, field, set(_OPTIONS) | {"type"}, ("window", "placement"))
        _choice(block["placement"], field + ".placement", PLACEMENTS)
        _bool(block, "single_vector", field)
        _window_options(block, field)
    elif kind == "feature":
        _bool(block, "single_vector", field)


def _window_options(block, field):
    """window, pad, pad_value, truncate (time_dense, score_mix): checked, defaults filled."""
    _positive_int(block["window"], field + ".window")
    _choice(block.setdefault("pad", "pre"), field + ".pad", PAD_SIDES)
    value = block.setdefault("pad_value", 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not abs(value) <= 3.4028234663852886e38:
        _fail(field + ".pad_value", "must be a finite number within the f32 range")
    if "truncate" in block:
        _choice(block["truncate"], field + ".truncate", PAD_SIDES)


def is_windowed(block):
    """True for the blocks that fix a window: time_dense, and score_mix."""
    return block["type"] == "time_dense" or bool(block.get("score_mix"))


def before_lstm(block):
    """True for the blocks that run before the LSTM."""
    return block["type"] == "feature" or (
        block["type"] == "time_dense" and block["placement"] == "before_lstm")


def _check_combination(blocks):
    """The catalog's combinations: one block before the LSTM, one after, in that order."""
    before = after = time_dense = None
    for i, block in enumerate(blocks):
        field = f"attention[{i}]"
        if is_windowed(block):
            if time_dense is not None:
                if block["type"] == blocks[time_dense]["type"] == "time_dense":
                    _fail(field, "a model takes at most one time_dense block")
                _fail(field, "a model takes at most one block with a window")
            time_dense = i
        if before_lstm(block):
            if before is not None:
                if blocks[before]["type"] != block["type"]:
                    _fail(field, "feature attention and time_dense with placement "
                                 "'before_lstm' cannot be combined")
                _fail(field, "a model takes at most one feature attention block")
            if after is not None:
                _fail(field, f"runs before the LSTM, so it must be listed before "
                             f"attention[{after}]")
            before = i
            continue
        if after is not None:
            if "time_dense" in (block["type"], blocks[after]["type"]):
                _fail(field, "time_dense after the LSTM cannot be combined with a "
                             "temporal block")
            _fail(field, "a model takes at most one temporal block")
        after = i


def _check_window(block, i, inp, d):
    """The window against input.max_length; fills max_length = window without truncate."""
    window = block["window"]
    if "embedding" in inp:
        value = block["pad_value"]
        if value != int(value) or not 0 <= value < inp["embedding"]["vocab"]:
            _fail(f"attention[{i}].pad_value", "with input.embedding the padding is a token id")
    if block.get("placement") == "after_lstm" and window * d > MAX_SIZE:
        _fail(f"attention[{i}].window", "the flattened head input exceeds 1048576")
    if "max_length" not in inp:
        if "truncate" not in block:
            inp["max_length"] = window
        return
    if inp["max_length"] < window:
        _fail("input.max_length", f"is shorter than attention[{i}].window")
    if "truncate" not in block and inp["max_length"] != window:
        _fail("input.max_length", f"differs from attention[{i}].window")


def window_block(spec):
    """The block that fixes the window (time_dense or score_mix) of a normalized spec, or None."""
    return next((b for b in spec["attention"] if is_windowed(b)), None)


def input_size(spec):
    """Features per step the encoder (or the head, without one) reads: size or embedding.dim."""
    inp = spec["input"]
    return inp["embedding"]["dim"] if "embedding" in inp else inp["size"]


def gate_size(spec):
    """Size of the vector the head's gate reads (normalized spec)."""
    after = spec["head"].get("gate_after", 0)
    return head_input_size(spec) if after == 0 else spec["head"]["hidden"][after - 1]


def head_input_size(spec):
    """Size of the vector the head reads (normalized spec)."""
    if "encoder" not in spec:
        return input_size(spec)
    enc = spec["encoder"]
    d = enc["hidden_size"] * (2 if enc["bidirectional"] else 1)
    for block in spec["attention"]:
        if before_lstm(block):
            continue
        if block["type"] == "time_dense":
            return block["window"] * d
        if block["type"] in QUERY_TYPES and block["output"] == "luong":
            return block["units"]
    return d


def normalize_spec(spec):
    """Validates a model.json dict and returns a copy with defaults filled in."""
    spec = copy.deepcopy(spec)
    _object(spec, "", _TOP_KEYS, ("format", "format_version", "input", "head", "labels"))
    if spec["format"] != FORMAT:
        _fail("format", f"must be {FORMAT!r}")
    if not _is_int(spec["format_version"]) or spec["format_version"] != FORMAT_VERSION:
        _fail("format_version", f"must be {FORMAT_VERSION}")
    if not isinstance(spec.get("description", ""), str):
        _fail("description", "must be a string")

    inp = _object(spec["input"], "input", _INPUT_KEYS)
    if "embedding" in inp:
        if "size" in inp:
            _fail("input.size", "must not be given with input.embedding (its dim is the size)")
        emb = _object(inp["embedding"], "input.embedding", _EMBEDDING_KEYS, ("vocab", "dim"))
        _positive_int(emb["vocab"], "input.embedding.vocab", MAX_VOCAB)
        _positive_int(emb["dim"], "input.embedding.dim")
        if not isinstance(emb.setdefault("mask_zero", False), bool):
            _fail("input.embedding.mask_zero", "must be a boolean")
        if emb["mask_zero"]:
            _fail("input.embedding.mask_zero", "true is not supported")
    else:
        _object(inp, "input", _INPUT_KEYS, ("size",))
        _positive_int(inp["size"], "input.size")
    if "max_length" in inp:
        _positive_int(inp["max_length"], "input.max_length", MAX_LENGTH)

    if "encoder" not in spec:
        if "embedding" in inp:
            _fail("input.embedding", "a model without an encoder reads one vector")
        if inp.get("max_length", 1) != 1:
            _fail("input.max_length", "a model without an encoder reads exactly one step")
        inp["max_length"] = 1
        if spec.setdefault("attention", []):
            _fail("attention", "a model without an encoder takes no attention blocks")
        _normalize_head(spec)
        return spec

    enc = _object(spec["encoder"], "encoder", _ENCODER_KEYS, ("type", "hidden_size"))
    _choice(enc["type"], "encoder.type", ("lstm",))
    _positive_int(enc["hidden_size"], "encoder.hidden_size")
    _positive_int(enc.setdefault("num_layers", 1), "encoder.num_layers", MAX_LAYERS)
    if not isinstance(enc.setdefault("bidirectional", False), bool):
        _fail("encoder.bidirectional", "must be a boolean")
    _choice(enc.setdefault("activation", "tanh"), "encoder.activation", CELL_ACTIVATIONS)
    _choice(enc.setdefault("recurrent_activation", "sigmoid"), "encoder.recurrent_activation",
            RECURRENT_ACTIVATIONS)

    blocks = spec.setdefault("attention", [])
    if not isinstance(blocks, list):
        _fail("attention", "must be an array")
    for i, block in enumerate(blocks):
        _normalize_block(block, f"attention[{i}]")
    _check_combination(blocks)
    d = enc["hidden_size"] * (2 if enc["bidirectional"] else 1)
    for i, block in enumerate(blocks):
        if is_windowed(block):
            _check_window(block, i, inp, d)
    _normalize_head(spec)
    return spec


def _normalize_head(spec):
    """The head, labels and precision of a spec being normalized (in place)."""
    head = _object(spec["head"], "head", _HEAD_KEYS, ("output",))
    if not isinstance(head.setdefault("gate", False), bool):
        _fail("head.gate", "must be a boolean")
    hidden = head.setdefault("hidden", [])
    if not isinstance(hidden, list):
        _fail("head.hidden", "must be an array")
    for j, size in enumerate(hidden):
        _positive_int(size, f"head.hidden[{j}]")
    if "gate_after" in head:
        if not head["gate"]:
            _fail("head.gate_after", "needs head.gate true")
        after = head["gate_after"]
        if not _is_int(after) or not 0 <= after <= len(hidden):
            _fail("head.gate_after", f"must be an integer from 0 to {len(hidden)}")
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


def expected_tensors(spec):
    """Returns {state_dict name: shape tuple} for a spec, in the format doc's order."""
    spec = normalize_spec(spec)
    out = {}
    if "embedding" in spec["input"]:
        emb = spec["input"]["embedding"]
        out["embedding.weight"] = (emb["vocab"], emb["dim"])
    enc = spec.get("encoder", {"hidden_size": 0, "bidirectional": False, "num_layers": 0})
    hidden, dirs = enc["hidden_size"], 2 if enc["bidirectional"] else 1
    d = hidden * dirs
    for k in range(enc["num_layers"]):
        in_size = input_size(spec) if k == 0 else d
        for suffix in ([""] if dirs == 1 else ["", "_reverse"]):
            out[f"encoder.weight_ih_l{k}{suffix}"] = (4 * hidden, in_size)
            out[f"encoder.weight_hh_l{k}{suffix}"] = (4 * hidden, hidden)
            out[f"encoder.bias_ih_l{k}{suffix}"] = (4 * hidden,)
            out[f"encoder.bias_hh_l{k}{suffix}"] = (4 * hidden,)
    D = input_size(spec)
    for i, block in enumerate(spec["attention"]):
        p, kind = f"attention.{i}.", block["type"]
        if kind == "feedforward":
            out[p + "score.weight"] = (1, d)
            out[p + "score.bias"] = (1,)
        elif kind == "additive":
            out[p + "proj.weight"] = (block["units"], d)
            out[p + "proj.bias"] = (block["units"],)
            out[p + "score.weight"] = (1, block["units"])
            out[p + "score.bias"] = (1,)
        elif kind == "general":
            out[p + "proj.weight"] = (d, d)
        elif kind == "general_tanh":
            out[p + "proj.weight"] = (d, d)
            out[p + "proj.bias"] = (d,)
        elif kind == "bahdanau":
            a = block.get("attention_size", d)
            out[p + "query_proj.weight"] = (a, d)
            out[p + "proj.weight"] = (a, d)
            out[p + "score.weight"] = (1, a)
        elif kind == "time_dense":
            out[p + "score.weight"] = (block["window"], block["window"])
            out[p + "score.bias"] = (block["window"],)
        elif kind == "feature":
            out[p + "score.weight"] = (D, D)
            out[p + "score.bias"] = (D,)
        if block.get("score_mix"):
            out[p + "mix.weight"] = (block["window"], block["window"])
            out[p + "mix.bias"] = (block["window"],)
        if kind in QUERY_TYPES and block["output"] == "luong":
            out[p + "combine.weight"] = (block["units"], 2 * d)
    n = head_input_size(spec)
    if spec["head"]["gate"]:
        g = gate_size(spec)
        out["head.gate.weight"] = (g, g)
        out["head.gate.bias"] = (g,)
    sizes = [n] + list(spec["head"]["hidden"]) + [len(spec["labels"])]
    for j in range(len(sizes) - 1):
        out[f"head.layers.{j}.weight"] = (sizes[j + 1], sizes[j])
        out[f"head.layers.{j}.bias"] = (sizes[j + 1],)
    return out
