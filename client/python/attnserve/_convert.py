"""Between numpy and the API's messages, shared by the sync and async clients.

Message-free parts (input checking, JSON results) import no stubs, so that
plotting works where only numpy and matplotlib are installed.
"""
import numbers

import numpy as np

from attnserve.types import (AttentionInfo, Model, ModelMetadata, ModelVersion, Result,
                             Results, Timing, TopClass)


# ------------------------------------------------------------------ inputs

def _is_row_list(x):
    return isinstance(x, (list, tuple))


def _is_id_list(x):
    return (_is_row_list(x) and len(x) > 0 and
            all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in x))


def _is_id_array(x):
    return isinstance(x, np.ndarray) and x.ndim == 1 and np.issubdtype(x.dtype, np.integer)


def as_sequences(sequences, ids=None):
    """(list of arrays, single) for `sequences`: float32 [steps, features]
    arrays for a model that reads values, int64 [steps] arrays of token ids
    for one that reads token ids.

    Values: one sequence is a 2-D array or a list of rows; several are a 3-D
    array, or a list of 2-D arrays or of lists of rows (lengths may differ).
    Token ids (`ids=True`): one sequence is a list of integers or a 1-D integer
    array; several are a list of them (lengths may differ) or a 2-D integer
    array [n, steps]. With `ids=None` a flat list of integers or a 1-D integer
    array is one sequence of token ids, anything else values. `single` is True
    when one sequence was given. Raises ValueError / TypeError naming the
    sequence that is wrong.
    """
    if ids or (ids is None and (_is_id_list(sequences) or _is_id_array(sequences))):
        return as_token_ids(sequences)
    if isinstance(sequences, np.ndarray):
        if sequences.ndim == 2:
            return [_as_array(sequences, None)], True
        if sequences.ndim == 3:
            return [_as_array(s, i) for i, s in enumerate(sequences)], False
        raise ValueError(_ndim_message(sequences.ndim, sequences.shape))
    if not _is_row_list(sequences):
        raise TypeError("sequences must be a numpy array or a list: one [steps, features] "
                        f"sequence or several, got {type(sequences).__name__}")
    if len(sequences) == 0:
        raise ValueError("no sequences given")
    first = sequences[0]
    if isinstance(first, np.ndarray):
        single = first.ndim <= 1
    elif _is_row_list(first):
        single = len(first) == 0 or not (_is_row_list(first[0]) or
                                         isinstance(first[0], np.ndarray))
    elif isinstance(first, numbers.Number):
        raise ValueError("a sequence is [steps, features]: got a flat list of numbers "
                         "(one feature per step: [[v0], [v1], ...])")
    else:
        raise TypeError(f"sequence 0: expected an array or a list of rows, "
                        f"got {type(first).__name__}")
    if single:
        return [_as_array(sequences, None)], True
    return [_as_array(s, i) for i, s in enumerate(sequences)], False


def as_token_ids(sequences):
    """(list of int64 [steps] arrays, single): one sequence of token ids (a
    list of integers, a 1-D integer array) or several (a list of them, a 2-D
    integer array [n, steps])."""
    flat = _is_row_list(sequences) and len(sequences) > 0 and all(
        isinstance(v, numbers.Number) for v in sequences)
    if flat or (isinstance(sequences, np.ndarray) and sequences.ndim == 1):
        return [_as_ids(sequences, None)], True
    if isinstance(sequences, np.ndarray):
        if sequences.ndim == 2:
            return [_as_ids(s, i) for i, s in enumerate(sequences)], False
        raise ValueError(f"token ids are one [steps] sequence or several [n, steps], "
                         f"got an array of shape {tuple(sequences.shape)}")
    if not _is_row_list(sequences):
        raise TypeError("token ids must be a list of integers, a numpy array, or a list of "
                        f"those, got {type(sequences).__name__}")
    if len(sequences) == 0:
        raise ValueError("no sequences given")
    return [_as_ids(s, i) for i, s in enumerate(sequences)], False


def _as_ids(sequence, index):
    where = "the sequence" if index is None else f"sequence {index}"
    try:
        array = np.asarray(sequence)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{where} is not a list of token ids: {e}") from None
    if array.ndim != 1:
        raise ValueError(f"{where}: token ids are one integer per step ([steps]), "
                         f"got shape {tuple(array.shape)}")
    if array.size == 0:
        raise ValueError(f"{where} has no steps")
    if not np.issubdtype(array.dtype, np.integer):
        integral = (np.issubdtype(array.dtype, np.floating) and np.all(np.isfinite(array)) and
                    np.all(array == np.round(array)))
        if not integral:
            raise ValueError(f"{where}: token ids must be integers, got {array.dtype} values")
    return np.ascontiguousarray(array.astype(np.int64))


def _ndim_message(ndim, shape):
    if ndim == 1:
        return (f"a sequence is [steps, features]: got a 1-D array of shape {tuple(shape)} "
                "(one feature per step: x.reshape(-1, 1); token ids: an integer array)")
    return (f"expected one sequence [steps, features] or several [n, steps, features], "
            f"got an array of shape {tuple(shape)}")


def _as_array(sequence, index):
    where = "the sequence" if index is None else f"sequence {index}"
    try:
        array = np.asarray(sequence, dtype=np.float32)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{where} is not a [steps, features] array of numbers: {e}") from None
    if array.ndim != 2:
        raise ValueError(f"{where}: {_ndim_message(array.ndim, array.shape)}")
    return np.ascontiguousarray(array)


def request(pb, arrays, model, version, return_attention, top_k, request_id=""):
    """A ClassifyRequest for the arrays."""
    if not isinstance(model, str) or not model:
        raise ValueError("model must be a non-empty model name")
    if top_k is None or int(top_k) < 0:
        raise ValueError(f"top_k must be 0 or more, got {top_k!r}")
    req = pb.ClassifyRequest(model=model, version=int(version or 0),
                             return_attention=bool(return_attention), top_k=int(top_k),
                             request_id=request_id)
    for a in arrays:
        seq = req.sequences.add()
        if a.ndim == 1:  # token ids
            seq.ids.extend(a.tolist())
            seq.steps = a.shape[0]
            continue
        seq.values.extend(a.ravel().tolist())
        seq.steps = a.shape[0]
        seq.features = a.shape[1]
    return req


# ----------------------------------------------------------------- answers

def _attention_dict(items):
    """{name: array} from (name, shape, weights) triples; a repeated name gets
    a ".N" suffix so that no map is lost."""
    maps = {}
    for i, (name, shape, weights) in enumerate(items):
        w = np.asarray(weights, dtype=np.float32)
        shape = tuple(int(s) for s in shape)
        if shape and int(np.prod(shape)) == w.size:
            w = w.reshape(shape)
        key = name if name not in maps else f"{name}.{i}"
        maps[key] = w
    return maps


def results_from_response(response, arrays=None):
    """Results from a ClassifyResponse message; arrays[i] is result i's input."""
    out = Results(model=response.model, model_version=response.model_version,
                  server_us=response.server_us, request_id=response.request_id)
    for i, c in enumerate(response.results):
        out.append(Result(
            probabilities=np.array(c.probabilities, dtype=np.float32),
            label=c.label,
            label_index=c.label_index,
            top=[TopClass(t.index, t.label, float(t.probability)) for t in c.top],
            attention=_attention_dict((a.name, a.shape, a.weights) for a in c.attention),
            timing=Timing(c.timing.queue_us, c.timing.compute_us, c.timing.batch_size),
            model=response.model,
            model_version=response.model_version,
            server_us=response.server_us,
            request_id=response.request_id,
            sequence=arrays[i] if arrays is not None and i < len(arrays) else None,
        ))
    return out


def _get(doc, snake, default=None):
    """doc[snake] or its proto3 JSON camelCase name."""
    if snake in doc:
        return doc[snake]
    parts = snake.split("_")
    camel = parts[0] + "".join(p.title() for p in parts[1:])
    return doc.get(camel, default)


def results_from_json(doc, sequences=None):
    """Results from a ClassifyResponse in proto3 JSON (int64 values may be strings)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise ValueError('expected a ClassifyResponse JSON object with a "results" array')
    arrays = None
    if sequences is not None:
        arrays = [None if s is None else np.asarray(s, dtype=np.float32) for s in sequences]
    model = _get(doc, "model", "")
    version = int(_get(doc, "model_version", 0))
    server_us = int(_get(doc, "server_us", 0))
    request_id = _get(doc, "request_id", "")
    out = Results(model=model, model_version=version, server_us=server_us,
                  request_id=request_id)
    for i, c in enumerate(doc["results"]):
        timing = _get(c, "timing", {}) or {}
        out.append(Result(
            probabilities=np.asarray(_get(c, "probabilities", []), dtype=np.float32),
            label=_get(c, "label", ""),
            label_index=int(_get(c, "label_index", 0)),
            top=[TopClass(int(t.get("index", 0)), t.get("label", ""),
                          float(t.get("probability", 0.0)))
                 for t in _get(c, "top", [])],
            attention=_attention_dict((a.get("name", ""), a.get("shape", []),
                                       a.get("weights", []))
                                      for a in _get(c, "attention", [])),
            timing=Timing(int(_get(timing, "queue_us", 0)), int(_get(timing, "compute_us", 0)),
                          int(_get(timing, "batch_size", 0))),
            model=model, model_version=version, server_us=server_us, request_id=request_id,
            sequence=arrays[i] if arrays is not None and i < len(arrays) else None,
        ))
    return out


def metadata_from_message(m):
    return ModelMetadata(
        name=m.name, version=m.version, description=m.description, input_size=m.input_size,
        max_sequence_length=m.max_sequence_length or None, labels=tuple(m.labels),
        output_activation=m.output_activation,
        attention=tuple(AttentionInfo(a.name, tuple(None if d < 0 else int(d) for d in a.shape))
                        for a in m.attention),
        precision=m.precision, encoder=m.encoder, attention_blocks=tuple(m.attention_blocks),
        requested_precision=m.requested_precision, precision_note=m.precision_note,
        cpu_isa=m.cpu_isa, onednn_version=m.onednn_version, vocab_size=m.vocab_size)


def models_from_message(response):
    return [Model(s.name, tuple(ModelVersion(v.version, v.state, v.reason) for v in s.versions))
            for s in response.models]
