"""Minimal safetensors reader and writer (torch tensors in, torch tensors out).

Contract (https://huggingface.co/docs/safetensors, as in docs/model-format.md):
an 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON mapping
each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
relative to the first byte after the header) plus an optional "__metadata__"
object of string -> string, then the data section, little-endian, row-major.

The writer pads the header with spaces so that N is a multiple of 8 and lays
tensors out by decreasing element size, so every tensor is aligned to its element
size. The reader validates everything it relies on (dtype, shape vs. byte count,
offsets in bounds, no overlap, data section covered exactly) and raises
ValueError naming the file and the tensor.

Dtypes: F32, F64, F16, BF16 (through torch; numpy has no bfloat16), I32, I64.
"""

import json
import struct

import numpy as np
import torch

# safetensors dtype -> (torch dtype, little-endian numpy dtype used for the bytes)
_DTYPES = {
    "F64": (torch.float64, np.dtype("<f8")),
    "F32": (torch.float32, np.dtype("<f4")),
    "F16": (torch.float16, np.dtype("<f2")),
    "BF16": (torch.bfloat16, np.dtype("<i2")),  # raw bits, reinterpreted by torch
    "I64": (torch.int64, np.dtype("<i8")),
    "I32": (torch.int32, np.dtype("<i4")),
}
_BY_TORCH = {torch_dtype: name for name, (torch_dtype, _) in _DTYPES.items()}

_MAX_HEADER = 100 * 1024 * 1024


def _tensor_bytes(tensor):
    tensor = tensor.detach().cpu().contiguous()
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().astype("<i2", copy=False).tobytes()
    name = _BY_TORCH[tensor.dtype]
    return tensor.numpy().astype(_DTYPES[name][1], copy=False).tobytes()


def encode(tensors, metadata=None):
    """Returns the bytes of a safetensors file.

    tensors: mapping name -> torch.Tensor or numpy array (dtype must be one of
    the supported ones). metadata: optional mapping str -> str.
    """
    prepared = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(f"invalid tensor name {name!r}")
        tensor = value if isinstance(value, torch.Tensor) else torch.from_numpy(np.asarray(value))
        if tensor.dtype not in _BY_TORCH:
            raise ValueError(f"tensor {name!r}: unsupported dtype {tensor.dtype}")
        prepared[name] = tensor
    # Largest elements first keeps every tensor aligned to its element size.
    order = sorted(prepared, key=lambda n: (-prepared[n].element_size(), n))

    header = {}
    if metadata:
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError("__metadata__ must map strings to strings")
        header["__metadata__"] = dict(metadata)
    chunks, offset = [], 0
    for name in order:
        tensor = prepared[name]
        data = _tensor_bytes(tensor)
        header[name] = {
            "dtype": _BY_TORCH[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)

    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def save(path, tensors, metadata=None):
    """Writes `tensors` (and optional `metadata`) to `path`."""
    data = encode(tensors, metadata)
    with open(path, "wb") as f:
        f.write(data)


def decode(data, label="<bytes>"):
    """Parses safetensors bytes. Returns (dict name -> torch.Tensor, metadata dict)."""
    def fail(what):
        raise ValueError(f"{label}: {what}")

    if len(data) < 8:
        fail("shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or 8 + n > len(data):
        fail(f"header length {n} exceeds the file")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"header is not valid JSON: {e}")
    if not isinstance(header, dict):
        fail("header is not a JSON object")
    body = memoryview(data)[8 + n:]

    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        fail("__metadata__ must map strings to strings")

    tensors, spans = {}, []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            fail(f"tensor {name!r}: entry must have exactly dtype, shape, data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in _DTYPES:
            fail(f"tensor {name!r}: unsupported dtype {dtype!r}")
        if not isinstance(shape, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
            fail(f"tensor {name!r}: bad shape {shape!r}")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= len(body)):
            fail(f"tensor {name!r}: bad data_offsets {offsets!r}")
        torch_dtype, np_dtype = _DTYPES[dtype]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if offsets[1] - offsets[0] != count * np_dtype.itemsize:
            fail(f"tensor {name!r}: {offsets[1] - offsets[0]} bytes for shape {shape} {dtype}")
        array = np.frombuffer(body[offsets[0]:offsets[1]], dtype=np_dtype).copy()
        tensor = torch.from_numpy(array.astype(np_dtype.newbyteorder("="), copy=False))
        if torch_dtype == torch.bfloat16:
            tensor = tensor.view(torch.bfloat16)
        tensors[name] = tensor.reshape(shape)
        spans.append((offsets[0], offsets[1], name))

    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            fail(f"tensor {name!r}: " + ("overlaps the previous tensor" if begin < position
                                          else f"gap before it at byte {position}"))
        position = end
    if position != len(body):
        fail(f"data section has {len(body) - position} trailing bytes")
    return tensors, metadata


def load(path):
    """Reads `path`. Returns (dict name -> torch.Tensor, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    return decode(data, label=str(path))
