"""What the client returns: plain Python objects with numpy arrays.

Built from the API's messages (proto/attnserve/v1/attnserve.proto) by the
clients, or from the JSON that `attnctl classify --json` prints
(`Results.from_json`), so that plotting works on either.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np


@dataclass(frozen=True)
class TopClass:
    """One of the `top_k` most probable outputs."""
    index: int
    label: str
    probability: float


@dataclass(frozen=True)
class Timing:
    """How a sequence was served: time queued before its batch started, its
    batch's run time (both microseconds), and the sequences in that batch."""
    queue_us: int
    compute_us: int
    batch_size: int


@dataclass(eq=False)
class Result:
    """The classification of one sequence.

    probabilities: float32 [outputs], after the model's output activation.
    label, label_index: the highest-scoring output.
    top: the top_k most probable outputs, when asked for (else empty).
    attention: map name -> float32 array shaped as the server reports it,
        padding stripped, in the order of the model's attention blocks:
        "temporal" [steps], "feature" [steps, features] or [features],
        "time" [window, channels] or [window] (docs/attention.md). Empty when
        attention was not asked for or the model has none.
    timing: queue and compute time of its batch.
    model, model_version: who answered; server_us and request_id are the
        response's (shared by every sequence of one request).
    sequence: the input as sent, float32 [steps, features], or int64 [steps]
        token ids (None when the result was read from JSON without its input).
    """
    probabilities: np.ndarray
    label: str
    label_index: int
    top: List[TopClass]
    attention: Dict[str, np.ndarray]
    timing: Timing
    model: str = ""
    model_version: int = 0
    server_us: int = 0
    request_id: str = ""
    sequence: Optional[np.ndarray] = None

    @property
    def probability(self):
        """The probability (or score) of `label`."""
        if 0 <= self.label_index < len(self.probabilities):
            return float(self.probabilities[self.label_index])
        return float("nan")

    def __repr__(self):
        maps = ", ".join(f"{k}{list(v.shape)}" for k, v in self.attention.items())
        return (f"Result(label={self.label!r}, probability={self.probability:.4f}, "
                f"model={self.model!r} v{self.model_version}, attention=[{maps}])")


class Results(list):
    """The results of one request, one per sequence in request order, with the
    response's model, model_version, server_us and request_id."""

    def __init__(self, results=(), model="", model_version=0, server_us=0, request_id=""):
        super().__init__(results)
        self.model = model
        self.model_version = model_version
        self.server_us = server_us
        self.request_id = request_id

    def __repr__(self):
        return (f"Results({len(self)} sequences, model={self.model!r} v{self.model_version}, "
                f"server_us={self.server_us})")

    @classmethod
    def from_json(cls, doc, sequences=None):
        """Results from a ClassifyResponse as JSON (a dict, as `attnctl classify
        --json` prints it; proto3 JSON, snake_case or camelCase names).
        `sequences`, one [steps, features] array per result, become each
        result's `sequence`."""
        from attnserve import _convert
        return _convert.results_from_json(doc, sequences)


@dataclass(frozen=True)
class AttentionInfo:
    """An attention map a model returns: its name and shape; None stands for
    the sequence's own length."""
    name: str
    shape: Tuple[Optional[int], ...]


@dataclass(frozen=True)
class ModelMetadata:
    """GetModelMetadata: what one model version takes and returns (docs/api.md).
    max_sequence_length is None when unlimited."""
    name: str
    version: int
    description: str
    input_size: int
    max_sequence_length: Optional[int]
    labels: Tuple[str, ...]
    output_activation: str
    attention: Tuple[AttentionInfo, ...]
    precision: str
    encoder: str
    attention_blocks: Tuple[str, ...]
    requested_precision: str = ""
    precision_note: str = ""
    cpu_isa: str = ""
    onednn_version: str = ""
    vocab_size: int = 0  # a model that reads token ids: ids in [0, vocab_size); 0 otherwise


@dataclass(frozen=True)
class ModelVersion:
    """One version of a model and its state: "READY", "LOADING" or "FAILED"
    (with the reason)."""
    version: int
    state: str
    reason: str = ""


@dataclass(frozen=True)
class Model:
    """A model of the server's repository and its versions."""
    name: str
    versions: Tuple[ModelVersion, ...] = field(default_factory=tuple)

    @property
    def ready_versions(self):
        return [v.version for v in self.versions if v.state == "READY"]


@dataclass(eq=False)
class StreamAnswer:
    """One answer of classify_stream: the input at position `index` of the
    stream, its results (a Result for one sequence, Results for several), or
    the error the server answered it with (the stream goes on)."""
    index: int
    request_id: str
    result: object = None
    error: Optional[Exception] = None

    @property
    def ok(self):
        return self.error is None

    def get(self):
        """The result, or raise the error."""
        if self.error is not None:
            raise self.error
        return self.result
