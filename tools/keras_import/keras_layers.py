"""Per-layer readers of the matcher: what one Keras layer's config means for
attnserve, and its weights in attnserve's (PyTorch) layout.

Contract: every function raises Refusal naming the layer when the config asks
for something attnserve does not compute exactly; weights are float32 numpy
arrays, Keras kernels [in, out] transposed to nn.Linear's [out, in], LSTM
kernels [in, 4H] to weight_ih [4H, in] (gate order i, f, c, o is PyTorch's i,
f, g, o) with Keras' one bias as bias_ih and zeros as bias_hh.
"""

import numpy as np

from .graph import Refusal

# Layers that are the identity at inference.
PASS_THROUGH = ("Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout",
                "AlphaDropout", "ActivityRegularization")
ACTIVATIONS = {None: "linear", "linear": "linear", "tanh": "tanh", "relu": "relu",
               "sigmoid": "sigmoid", "softmax": "softmax", "hard_sigmoid": "hard_sigmoid"}


def activation(layer):
    """The layer's activation name ("linear" for none), or Refusal for an unknown one."""
    value = layer.config.get("activation")
    if isinstance(value, dict):  # Keras 3 may serialize {"class_name": ...}
        value = value.get("config", {}).get("name", value.get("class_name"))
    if value not in ACTIVATIONS:
        raise Refusal(layer.name, f"activation {value!r} is not one attnserve computes here")
    return ACTIVATIONS[value]


def _named(weights, layer, names):
    """Weights of `layer` picked by name suffix, falling back to their order."""
    items = weights.get(layer.name, [])
    out = []
    for i, name in enumerate(names):
        found = [a for n, a in items if n.split("/")[-1] == name]
        if len(found) == 1:
            out.append(found[0])
        elif i < len(items):
            out.append(items[i][1])
        else:
            raise Refusal(layer.name, f"has no weight {name!r} in the weights file")
    return out


def dense(weights, layer, expect_units=None):
    """(weight [out, in], bias [out]) of a Dense layer (zero bias without use_bias)."""
    if layer.cls != "Dense":
        raise Refusal(layer.name, f"is a {layer.cls}, where a Dense layer was expected")
    units = layer.config["units"]
    if expect_units is not None and units != expect_units:
        raise Refusal(layer.name, f"has {units} units where {expect_units} were expected")
    use_bias = layer.config.get("use_bias", True)
    values = _named(weights, layer, ["kernel", "bias"] if use_bias else ["kernel"])
    kernel = values[0]
    bias = values[1] if use_bias else np.zeros(units, np.float32)
    if kernel.ndim != 2 or kernel.shape[1] != units:
        raise Refusal(layer.name, f"kernel has shape {list(kernel.shape)}")
    return np.ascontiguousarray(kernel.T), np.asarray(bias, np.float32)


def recurrent_activation(layer, config, keras_version):
    """attnserve's recurrent_activation for an LSTM config, and a note when assumed."""
    value = config.get("recurrent_activation")
    if value == "sigmoid":
        return "sigmoid", None
    if value == "hard_sigmoid":
        if str(keras_version).startswith("3"):
            return "hard_sigmoid_keras3", (f"layer {layer!r}: recurrent_activation "
                                           "'hard_sigmoid' is Keras 3's relu6(x + 3) / 6 "
                                           f"(saved by Keras {keras_version})")
        return "hard_sigmoid", (f"layer {layer!r}: recurrent_activation 'hard_sigmoid' is Keras "
                                f"2's clip(0.2 x + 0.5, 0, 1) (saved by {keras_version})")
    raise Refusal(layer, f"recurrent_activation {value!r} is not served (sigmoid, "
                         "hard_sigmoid)")


def lstm_config(layer, keras_version):
    """The encoder fields of one LSTM or Bidirectional(LSTM) layer, and notes."""
    notes = []
    config, bidirectional = layer.config, False
    if layer.cls == "Bidirectional":
        bidirectional = True
        if config.get("merge_mode", "concat") != "concat":
            raise Refusal(layer.name, f"merge_mode {config.get('merge_mode')!r}: attnserve "
                                      "concatenates the two directions (merge_mode 'concat')")
        inner = config["layer"]
        if inner["class_name"] != "LSTM":
            raise Refusal(layer.name, f"wraps a {inner['class_name']}, not an LSTM")
        config = inner["config"]
    elif layer.cls != "LSTM":
        raise Refusal(layer.name, f"{layer.cls} is not an LSTM (attnserve serves LSTM encoders)")
    for key in ("go_backwards", "stateful", "return_state", "time_major"):
        if config.get(key):
            raise Refusal(layer.name, f"{key}=True is not served")
    cell = config.get("activation", "tanh")
    cell = {"tanh": "tanh", "relu": "relu", "linear": "linear", None: "linear"}.get(cell)
    if cell is None:
        raise Refusal(layer.name, f"activation {config.get('activation')!r} is not served "
                                  "(tanh, relu, linear)")
    recurrent, note = recurrent_activation(layer.name, config, keras_version)
    if note:
        notes.append(note)
    if config.get("dropout") or config.get("recurrent_dropout"):
        notes.append(f"layer {layer.name!r}: dropout is inactive at inference")
    return {"units": config["units"], "bidirectional": bidirectional, "activation": cell,
            "recurrent_activation": recurrent, "use_bias": config.get("use_bias", True),
            "return_sequences": bool(config.get("return_sequences"))}, notes


def lstm_weights(weights, layer, params, k):
    """{encoder tensor name: array} of stack layer k."""
    items = [a for _, a in weights.get(layer.name, [])]
    per_direction = 3 if params["use_bias"] else 2
    directions = 2 if params["bidirectional"] else 1
    if len(items) != per_direction * directions:
        raise Refusal(layer.name, f"has {len(items)} weights; an LSTM has {per_direction} per "
                                  "direction")
    out, hidden = {}, params["units"]
    for direction in range(directions):
        kernel, recurrent = items[direction * per_direction:direction * per_direction + 2]
        bias = items[direction * per_direction + 2] if params["use_bias"] else \
            np.zeros(4 * hidden, np.float32)
        if kernel.shape[1] != 4 * hidden or recurrent.shape != (hidden, 4 * hidden):
            raise Refusal(layer.name, "LSTM weights have unexpected shapes "
                                      f"{list(kernel.shape)}, {list(recurrent.shape)}")
        suffix = f"_l{k}" + ("_reverse" if direction else "")
        out[f"encoder.weight_ih{suffix}"] = np.ascontiguousarray(kernel.T)
        out[f"encoder.weight_hh{suffix}"] = np.ascontiguousarray(recurrent.T)
        out[f"encoder.bias_ih{suffix}"] = np.asarray(bias, np.float32)
        out[f"encoder.bias_hh{suffix}"] = np.zeros(4 * hidden, np.float32)
    return out


def keras_attention_weights(weights, layer, d):
    """keras-attention's Attention layer: (score, {name: array}) in attnserve names."""
    score = layer.config.get("score", "luong")
    items = weights.get(layer.name, [])
    names = {"luong": ["luong_w", "attention_vector"],
             "bahdanau": ["bahdanau_w1", "bahdanau_w2", "bahdanau_v", "attention_vector"]}
    if score not in names:
        raise Refusal(layer.name, f"score {score!r} is not keras-attention's luong or bahdanau")
    wanted = names[score]
    found = {}
    for i, name in enumerate(wanted):
        match = [a for n, a in items if name in n.split("/")]
        if len(match) == 1:
            found[name] = match[0]
        elif len(items) == len(wanted):
            found[name] = items[i][1]
        else:
            raise Refusal(layer.name, f"has no weight {name!r}")
    out = {"combine.weight": np.ascontiguousarray(found["attention_vector"].T)}
    if score == "luong":
        out["proj.weight"] = np.ascontiguousarray(found["luong_w"].T)
    else:
        out["query_proj.weight"] = np.ascontiguousarray(found["bahdanau_w1"].T)
        out["proj.weight"] = np.ascontiguousarray(found["bahdanau_w2"].T)
        out["score.weight"] = np.ascontiguousarray(found["bahdanau_v"].T)
    if out["combine.weight"].shape[1] != 2 * d:
        raise Refusal(layer.name, f"attention_vector kernel does not read [c; h_t] of 2 x {d}")
    return ("general" if score == "luong" else "bahdanau"), out
