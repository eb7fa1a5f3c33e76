"""Pictures of where the model looked: plot_attention, and a command line.

    fig = attnserve.plot_attention(result)          # matplotlib Figure
    fig.savefig("attention.png")

The figure is built without pyplot on matplotlib's Agg canvas, so it renders
on a machine without a display and leaves pyplot's state alone (Jupyter shows
the returned figure as usual). The layout rules are attnserve.layout's.

Command line (what `attnctl classify --plot` runs):

    python3 -m attnserve.plot RESPONSE.json -o out.png [--sequences FILE]

RESPONSE.json is a ClassifyResponse as `attnctl classify --json` prints it
("-": standard input), or {"response": ..., "sequences": [...]} with the
inputs. --sequences names a JSON file of the inputs in attnctl's input format
(client/samples/demo.json). One sequence writes OUT.png, several write
OUT-0.png, OUT-1.png, ... (one picture per sequence). Needs only numpy and
matplotlib, not gRPC.
"""
import argparse
import json
import os
import sys

_MATPLOTLIB_MISSING = ("attnserve.plot needs matplotlib "
                       "(Debian: apt-get install python3-matplotlib)")
# The command line's exit status when numpy or matplotlib cannot be imported
# (attnctl tells it apart from other failures).
EXIT_MISSING_LIBRARIES = 3

try:
    import numpy as np
except ImportError as _e:
    if __name__ == "__main__":
        print(f"attnserve.plot needs numpy (Debian: apt-get install python3-numpy): {_e}",
              file=sys.stderr)
        sys.exit(EXIT_MISSING_LIBRARIES)
    raise

from attnserve import layout  # noqa: E402  (after the numpy check)

# Colour maps: attention from 0 upwards, the input around 0.
ATTENTION_CMAP = "viridis"
INPUT_CMAP = "RdBu_r"
BAR_COLOR = "#4c72b0"
PEAK_COLOR = "#dd8452"
# Beyond this many bars, a map is drawn as a filled step outline instead.
MAX_BARS = 512


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(f"{_MATPLOTLIB_MISSING}: {e}") from e
    return Figure, FigureCanvasAgg


def _panel_height(panel):
    """Inches: bars fixed, heatmaps and lines growing with their rows (capped)."""
    if panel.kind == "bars":
        return 1.9
    rows = panel.data.shape[0]
    if panel.kind == "lines":
        return 1.9
    return min(4.0, 1.1 + 0.22 * rows)


def _only_result(result):
    if isinstance(result, list):
        if len(result) != 1:
            raise ValueError(f"plot_attention draws one result; got {len(result)}: "
                             "pass results[i]")
        result = result[0]
    return result


def plot_attention(result, sequence=None, *, expected=None, feature_names=None, title=None,
                   width=10.0, dpi=100):
    """A matplotlib Figure of every attention map of `result`, one panel per map
    (attnserve.layout's rules), above the input sequence when it is known.

    result: an attnserve.Result (a one-element Results is accepted).
    sequence: the input [steps, features]; defaults to result.sequence, which
        the clients fill in (token ids are not drawn).
    expected: the label the input should get, added to the title.
    feature_names: names of the input's features, for the axes.
    title: replaces the title ("<model> v<version>: <label> p=<probability>").

    Map panels carry the axes label "attention:<name>", the input's "input"
    and colour bars "colorbar:<key>", so `fig.axes` can be inspected.
    """
    Figure, FigureCanvasAgg = _matplotlib()
    result = _only_result(result)
    if sequence is None:
        sequence = getattr(result, "sequence", None)
    if sequence is not None and np.ndim(sequence) == 1:
        sequence = None  # token ids: the maps are drawn over the steps, without the input
    specs = layout.panels(result.attention, sequence, feature_names)

    heights = [_panel_height(p) for p in specs] or [1.0]
    fig = Figure(figsize=(width, sum(heights) + 0.9), dpi=dpi)
    FigureCanvasAgg(fig)
    fig.suptitle(title or layout.title(result, expected), fontsize=12)
    if not specs:
        fig.text(0.5, 0.5, "no attention maps (the model has none, or they were not asked for)",
                 ha="center", va="center")
        return fig

    grid = fig.add_gridspec(len(specs), 2, height_ratios=heights, width_ratios=[60, 1],
                            hspace=0.65, wspace=0.02, left=0.08, right=0.93,
                            top=1 - 0.6 / (sum(heights) + 0.9), bottom=0.45 / sum(heights))
    step_axes = None  # the first panel on the input's step axis; the others share it
    for i, panel in enumerate(specs):
        share = step_axes if panel.aligned else None
        ax = fig.add_subplot(grid[i, 0], sharex=share, label=panel.key)
        if panel.aligned and step_axes is None:
            step_axes = ax
        image = _draw(ax, panel)
        if image is not None:
            cax = fig.add_subplot(grid[i, 1], label=f"colorbar:{panel.key}")
            fig.colorbar(image, cax=cax)
        ax.set_title(panel.title, fontsize=9, loc="left")
        ax.set_xlabel(panel.x_label, fontsize=8, labelpad=1)
        if panel.y_label:
            ax.set_ylabel(panel.y_label, fontsize=8)
        ax.tick_params(labelsize=7)
    return fig


def _integer_ticks(ax):
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _draw(ax, panel):
    """Draws one panel; returns the image a colour bar belongs to, if any."""
    data = panel.data
    if panel.kind == "bars":
        n = data.shape[0]
        if n == 0:
            ax.text(0.5, 0.5, "empty", ha="center", va="center", transform=ax.transAxes)
            return None
        if n > MAX_BARS:
            ax.stairs(data, np.arange(n + 1) - 0.5, fill=True, color=BAR_COLOR)
        else:
            colors = [BAR_COLOR] * n
            if panel.peak is not None:
                colors[panel.peak[0]] = PEAK_COLOR
            ax.bar(np.arange(n), data, width=0.85, color=colors)
        ax.set_xlim(-0.5, n - 0.5)
        top = float(np.max(data))
        ax.set_ylim(0, top * 1.1 if top > 0 else 1.0)
        if panel.tick_labels is not None:
            ax.set_xticks(np.arange(n))
            ax.set_xticklabels(panel.tick_labels, rotation=90 if n > 12 else 0)
        else:
            _integer_ticks(ax)
        return None

    rows, cols = data.shape
    if panel.kind == "lines":
        for r in range(rows):
            label = panel.row_labels[r] if panel.row_labels else f"row {r}"
            ax.plot(np.arange(cols), data[r], linewidth=1.2, label=label)
        ax.set_xlim(-0.5, cols - 0.5)
        ax.legend(fontsize=7, loc="upper right")
        image = None
    else:
        if panel.scale == "signed":
            limit = float(np.max(np.abs(data))) or 1.0
            vmin, vmax, cmap = -limit, limit, INPUT_CMAP
        else:
            vmin, vmax, cmap = 0.0, float(np.max(data)) or 1.0, ATTENTION_CMAP
        image = ax.imshow(data, aspect="auto", interpolation="nearest", cmap=cmap,
                          vmin=vmin, vmax=vmax, extent=(-0.5, cols - 0.5, rows - 0.5, -0.5))
        if panel.row_labels is not None and rows <= 32:
            ax.set_yticks(np.arange(rows))
            ax.set_yticklabels(panel.row_labels)
        if panel.peak is not None and panel.scale == "attention":
            ax.add_patch(_peak_box(panel.peak))
    for step in panel.marks:
        ax.axvline(step, color=PEAK_COLOR, linewidth=1.2, linestyle="--")
    _integer_ticks(ax)
    return image


def _peak_box(peak):
    from matplotlib.patches import Rectangle
    row, col = peak
    return Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=PEAK_COLOR,
                     linewidth=1.5)


# ------------------------------------------------------------ command line

def _sequences_from_json(doc, source):
    """[(values [steps, features] or None, label or None)] from attnctl's input
    format: {"sequences": [SEQ, ...]} or [SEQ, ...], SEQ a [steps][features]
    array or {"values": [[...]], "label": ...}; token ids ({"ids": [...]}) are
    not drawn (None)."""
    items = doc.get("sequences") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ValueError(f'{source}: expected {{"sequences": [...]}} or an array of sequences')
    out = []
    for i, item in enumerate(items):
        values, label = item, None
        if isinstance(item, dict):
            if "ids" in item and "values" not in item:
                out.append((None, None if item.get("label") is None else str(item["label"])))
                continue
            values, label = item.get("values"), item.get("label")
        try:
            array = np.asarray(values, dtype=np.float32)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{source}: sequence {i}: {e}") from None
        if array.ndim != 2:
            raise ValueError(f"{source}: sequence {i} is not [steps, features]")
        out.append((array, None if label is None else str(label)))
    return out


def output_paths(output, count):
    """OUT for one picture; OUT-0.png, OUT-1.png, ... (same extension) for several."""
    if count == 1:
        return [output]
    stem, ext = os.path.splitext(output)
    return [f"{stem}-{i}{ext or '.png'}" for i in range(count)]


def _load(path):
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        where = "standard input" if path == "-" else path
        raise ValueError(f"{where}: invalid JSON: {e}") from None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m attnserve.plot",
        description="Draws the attention maps of a ClassifyResponse (attnctl classify --json) "
                    "as PNG pictures, one per sequence.")
    parser.add_argument("response", help='the response JSON file ("-": standard input)')
    parser.add_argument("-o", "--output", required=True,
                        help="picture to write (several sequences: OUT-0.png, OUT-1.png, ...)")
    parser.add_argument("--sequences", help="the inputs, a JSON file in attnctl's input format")
    parser.add_argument("--feature-names", help="comma-separated names of the input features")
    parser.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args(argv)

    try:
        _matplotlib()
    except ImportError as e:
        print(e, file=sys.stderr)
        return EXIT_MISSING_LIBRARIES
    from attnserve.types import Results
    try:
        doc = _load(args.response)
        inputs = None
        if isinstance(doc, dict) and "response" in doc:
            if doc.get("sequences") is not None:
                inputs = _sequences_from_json(doc, "sequences")
            doc = doc["response"]
        if args.sequences:
            inputs = _sequences_from_json(_load(args.sequences), args.sequences)
        results = Results.from_json(doc, [s for s, _ in inputs] if inputs else None)
        if inputs is not None and len(inputs) != len(results):
            raise ValueError(f"{len(inputs)} input sequences for {len(results)} results")
        if not results:
            raise ValueError("the response has no results")
        names = args.feature_names.split(",") if args.feature_names else None
        paths = output_paths(args.output, len(results))
        for i, (result, path) in enumerate(zip(results, paths)):
            expected = inputs[i][1] if inputs else None
            fig = plot_attention(result, expected=expected, feature_names=names, dpi=args.dpi)
            fig.savefig(path)
            print(f"attention plot: {path}")
    except (ValueError, OSError) as e:
        print(f"attnserve.plot: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
