"""Where each attention map goes in a picture, decided without drawing.

`panels(result, sequence)` turns a classification into a list of Panel
descriptions; attnserve.plot draws them with matplotlib. The rules live here,
apart from any drawing library, so that every view of attention (the plots,
`attnctl classify --plot`, a browser view) lays maps out the same way:

1. One panel per attention map, in the model's order, then the input.
2. A 1-D map is drawn as bars, a 2-D map as a heatmap with the step axis
   horizontal: "temporal" [l] as bars over steps; "feature" [l, D] as a
   heatmap of features (rows) by steps, [D] as bars over features; "time"
   [W, k] as a heatmap of channels by window steps, [W] as bars over window
   steps. Maps of other names follow the same shape rules.
3. A map whose step axis has as many steps as the input is aligned with it:
   these panels share one horizontal axis (step t of every panel is the same
   column), so the bars stand over the input's features. A map over a fixed
   window of another length (time_dense pads or truncates the sequence to it)
   gets its own "window step" axis.
4. The input [T, D] is a heatmap of features (rows) by steps on a diverging
   scale centred on 0, or lines when it has at most 2 features. The step of
   the temporal map's peak is marked on it.
5. Attention is drawn on a sequential scale from 0 to the map's largest
   weight; every panel's title names the map, its shape and its peak.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

# Inputs with at most this many features are drawn as lines rather than a heatmap.
MAX_LINE_FEATURES = 2


@dataclass
class Panel:
    """One panel of an attention picture.

    key: "attention:<map name>" or "input".
    kind: "bars" (data 1-D) or "heatmap" (data 2-D, rows drawn top to bottom,
        columns along the horizontal axis) or "lines" (data 2-D, one line per row).
    data: float32 values as drawn (a heatmap's [steps, features] map is
        transposed to [features, steps]).
    axis: what the horizontal axis counts: "step" (aligned with the input),
        "window step", "feature" or "index".
    title, x_label, y_label: text.
    row_labels: names of a heatmap's or lines' rows; tick_labels: names of
        the bars (features), when they are not step numbers.
    peak: index of the largest bar, or (row, column) of the largest cell.
    scale: "attention" (0 .. max, sequential) or "signed" (symmetric around 0).
    marks: steps to mark (the temporal peak, on the input).
    """
    key: str
    kind: str
    data: np.ndarray
    axis: str
    title: str
    x_label: str
    y_label: str = ""
    row_labels: Optional[List[str]] = None
    tick_labels: Optional[List[str]] = None
    peak: Optional[Tuple[int, ...]] = None
    scale: str = "attention"
    marks: List[int] = field(default_factory=list)

    @property
    def aligned(self):
        """True when the panel shares the input's step axis."""
        return self.axis == "step"


def feature_labels(count, names=None):
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != count:
            raise ValueError(f"{len(names)} feature names for {count} features")
        return names
    return [f"f{i}" for i in range(count)]


def _peak_text(data, axis_name):
    flat = int(np.argmax(data))
    if data.ndim == 1:
        return (flat,), f"peak {axis_name} {flat} ({data[flat]:.2f})"
    row, col = np.unravel_index(flat, data.shape)
    return (int(row), int(col)), f"peak {data[row, col]:.2f}"


def _step_axis(name, length, steps):
    """"step" when a map of `length` steps lines up with the input's `steps`
    (without an input: unless it is a window map), else "window step"."""
    if steps is None:
        return "window step" if name == "time" else "step"
    return "step" if length == steps else "window step"


def _map_panel(name, weights, steps, features, names):
    """The panel of one attention map; `steps`/`features` describe the input
    (None when unknown)."""
    w = np.asarray(weights, dtype=np.float32)
    shape = "x".join(str(d) for d in w.shape)
    key = f"attention:{name}"
    label = f"{name} attention [{shape}]"
    if w.ndim == 0 or w.size == 0:
        return Panel(key, "bars", w.reshape(-1), "index", f"{label}: empty", "index")
    if w.ndim > 2:
        w = w.reshape(w.shape[0], -1)

    if w.ndim == 1:
        over_features = name == "feature" or (
            name != "temporal" and name != "time" and features is not None
            and w.shape[0] == features and w.shape[0] != steps)
        if over_features:
            ticks = feature_labels(w.shape[0], names if features == w.shape[0] else None)
            peak, text = _peak_text(w, "feature")
            return Panel(key, "bars", w, "feature", f"{label}: {text}", "feature",
                         "weight", tick_labels=ticks, peak=peak)
        axis = _step_axis(name, w.shape[0], steps)
        peak, text = _peak_text(w, "step")
        return Panel(key, "bars", w, axis, f"{label}: {text}", axis, "weight", peak=peak)

    # 2-D: the first dimension counts steps ([l, D] feature, [W, k] time).
    axis = _step_axis(name, w.shape[0], steps)
    rows = w.shape[1]
    if name == "feature" or (features is not None and rows == features):
        row_labels, y_label = feature_labels(rows, names if rows == features else None), "feature"
    else:
        row_labels, y_label = [f"c{i}" for i in range(rows)], "channel"
    data = np.ascontiguousarray(w.T)
    (row, col), text = _peak_text(data, "")
    text = f"peak {data[row, col]:.2f} at {axis} {col}, {row_labels[row]}"
    return Panel(key, "heatmap", data, axis, f"{label}: {text}", axis, y_label,
                 row_labels=row_labels, peak=(row, col))


def panels(attention, sequence=None, feature_names=None):
    """The panels for `attention` (map name -> array, in the model's order)
    and the input `sequence` ([steps, features], optional)."""
    seq = None if sequence is None else np.asarray(sequence, dtype=np.float32)
    if seq is not None and seq.ndim != 2:
        raise ValueError(f"sequence must be [steps, features], got shape {seq.shape}")
    steps, features = (None, None) if seq is None else seq.shape
    if feature_names is not None and features is not None:
        feature_labels(features, feature_names)  # checks the count
    out = [_map_panel(name, w, steps, features, feature_names) for name, w in attention.items()]
    if seq is not None:
        marks = [p.peak[0] for p in out
                 if p.key == "attention:temporal" and p.aligned and p.peak is not None]
        names = feature_labels(features, feature_names)
        kind = "lines" if features <= MAX_LINE_FEATURES else "heatmap"
        out.append(Panel("input", kind, np.ascontiguousarray(seq.T), "step",
                         f"input [{steps}x{features}]", "step", "feature" if kind == "heatmap"
                         else "value", row_labels=names, scale="signed", marks=marks))
    return out


def title(result, expected=None):
    """"<model> v<version>: <label> p=<probability>[, expected <label>]"."""
    head = f"{result.model} v{result.model_version}: " if result.model else ""
    text = f"{head}{result.label} p={result.probability:.3f}"
    if expected:
        text += f", expected {expected}"
    return text
