#!/usr/bin/python3
"""Writes model.h5 and model.keras beside each TensorFlow.js fixture.

Contract: for tests/fixtures/keras/<recipe>/model.json (+ weights.bin), writes
- model.h5: Keras' HDF5 layout: root attributes keras_version, backend and
  model_config (the Keras model config JSON, the same schema as the
  TensorFlow.js modelTopology); group model_weights with layer_names, and per
  layer a group with weight_names whose datasets sit at
  model_weights/<layer>/<layer>/<weight>:0 (the names TensorFlow.js gives).
- model.keras: Keras 3's zip archive: config.json (the Keras 3 config schema:
  module, registered_name, inbound_nodes as {"args", "kwargs"} with
  __keras_tensor__ keras_history), metadata.json, and model.weights.h5 with
  each layer's variables at layers/<layer>/vars/<i> (Bidirectional:
  layers/<layer>/forward_layer/cell/vars/<i> and backward_layer; LSTM:
  layers/<layer>/cell/vars/<i>), in the order of the layer's weights.
A model whose LSTM uses hard_sigmoid gets no model.keras: Keras 3 reads that
name as its own relu6(x + 3) / 6, not the clip(0.2 x + 0.5, 0, 1) the
numbers were computed with.
The weights are the same numbers as weights.bin. Deterministic: h5py files are
written without timestamps (track_times=False), the zip with a fixed date.

Run: /usr/bin/python3 tools/keras/write_keras_files.py [FIXTURES_DIR]
"""

import json
import os
import sys
import tempfile
import zipfile

import h5py
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DIR = os.path.join(REPO, "tests", "fixtures", "keras")
KERAS2_VERSION = "2.2.4"
KERAS3_VERSION = "3.3.3"


def read_tfjs(directory):
    """(topology dict, [(name, array)] in manifest order) of a TF.js layers model."""
    with open(os.path.join(directory, "model.json")) as f:
        model = json.load(f)
    with open(os.path.join(directory, "weights.bin"), "rb") as f:
        weights, blob = [], f.read()
    offset = 0
    for group in model["weightsManifest"]:
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            array = np.frombuffer(blob, "<f4", count, offset).reshape(spec["shape"])
            weights.append((spec["name"], array))
            offset += 4 * count
    return model["modelTopology"], weights


def layer_weights(topology, weights):
    """{layer name: [(weight name, array)]} by the layer-name prefix of each weight."""
    names = [layer["name"] for layer in topology["config"]["layers"]]
    out = {name: [] for name in names}
    for name, array in weights:
        out[name.split("/")[0]].append((name, array))
    return out


def new_file(target):
    """A new HDF5 file at path `target` that records no creation times."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fcpl.set_link_creation_order(h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED)
    return h5py.File(h5py.h5f.create(target.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl))


def new_group(parent, name):
    """parent[name], created without times and keeping its members' order."""
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    gcpl.set_link_creation_order(h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED)
    lcpl = h5py.h5p.create(h5py.h5p.LINK_CREATE)
    lcpl.set_create_intermediate_group(True)
    h5py.h5g.create(parent.id, name.encode(), lcpl=lcpl, gcpl=gcpl)
    return parent[name]


def write_h5(path, topology, weights):
    config = dict(topology)
    config.pop("keras_version", None)
    config.pop("backend", None)
    by_layer = layer_weights(topology, weights)
    with new_file(path) as f:
        f.attrs["keras_version"] = np.bytes_(KERAS2_VERSION)
        f.attrs["backend"] = np.bytes_("tensorflow")
        f.attrs["model_config"] = np.bytes_(json.dumps(config))
        group = new_group(f, "model_weights")
        group.attrs["layer_names"] = np.array([np.bytes_(n) for n in by_layer])
        group.attrs["backend"] = np.bytes_("tensorflow")
        group.attrs["keras_version"] = np.bytes_(KERAS2_VERSION)
        for layer, items in by_layer.items():
            g = new_group(group, layer)
            g.attrs["weight_names"] = np.array([np.bytes_(n + ":0") for n, _ in items])
            for name, array in items:
                g.create_dataset(name + ":0", data=array, track_times=False)


def keras3_tensor(history, shape=None):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": list(history)}}


def keras3_layer(layer):
    """One layer of a Keras 2 config in the Keras 3 schema."""
    nodes = []
    for node in layer["inbound_nodes"]:
        tensors = [keras3_tensor(inbound[:3]) for inbound in node]
        nodes.append({"args": [tensors if len(tensors) > 1 else tensors[0]], "kwargs": {}})
    config = dict(layer["config"])
    if layer["class_name"] == "InputLayer":
        config["batch_shape"] = config.pop("batch_input_shape")
    if layer["class_name"] == "Bidirectional":
        inner = config["layer"]
        config["layer"] = {"module": "keras.layers", "class_name": inner["class_name"],
                           "config": inner["config"], "registered_name": None}
    custom = layer["class_name"] in ("Attention",)
    return {"module": None if custom else "keras.layers", "class_name": layer["class_name"],
            "config": config, "registered_name": "Attention>Attention" if custom else None,
            "name": layer["name"], "inbound_nodes": nodes}


def write_keras(path, topology, weights):
    config = topology["config"]
    keras3 = {"module": "keras", "class_name": "Functional", "registered_name": "Functional",
              "config": {"name": config["name"],
                         "layers": [keras3_layer(l) for l in config["layers"]],
                         "input_layers": config["input_layers"][0],
                         "output_layers": config["output_layers"][0]}}
    staging = tempfile.NamedTemporaryFile(suffix=".h5", delete=False)
    staging.close()
    with new_file(staging.name) as f:
        layers = new_group(f, "layers")
        for layer, items in layer_weights(topology, weights).items():
            group = new_group(layers, layer)
            cls = next(l["class_name"] for l in config["layers"] if l["name"] == layer)
            if cls == "Bidirectional":
                for side in ("forward", "backward"):
                    vars_ = new_group(group, f"{side}_layer/cell/vars")
                    side_items = [a for n, a in items if n.split("/")[1].startswith(side)]
                    for i, array in enumerate(side_items):
                        vars_.create_dataset(str(i), data=array, track_times=False)
                continue
            vars_ = new_group(group, "cell/vars" if cls == "LSTM" else "vars")
            for i, (_, array) in enumerate(items):
                vars_.create_dataset(str(i), data=array, track_times=False)
    with open(staging.name, "rb") as f:
        weights_h5 = f.read()
    os.unlink(staging.name)
    metadata = {"keras_version": KERAS3_VERSION, "date_saved": "2024-01-01@00:00:00"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("metadata.json", json.dumps(metadata)),
                           ("config.json", json.dumps(keras3)),
                           ("model.weights.h5", weights_h5)):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    for name in sorted(os.listdir(root)):
        directory = os.path.join(root, name)
        if not os.path.isfile(os.path.join(directory, "model.json")):
            continue
        topology, weights = read_tfjs(directory)
        write_h5(os.path.join(directory, "model.h5"), topology, weights)
        if "hard_sigmoid" in json.dumps(topology):
            print(f"{name}: model.h5 (no model.keras: Keras 3's hard_sigmoid differs)")
            continue
        write_keras(os.path.join(directory, "model.keras"), topology, weights)
        print(f"{name}: model.h5, model.keras")


if __name__ == "__main__":
    main()
