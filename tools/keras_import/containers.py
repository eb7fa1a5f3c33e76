"""Reads a Keras model from any of its three containers into a KerasModel.

Contract: read_model(path) accepts
- an HDF5 file (Keras 2 `model.save("m.h5")`): the root attribute model_config
  (JSON: {"class_name", "config"}) and keras_version; weights under
  model_weights/<layer>, listed by each group's weight_names attribute;
- a .keras zip archive (Keras 3): config.json (the Keras 3 schema; inbound
  nodes as {"args", "kwargs"} are converted to the Keras 2 form), metadata.json
  (keras_version), and model.weights.h5 with each layer's variables at
  layers/<layer>/.../vars/<i>, read in order (LSTM under cell/, Bidirectional
  under forward_layer/ and backward_layer/);
- a TensorFlow.js layers model.json: modelTopology plus the weightsManifest's
  binary files (float32 only), weights named <layer>/<...>/<weight>.
It returns KerasModel(config, weights, keras_version, source) where config is
the Keras 2 style model config and weights maps each layer name to its list of
(name, numpy float32 array) in the layer's weight order, names relative to the
layer with any ":0" suffix dropped. Anything unreadable raises ValueError
naming the file and what is wrong. Reads only; never executes stored code.
"""

import io
import json
import os
import zipfile
from dataclasses import dataclass

import numpy as np


@dataclass
class KerasModel:
    config: dict         # {"class_name": "Model"|"Functional"|"Sequential", "config": {...}}
    weights: dict        # layer name -> [(weight name, np.ndarray)]
    keras_version: str   # e.g. "2.2.4", "3.3.3", "tfjs-layers 4.22.0"
    source: str          # "h5", "keras" or "tfjs"


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _relative(layer, name):
    name = _text(name)
    if name.endswith(":0"):
        name = name[:-2]
    return name[len(layer) + 1:] if name.startswith(layer + "/") else name


def read_h5(path):
    import h5py
    with h5py.File(path, "r") as f:
        if "model_config" not in f.attrs:
            raise ValueError(f"{path}: no model_config attribute (weights only? save the whole "
                             "model with model.save)")
        config = json.loads(_text(f.attrs["model_config"]))
        version = _text(f.attrs.get("keras_version", "unknown"))
        group = f["model_weights"] if "model_weights" in f else f
        weights = {}
        for layer in [_text(n) for n in group.attrs.get("layer_names", [])]:
            g = group[layer]
            weights[layer] = [(_relative(layer, n), np.asarray(g[_text(n)], dtype=np.float32))
                              for n in g.attrs.get("weight_names", [])]
    return KerasModel(config, weights, version, "h5")


def _keras3_inbound(nodes):
    """Keras 3 inbound nodes ({"args", "kwargs"}) as Keras 2 [[layer, node, tensor, {}]]."""
    out = []
    for node in nodes:
        if isinstance(node, list):  # already Keras 2 form
            out.append(node)
            continue
        tensors = []

        def collect(value):
            if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
                history = value["config"]["keras_history"]
                tensors.append([history[0], history[1], history[2], {}])
            elif isinstance(value, (list, tuple)):
                for v in value:
                    collect(v)
        collect(node.get("args", []))
        out.append(tensors)
    return out


def _keras3_config(config):
    layers = []
    for layer in config["config"]["layers"]:
        layer = dict(layer)
        layer["inbound_nodes"] = _keras3_inbound(layer.get("inbound_nodes", []))
        cfg = dict(layer["config"])
        if layer["class_name"] == "InputLayer" and "batch_shape" in cfg:
            cfg["batch_input_shape"] = cfg.pop("batch_shape")
        layer["config"] = cfg
        layers.append(layer)
    inner = dict(config["config"], layers=layers)
    for key in ("input_layers", "output_layers"):
        value = inner.get(key, [])
        if value and not isinstance(value[0], list):
            inner[key] = [value]
    return {"class_name": "Functional", "config": inner}


def _vars(group):
    """The datasets of every vars/ group under `group`, in path order of their index."""
    found = []

    def visit(name, obj):
        parts = name.split("/")
        if len(parts) >= 2 and parts[-2] == "vars" and hasattr(obj, "shape"):
            found.append((parts[:-2], int(parts[-1]), np.asarray(obj, dtype=np.float32)))
    group.visititems(visit)
    order = {"forward_layer": 0, "backward_layer": 1}
    found.sort(key=lambda item: ([order.get(p, 2) for p in item[0]], item[0], item[1]))
    return found


def read_keras(path):
    import h5py
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for needed in ("config.json", "model.weights.h5"):
            if needed not in names:
                raise ValueError(f"{path}: the archive has no {needed}")
        config = _keras3_config(json.loads(z.read("config.json")))
        metadata = json.loads(z.read("metadata.json")) if "metadata.json" in names else {}
        data = z.read("model.weights.h5")
    weights = {}
    with h5py.File(io.BytesIO(data), "r") as f:
        layers = f["layers"] if "layers" in f else f
        for layer in layers:
            weights[layer] = [("/".join(prefix + [str(i)]), array)
                              for prefix, i, array in _vars(layers[layer])]
    return KerasModel(config, weights, str(metadata.get("keras_version", "3")), "keras")


def read_tfjs(path):
    with open(path) as f:
        model = json.load(f)
    if "modelTopology" not in model or "weightsManifest" not in model:
        raise ValueError(f"{path}: not a TensorFlow.js layers model (no modelTopology or "
                         "weightsManifest)")
    topology = model["modelTopology"]
    config = topology.get("model_config", topology)
    directory = os.path.dirname(os.path.abspath(path))
    weights = {}
    for group in model["weightsManifest"]:
        blob = b""
        for name in group["paths"]:
            with open(os.path.join(directory, name), "rb") as f:
                blob += f.read()
        offset = 0
        for spec in group["weights"]:
            if spec.get("dtype", "float32") != "float32" or "quantization" in spec:
                raise ValueError(f"{path}: weight {spec['name']} is not plain float32")
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            if offset + 4 * count > len(blob):
                raise ValueError(f"{path}: the weight files end before {spec['name']}")
            array = np.frombuffer(blob, "<f4", count, offset).reshape(spec["shape"])
            offset += 4 * count
            layer = spec["name"].split("/")[0]
            weights.setdefault(layer, []).append((_relative(layer, spec["name"]),
                                                  array.astype(np.float32)))
    version = _text(topology.get("keras_version", "tfjs"))
    return KerasModel(config, weights, version, "tfjs")


def read_model(path):
    """The KerasModel of `path` (.h5/.hdf5, .keras, or a TF.js model.json)."""
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such file")
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic.startswith(b"\x89HDF"):
        return read_h5(path)
    if magic.startswith(b"PK"):
        return read_keras(path)
    if path.endswith(".json"):
        return read_tfjs(path)
    raise ValueError(f"{path}: not an HDF5 file, a .keras archive or a TensorFlow.js model.json")
