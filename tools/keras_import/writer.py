"""Writes an imported model as an attnserve version directory.

Contract: write_version(imported, labels, out_dir) validates the spec with
tools/attnserve_ref/spec.py (the model.json schema) and checks the tensors are
exactly the ones it needs with their shapes, then writes model.json and
weights.safetensors (F32, little-endian, the safetensors layout of
docs/model-format.md) into a new directory, moved into place at the end: a
failure leaves nothing behind. An existing out_dir is refused unless
overwrite. Needs only numpy.
"""

import json
import os
import shutil
import struct
import tempfile

import numpy as np

from attnserve_ref.spec import expected_tensors, normalize_spec


def safetensors_bytes(tensors, metadata):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def model_json(spec):
    order = ["format", "format_version", "description", "input", "encoder", "attention", "head",
             "labels", "precision"]
    return json.dumps({k: spec[k] for k in order if k in spec}, indent=2) + "\n"


def write_version(imported, labels, out_dir, overwrite=False):
    spec = dict(imported.spec, labels=list(labels))
    normalize_spec(spec)  # raises ValueError naming the field
    want = expected_tensors(spec)
    have = {name: tuple(a.shape) for name, a in imported.tensors.items()}
    if want != have:
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        shapes = sorted(n for n in set(want) & set(have) if want[n] != have[n])
        raise ValueError(f"internal: tensors do not fit the spec (missing {missing}, extra "
                         f"{extra}, shapes differ {shapes})")
    for name, array in imported.tensors.items():
        if not np.all(np.isfinite(array)):
            raise ValueError(f"weight {name} has values that are not finite")
    if os.path.exists(out_dir) and not overwrite:
        raise ValueError(f"{out_dir} exists (pass --force to replace it)")
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".import-", dir=parent)
    try:
        with open(os.path.join(staging, "model.json"), "w") as f:
            f.write(model_json(spec))
        with open(os.path.join(staging, "weights.safetensors"), "wb") as f:
            f.write(safetensors_bytes(imported.tensors, {"producer": "attnserve-import keras"}))
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.rename(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return spec
