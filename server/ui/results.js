// A v2 inference answer cut into one result per sequence, and the attention
// summaries the server's metrics use (docs/metrics.md, "Attention"), so that
// a sequence seen here can be placed within the dashboard's distributions.

// The maps' kinds, from their output names (attention.temporal_2 -> temporal).
export function mapKind(name) {
  const bare = name.replace(/^attention\./, "").replace(/_\d+$/, "");
  return ["temporal", "feature", "time", "gate"].includes(bare) ? bare : "other";
}

// Per output of the metadata: does its first per-sequence axis follow the
// sequence's own length (-1 in the metadata's shape), or is it fixed (a
// window, the features of a single-vector map, the gate's units)?
function stepAlignedOutputs(metadata) {
  const aligned = new Set();
  for (const output of metadata.outputs || []) {
    if (output.name.startsWith("attention.") && output.shape.length >= 2 && output.shape[1] === -1) {
      aligned.add(output.name);
    }
  }
  return aligned;
}

function product(values) {
  return values.reduce((a, b) => a * b, 1);
}

// -> [{label, labelIndex, probabilities[], maps: [{name, kind, shape, weights,
//      stepAligned}]}], one per sequence of the request, in order.
export function splitResponse(response, lengths, metadata) {
  const outputs = new Map(response.outputs.map((o) => [o.name, o]));
  const aligned = stepAlignedOutputs(metadata);
  const probabilities = outputs.get("PROBABILITIES");
  const classes = probabilities ? probabilities.shape[1] : 0;
  const results = lengths.map((length, b) => ({
    label: outputs.has("LABEL") ? outputs.get("LABEL").data[b] : undefined,
    labelIndex: outputs.has("LABEL_INDEX") ? outputs.get("LABEL_INDEX").data[b] : undefined,
    probabilities: probabilities ? probabilities.data.slice(b * classes, (b + 1) * classes) : [],
    maps: [],
  }));
  for (const output of response.outputs) {
    if (!output.name.startsWith("attention.")) continue;
    const rowShape = output.shape.slice(1);
    const rowSize = product(rowShape);
    const stepAligned = aligned.has(output.name);
    lengths.forEach((length, b) => {
      const row = output.data.slice(b * rowSize, (b + 1) * rowSize);
      let shape = rowShape;
      let weights = row;
      if (stepAligned && rowShape[0] > length) {
        // Padding of the batch's longest sequence: cut to this one's length.
        shape = [length, ...rowShape.slice(1)];
        weights = row.slice(0, product(shape));
      }
      results[b].maps.push({ name: output.name, kind: mapKind(output.name), shape, weights,
                             stepAligned });
    });
  }
  return results;
}

// Entropy / log(n), peak position argmax / (n - 1), peak weight, over a
// nonnegative distribution (normalised by its sum). undefined when empty or
// all zero.
export function summarizeDistribution(weights) {
  const n = weights.length;
  let sum = 0;
  let peak = 0;
  for (let i = 0; i < n; i++) {
    if (!(weights[i] >= 0)) return undefined;
    sum += weights[i];
    if (weights[i] > weights[peak]) peak = i;
  }
  if (n === 0 || !(sum > 0) || !Number.isFinite(sum)) return undefined;
  let entropy = 0;
  for (let i = 0; i < n; i++) {
    const p = weights[i] / sum;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return {
    n,
    peak,
    peakWeight: weights[peak] / sum,
    peakPosition: n > 1 ? peak / (n - 1) : undefined,
    entropy: n > 1 ? entropy / Math.log(n) : undefined,
  };
}

function meanOverColumns(weights, rows, cols) {
  const out = new Array(rows).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r] += weights[r * cols + c];
    out[r] /= cols;
  }
  return out;
}

function meanOverRows(weights, rows, cols) {
  const out = new Array(cols).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c] += weights[r * cols + c];
  }
  return out.map((v) => v / rows);
}

// The map's summary as the metrics take it: {kind: "steps", ...distribution}
// for temporal and time maps, {kind: "features", entropy, shares} for
// feature maps, {kind: "gate", mean}; undefined when there is nothing to say.
export function summarizeMap(map) {
  const { kind, shape, weights } = map;
  if (kind === "gate") {
    const mean = weights.reduce((a, b) => a + b, 0) / Math.max(1, weights.length);
    return { kind: "gate", mean };
  }
  if (kind === "feature") {
    const shares = shape.length === 2 ? meanOverRows(weights, shape[0], shape[1]) : weights;
    const summary = summarizeDistribution(shares);
    if (summary === undefined) return undefined;
    const total = shares.reduce((a, b) => a + b, 0);
    return { kind: "features", entropy: summary.entropy, shares: shares.map((s) => s / total),
             top: summary.peak };
  }
  const steps = shape.length === 2 ? meanOverColumns(weights, shape[0], shape[1]) : weights;
  const summary = summarizeDistribution(steps);
  return summary === undefined ? undefined : { kind: "steps", ...summary };
}

// Total variation distance between two maps of the same shape: half the sum
// of their absolute differences, normalised per distribution (0: the same,
// 1: disjoint). For [T, k] maps, over their step means.
export function totalVariation(a, b) {
  if (a.shape.join("x") !== b.shape.join("x")) return undefined;
  const flat = (m) => (m.shape.length === 2 && m.kind !== "feature"
    ? meanOverColumns(m.weights, m.shape[0], m.shape[1])
    : m.shape.length === 2 ? meanOverRows(m.weights, m.shape[0], m.shape[1]) : m.weights);
  const x = flat(a);
  const y = flat(b);
  const sx = x.reduce((s, v) => s + v, 0);
  const sy = y.reduce((s, v) => s + v, 0);
  if (!(sx > 0) || !(sy > 0)) return undefined;
  let tv = 0;
  for (let i = 0; i < x.length; i++) tv += Math.abs(x[i] / sx - y[i] / sy);
  return tv / 2;
}

export function median(values) {
  const sorted = values.filter((v) => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
