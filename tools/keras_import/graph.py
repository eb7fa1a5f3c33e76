"""The layer graph of a Keras model config.

Contract: Graph(config) accepts a functional model (Model / Functional) or a
Sequential one with one input and one output, each layer called once (a
layer applied twice raises Refusal naming it). graph.layers maps a name to a
Layer (cls, config, inputs: producer names in call order, consumers);
graph.input and graph.output are layer names; graph.shape is the input's
batch shape without the batch dimension. Thread-safety: plain values.
"""

from dataclasses import dataclass, field


class Refusal(Exception):
    """A graph attnserve cannot serve exactly: names the layer and why."""

    def __init__(self, layer, reason):
        super().__init__(f"layer {layer!r}: {reason}" if layer else reason)
        self.layer, self.reason = layer, reason


@dataclass
class Layer:
    name: str
    cls: str
    config: dict
    inputs: list = field(default_factory=list)
    consumers: list = field(default_factory=list)


def _sequential_layers(config):
    layers = config["config"] if isinstance(config["config"], list) else \
        config["config"]["layers"]
    out, previous = [], None
    first = layers[0]["config"]
    if layers[0]["class_name"] != "InputLayer":
        shape = first.get("batch_input_shape") or first.get("batch_shape")
        if shape is None:
            raise Refusal(first.get("name"), "the Sequential model states no input shape")
        out.append({"class_name": "InputLayer", "name": "input",
                    "config": {"batch_input_shape": shape, "dtype": first.get("dtype")},
                    "inbound_nodes": []})
        previous = "input"
    for layer in layers:
        name = layer["config"]["name"]
        nodes = [] if previous is None else [[[previous, 0, 0, {}]]]
        out.append(dict(layer, name=name, inbound_nodes=nodes))
        previous = name
    return out, out[0]["name"], previous


class Graph:
    def __init__(self, config):
        kind = config.get("class_name")
        if kind == "Sequential":
            layers, self.input, self.output = _sequential_layers(config)
        elif kind in ("Model", "Functional"):
            inner = config["config"]
            layers = inner["layers"]
            inputs, outputs = inner["input_layers"], inner["output_layers"]
            if len(inputs) != 1 or len(outputs) != 1:
                raise Refusal(None, f"the model has {len(inputs)} inputs and {len(outputs)} "
                                    "outputs; attnserve serves one input and one output")
            self.input, self.output = inputs[0][0], outputs[0][0]
        else:
            raise Refusal(None, f"model class {kind!r} is not a Keras functional or Sequential "
                                "model")
        self.layers = {}
        for layer in layers:
            name = layer.get("name") or layer["config"]["name"]
            nodes = layer.get("inbound_nodes", [])
            if len(nodes) > 1:
                raise Refusal(name, "is called more than once (shared layers are not served)")
            inputs = [inbound[0] for inbound in nodes[0]] if nodes else []
            self.layers[name] = Layer(name, layer["class_name"], layer["config"], inputs)
        for layer in self.layers.values():
            for producer in layer.inputs:
                self.layers[producer].consumers.append(layer.name)
        first = self.layers[self.input].config
        shape = first.get("batch_input_shape") or first.get("batch_shape")
        self.shape = list(shape[1:])
        self.dtype = first.get("dtype") or "float32"

    def __getitem__(self, name):
        return self.layers[name]
