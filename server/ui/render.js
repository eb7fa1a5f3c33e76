// Drawing results: class probabilities, the input as a heatmap, every
// attention map as bars or a heatmap whose columns line up with the input's
// timesteps (CSS grids sharing one column template), and the comparison of
// two versions. Plain DOM (no canvas): every cell is an element with its
// value in data-value and a tooltip, so maps can be read by hovering, by
// keyboard (the "values" tables) and by tests.

import { mapKind, summarizeMap, totalVariation, median } from "./results.js";

export function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---------------------------------------------------------------- colours

// Sequential, light to dark (0 blends with the page): attention weights.
const SEQUENTIAL = [[250, 250, 252], [254, 230, 170], [250, 165, 80], [222, 82, 86],
                    [150, 30, 105], [62, 16, 92]];
// Diverging, blue - neutral - red: input values and differences.
const NEGATIVE = [37, 99, 178];
const NEUTRAL = [244, 244, 247];
const POSITIVE = [200, 54, 42];

function mix(a, b, t) {
  return a.map((v, i) => Math.round(v + (b[i] - v) * t));
}

function rgb(c) {
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

// t in [0, 1].
export function sequentialColor(t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (SEQUENTIAL.length - 1);
  const i = Math.min(SEQUENTIAL.length - 2, Math.floor(x));
  return rgb(mix(SEQUENTIAL[i], SEQUENTIAL[i + 1], x - i));
}

// t in [-1, 1].
export function divergingColor(t) {
  const x = Math.min(1, Math.max(-1, Number.isFinite(t) ? t : 0));
  return rgb(x < 0 ? mix(NEUTRAL, NEGATIVE, -x) : mix(NEUTRAL, POSITIVE, x));
}

// Text on a cell stays readable: dark on light colours, white on dark ones.
function textOn(color) {
  const [r, g, b] = color.match(/\d+/g).map(Number);
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#1d1d2b" : "#ffffff";
}

export function fmt(value, digits = 3) {
  if (value === undefined || value === null || Number.isNaN(value)) return "–";
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) return value.toExponential(2);
  return value.toFixed(digits);
}

function signed(value, digits) {
  return `${value > 0 ? "+" : value < 0 ? "−" : "±"}${fmt(Math.abs(value), digits)}`;
}

function micros(us) {
  if (us === undefined) return "–";
  return us >= 1000 ? `${(us / 1000).toFixed(us >= 10000 ? 0 : 1)} ms` : `${us} µs`;
}

// ---------------------------------------------------------------- grids

// A grid of `columns` step columns after a label gutter; maps drawn with the
// same column count line up.
function grid(className, columns, label) {
  const node = el("div", { class: `grid ${className}`, role: "img", "aria-label": label });
  node.style.gridTemplateColumns = `var(--gutter) repeat(${columns}, minmax(0, 1fr))`;
  return node;
}

function stepTitle(step, stepLabel) {
  return `${stepLabel} ${step}`;
}

// Rows x columns of coloured cells. `value(r, c)`, `color(v, r, c)`, `title(r, c, v)`.
function heatmap({ className, rows, columns, rowLabels, value, color, title, label, text }) {
  const node = grid(`heatmap ${className}`, columns, label);
  for (let r = 0; r < rows; r++) {
    node.append(el("div", { class: "row-label", title: rowLabels[r], text: rowLabels[r] }));
    for (let c = 0; c < columns; c++) {
      const v = value(r, c);
      const background = color(v, r, c);
      const cell = el("div", { class: "cell", "data-step": c, "data-row": r, "data-value": v,
                               title: title(r, c, v) });
      cell.style.backgroundColor = background;
      if (text) {
        cell.textContent = text(r, c, v);
        cell.style.color = textOn(background);
      }
      node.append(cell);
    }
  }
  return node;
}

// One bar per column, heights relative to the largest value.
function bars({ className, values, rowLabel, color, title, label, signed = false }) {
  const node = grid(`bars ${className}${signed ? " signed" : ""}`, values.length, label);
  node.append(el("div", { class: "row-label", text: rowLabel }));
  const top = Math.max(...values.map(Math.abs), 1e-12);
  values.forEach((v, c) => {
    const bar = el("div", { class: `bar${signed && v < 0 ? " negative" : ""}` });
    const percent = Math.max(Math.abs(v) / top * 100, v === 0 ? 0 : 2);
    bar.style.height = `${signed ? percent / 2 : percent}%`;
    bar.style.backgroundColor = color(v);
    node.append(el("div", { class: "cell bar-cell", "data-step": c, "data-value": v,
                            title: title(c, v) }, bar));
  });
  return node;
}

function axis(columns, stepLabel) {
  const node = grid("axis", columns, `${columns} ${stepLabel}s`);
  node.setAttribute("aria-hidden", "true");
  node.removeAttribute("role");
  node.append(el("div", { class: "row-label", text: stepLabel }));
  const every = columns <= 20 ? 1 : columns <= 50 ? 5 : columns <= 200 ? 10 : columns <= 1000 ? 50 : 250;
  for (let c = 0; c < columns; c++) {
    node.append(el("div", { class: "tick", text: c % every === 0 ? String(c) : "" }));
  }
  return node;
}

// A table of the values behind a map, built when its <details> opens.
function valuesTable(caption, header, rows) {
  const details = el("details", { class: "values" }, el("summary", { text: "values" }));
  details.addEventListener("toggle", () => {
    if (!details.open || details.querySelector("table")) return;
    const table = el("table", {}, [
      el("caption", { text: caption }),
      el("thead", {}, el("tr", {}, header.map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows.map((row) => el("tr", {}, row.map((v, i) => (i === 0
        ? el("th", { scope: "row", text: v })
        : el("td", { text: typeof v === "number" ? fmt(v, 4) : v })))))),
    ]);
    details.append(table);
  });
  return details;
}

// ---------------------------------------------------------------- input

export function inputView(sequence, featureNames) {
  if (sequence.ids !== undefined) {
    const ids = sequence.ids;
    return heatmap({
      className: "input-map tokens", rows: 1, columns: ids.length, rowLabels: ["token"],
      value: (r, c) => ids[c], color: () => "rgb(236, 238, 245)",
      title: (r, c, v) => `step ${c}: token ${v}`, text: (r, c, v) => String(v),
      label: `input: ${ids.length} token ids`,
    });
  }
  const values = sequence.values;
  const steps = values.length;
  const features = values[0].length;
  const names = Array.from({ length: features },
                           (_, d) => (featureNames && featureNames[d]) || `f${d}`);
  // Each feature scaled to its own largest |value| (features differ in scale).
  const scale = names.map((_, d) => Math.max(...values.map((row) => Math.abs(row[d])), 1e-12));
  return heatmap({
    className: "input-map", rows: features, columns: steps, rowLabels: names,
    value: (d, t) => values[t][d], color: (v, d) => divergingColor(v / scale[d]),
    title: (d, t, v) => `step ${t} · ${names[d]} = ${fmt(v, 4)}`,
    label: `input: ${steps} steps of ${features} features`,
  });
}

// ---------------------------------------------------------------- maps

function describeSummary(summary, stepLabel, names) {
  if (!summary) return "";
  if (summary.kind === "steps") {
    const parts = [`peak at ${stepLabel} ${summary.peak} (${fmt(summary.peakWeight, 2)})`];
    if (summary.entropy !== undefined) parts.push(`entropy ${fmt(summary.entropy, 2)}`);
    if (summary.peakPosition !== undefined) parts.push(`peak position ${fmt(summary.peakPosition, 2)}`);
    return parts.join(" · ");
  }
  if (summary.kind === "features") {
    const top = names[summary.top] || `f${summary.top}`;
    return `most attended feature ${top} (${fmt(summary.shares[summary.top], 2)})` +
      (summary.entropy !== undefined ? ` · entropy ${fmt(summary.entropy, 2)}` : "");
  }
  return `mean ${fmt(summary.mean, 2)}`;
}

// One attention map: title, summary line, drawing, values table.
export function mapView(map, featureNames) {
  const kind = mapKind(map.name);
  const summary = summarizeMap(map);
  const stepLabel = map.stepAligned ? "step"
    : kind === "time" || kind === "temporal" ? "window step" : "index";
  const names = featureNames || [];
  const featureName = (d) => names[d] || `f${d}`;
  const top = Math.max(...map.weights, 1e-12);
  const color = (v) => sequentialColor(v / top);
  let drawing;
  let table;
  const label = `${map.name}: ${describeSummary(summary, stepLabel, names)}`;
  if (map.shape.length === 1 && (kind === "temporal" || kind === "time" || map.stepAligned)) {
    // A weight per step: bars under the input.
    drawing = [
      bars({ className: "map-bars", values: map.weights, rowLabel: "weight", color, label,
             title: (c, v) => `${stepTitle(c, stepLabel)}: ${fmt(v, 4)}` }),
    ];
    if (!map.stepAligned) drawing.push(axis(map.weights.length, stepLabel));
    table = valuesTable(map.name, [stepLabel, "weight"], map.weights.map((v, i) => [String(i), v]));
  } else if (map.shape.length === 1) {
    // Feature weights of a single-vector feature map, or the gate's units.
    const rowLabels = map.weights.map((_, i) => (kind === "feature" ? featureName(i) : String(i)));
    drawing = [
      el("div", { class: "hbars", role: "img", "aria-label": label },
         map.weights.map((v, i) => {
           const fill = el("span", { class: "hbar-fill" });
           fill.style.width = `${Math.max(0, v) / top * 100}%`;
           fill.style.backgroundColor = color(v);
           return el("div", { class: "hbar cell", "data-step": i, "data-value": v,
                              title: `${rowLabels[i]}: ${fmt(v, 4)}` },
                     [el("span", { class: "hbar-name", text: rowLabels[i] }),
                      el("span", { class: "hbar-track" }, fill),
                      el("span", { class: "hbar-value", text: fmt(v, 3) })]);
         })),
    ];
    if (map.weights.length > 24) {
      drawing = [heatmap({ className: "map-heat", rows: 1, columns: map.weights.length,
                           rowLabels: [kind], value: (r, c) => map.weights[c], color,
                           title: (r, c, v) => `${kind} ${c}: ${fmt(v, 4)}`, label })];
    }
    table = valuesTable(map.name, [kind === "feature" ? "feature" : "unit", "weight"],
                        map.weights.map((v, i) => [rowLabels[i], v]));
  } else {
    // [steps, k]: k rows (features, or the time block's channels) over the steps.
    const [steps, k] = map.shape;
    const rowLabels = Array.from({ length: k }, (_, j) => (kind === "feature" ? featureName(j)
      : k === 1 ? "weight" : `ch ${j}`));
    drawing = [heatmap({
      className: "map-heat", rows: k, columns: steps, rowLabels,
      value: (j, t) => map.weights[t * k + j], color, label,
      title: (j, t, v) => `${stepTitle(t, stepLabel)} · ${rowLabels[j]}: ${fmt(v, 4)}`,
    })];
    if (!map.stepAligned) drawing.push(axis(steps, stepLabel));
    table = valuesTable(map.name, [stepLabel, ...rowLabels],
                        Array.from({ length: steps }, (_, t) => [String(t),
                          ...Array.from({ length: k }, (_, j) => map.weights[t * k + j])]));
  }
  const shape = `[${map.shape.join(" × ")}]`;
  return el("div", { class: `map map-${kind}${map.stepAligned ? " aligned" : ""}`, "data-map": map.name }, [
    el("div", { class: "map-head" }, [
      el("h4", {}, [map.name.replace(/^attention\./, ""), el("span", { class: "shape", text: shape })]),
      el("span", { class: "summary", text: describeSummary(summary, stepLabel, names) }),
    ]),
    ...drawing,
    table,
  ]);
}

// ---------------------------------------------------------------- a result

function probabilitiesView(result, labels) {
  const list = el("div", { class: "probabilities", role: "list", "aria-label": "class probabilities" });
  const maxP = Math.max(...result.probabilities, 1e-12);
  const bounded = result.probabilities.every((p) => p >= 0 && p <= 1);
  result.probabilities.forEach((p, i) => {
    const name = labels[i] !== undefined ? labels[i] : `class ${i}`;
    const fill = el("span", { class: "prob-fill" });
    fill.style.width = `${Math.max(0, bounded ? p : p / maxP) * 100}%`;
    list.append(el("div", {
      class: `prob-row${i === result.labelIndex ? " predicted" : ""}`, role: "listitem",
      "data-class": name, "data-probability": p,
    }, [
      el("span", { class: "prob-name", text: name }),
      el("span", { class: "prob-track", "aria-hidden": "true" }, fill),
      el("span", { class: "prob-value", text: fmt(p, 3) }),
    ]));
  });
  return list;
}

// One version's answer for one sequence: {model, version, metadata, result,
// timing, error}. `sequence`: the input (values or ids), `expected`: its
// expected label, if known.
export function resultPanel({ model, version, metadata, result, timing, error, sequence,
                              featureNames, expected, role }) {
  const headingId = `result-${role}-heading`;
  const head = el("header", { class: "result-head" }, [
    el("h3", { id: headingId }, [model, el("span", { class: "version-badge", text: `version ${version}` })]),
    timing ? el("p", { class: "timing", text: [
      `server ${micros(timing.server_us)}`,
      timing.compute_us !== undefined ? `compute ${micros(timing.compute_us)}` : undefined,
      timing.queue_us !== undefined ? `queue ${micros(timing.queue_us)}` : undefined,
      timing.batch_size !== undefined ? `batch ${timing.batch_size}` : undefined,
    ].filter(Boolean).join(" · ") }) : undefined,
  ]);
  const panel = el("article", { class: `result result-${role}`, "aria-labelledby": headingId,
                                "data-version": version }, head);
  if (error) {
    panel.classList.add("failed");
    panel.append(errorView(error));
    return panel;
  }
  const labels = (metadata.parameters && metadata.parameters.labels) || [];
  const top = result.probabilities[result.labelIndex];
  const verdict = expected === undefined ? undefined : expected === result.label;
  panel.append(el("div", { class: "prediction", "data-label": result.label,
                           "data-label-index": result.labelIndex }, [
    el("span", { class: "prediction-caption", text: "predicted" }),
    el("span", { class: "prediction-label", text: result.label }),
    el("span", { class: "prediction-probability", text: fmt(top, 3) }),
    verdict === undefined ? undefined : el("span", {
      class: `expected ${verdict ? "ok" : "wrong"}`,
      text: verdict ? `expected ${expected} ✓` : `expected ${expected} ✗`,
    }),
  ]));
  panel.append(probabilitiesView(result, labels));

  const steps = sequence.ids !== undefined ? sequence.ids.length : sequence.values.length;
  const maps = el("div", { class: "maps" });
  maps.style.setProperty("--columns", steps);
  maps.append(el("div", { class: "map map-input" }, [
    el("div", { class: "map-head" }, [
      el("h4", {}, ["input", el("span", { class: "shape", text: sequence.ids !== undefined
        ? `[${steps}] token ids` : `[${steps} × ${sequence.values[0].length}]` })]),
      el("span", { class: "summary", text: sequence.ids !== undefined
        ? "one token per step" : "colour: each feature scaled to its largest |value|" }),
    ]),
    inputView(sequence, featureNames),
    axis(steps, "step"),
  ]));
  const aligned = result.maps.filter((m) => m.stepAligned);
  const others = result.maps.filter((m) => !m.stepAligned);
  for (const map of aligned) maps.append(mapView(map, featureNames));
  if (others.length) {
    maps.append(el("p", { class: "maps-note", text: "Not aligned with the input's steps:" }));
    for (const map of others) maps.append(mapView(map, featureNames));
  }
  if (result.maps.length === 0) {
    maps.append(el("p", { class: "maps-note", text: "This model returns no attention maps." }));
  }
  panel.append(maps);
  linkHover(panel);
  return panel;
}

// Hovering a step highlights that step in every map of the panel.
function linkHover(panel) {
  let current;
  const mark = (step, on) => {
    for (const cell of panel.querySelectorAll(`.maps .aligned .cell[data-step="${step}"], .maps .map-input .cell[data-step="${step}"]`)) {
      cell.classList.toggle("hover", on);
    }
  };
  panel.addEventListener("mouseover", (event) => {
    const cell = event.target.closest(".maps .cell[data-step]");
    const step = cell && (cell.closest(".aligned") || cell.closest(".map-input")) ? cell.dataset.step : undefined;
    if (step === current) return;
    if (current !== undefined) mark(current, false);
    current = step;
    if (current !== undefined) mark(current, true);
  });
  panel.addEventListener("mouseleave", () => {
    if (current !== undefined) mark(current, false);
    current = undefined;
  });
}

export function errorView(error) {
  const hint = error.status === 401 ? "Enter a bearer token at the top of the page (docs/security.md)."
    : error.status === 403 ? "This call needs an admin token, or a browser on the server's machine."
      : undefined;
  return el("div", { class: "error-box", role: "alert" }, [
    el("strong", { text: `${error.status ? `${error.status} ` : ""}${statusLabel(error.status)}` }),
    el("span", { class: "error-message", text: error.message }),
    hint ? el("span", { class: "error-hint", text: hint }) : undefined,
  ]);
}

function statusLabel(status) {
  return { 0: "No answer", 400: "Bad request", 401: "Unauthenticated", 403: "Permission denied",
           404: "Not found", 413: "Too large", 429: "Too many requests", 500: "Internal error",
           503: "Unavailable", 504: "Deadline exceeded" }[status] || "Error";
}

// ---------------------------------------------------------------- comparison

// Two versions' results for the same sequence, side by side: what differs.
export function comparisonView(a, b, steps) {
  const rows = [];
  const same = a.result.label === b.result.label;
  rows.push(["predicted", a.result.label, b.result.label, same ? "same" : "differs"]);
  const change = (x, y) => (x === undefined || y === undefined ? "–" : signed(x - y, 3));
  const n = Math.min(a.result.probabilities.length, b.result.probabilities.length);
  let maxDelta = 0;
  for (let i = 0; i < n; i++) {
    maxDelta = Math.max(maxDelta, Math.abs(a.result.probabilities[i] - b.result.probabilities[i]));
  }
  rows.push(["largest probability change", "", "", fmt(maxDelta, 4)]);
  const strips = [];
  for (const mapA of a.result.maps) {
    const mapB = b.result.maps.find((m) => m.name === mapA.name);
    if (!mapB) continue;
    const name = mapA.name.replace(/^attention\./, "");
    const sa = summarizeMap(mapA);
    const sb = summarizeMap(mapB);
    if (sa && sb && sa.kind === "steps") {
      rows.push([`${name}: peak step`, String(sa.peak), String(sb.peak),
                 sa.peak === sb.peak ? "same" : `moved ${signed(sa.peak - sb.peak, 0)}`]);
      rows.push([`${name}: peak weight`, fmt(sa.peakWeight, 3), fmt(sb.peakWeight, 3),
                 change(sa.peakWeight, sb.peakWeight)]);
      rows.push([`${name}: entropy`, fmt(sa.entropy, 3), fmt(sb.entropy, 3),
                 change(sa.entropy, sb.entropy)]);
    } else if (sa && sb && sa.kind === "features") {
      rows.push([`${name}: entropy (features)`, fmt(sa.entropy, 3), fmt(sb.entropy, 3),
                 change(sa.entropy, sb.entropy)]);
    } else if (sa && sb && sa.kind === "gate") {
      rows.push([`${name}: mean`, fmt(sa.mean, 3), fmt(sb.mean, 3), change(sa.mean, sb.mean)]);
    }
    const tv = totalVariation(mapA, mapB);
    if (tv !== undefined) rows.push([`${name}: total variation`, "", "", fmt(tv, 3)]);
    if (mapA.stepAligned && mapA.shape.length === 1 && mapA.shape[0] === steps &&
        mapB.shape[0] === steps) {
      const delta = mapA.weights.map((w, i) => w - mapB.weights[i]);
      const top = Math.max(...delta.map(Math.abs), 1e-12);
      strips.push(el("div", { class: "map map-delta aligned", "data-map": mapA.name }, [
        el("div", { class: "map-head" }, [
          el("h4", {}, [`${name} difference`, el("span", { class: "shape", text: `version ${a.version} − version ${b.version}` })]),
          el("span", { class: "summary", text: `red: more weight in version ${a.version}, blue: less` }),
        ]),
        bars({ className: "map-bars", values: delta, rowLabel: "Δ weight", signed: true,
               color: (v) => divergingColor(v / top),
               label: `difference of ${name} between version ${a.version} and ${b.version}`,
               title: (c, v) => `step ${c}: ${v >= 0 ? "+" : ""}${fmt(v, 4)}` }),
        axis(steps, "step"),
      ]));
    }
  }
  const table = el("table", { class: "comparison-table" }, [
    el("caption", { text: `version ${a.version} against version ${b.version}, this sequence` }),
    el("thead", {}, el("tr", {}, ["", `version ${a.version}`, `version ${b.version}`,
                                  `change (${a.version} − ${b.version})`]
      .map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.map((r) => el("tr", { class: r[3] === "differs" ? "differs" : undefined },
      r.map((v, i) => (i === 0 ? el("th", { scope: "row", text: v }) : el("td", { text: v })))))),
  ]);
  return el("section", { class: "comparison", "aria-label": "comparison of the two versions" },
            [el("h3", { text: "What changed" }), table, ...strips]);
}

// Over every sequence of the input: accuracy (when the input says what to
// expect), the labels predicted, and the medians of the attention summaries.
export function batchSummaryView(runs, expected) {
  const ok = runs.filter((r) => !r.error);
  if (ok.length === 0) return undefined;
  const count = ok[0].results.length;
  const mapNames = [...new Set(ok.flatMap((r) => r.results[0].maps.map((m) => m.name)))];
  const header = ["", ...ok.map((r) => `version ${r.version}`)];
  const rows = [];
  if (expected.every((e) => e !== undefined)) {
    rows.push(["matches the expected label", ...ok.map((r) => {
      const right = r.results.filter((x, i) => x.label === expected[i]).length;
      return `${right} of ${count}`;
    })]);
  }
  rows.push(["labels predicted", ...ok.map((r) => {
    const counts = new Map();
    for (const x of r.results) counts.set(x.label, (counts.get(x.label) || 0) + 1);
    return [...counts].map(([label, n]) => `${label} ${n}`).join(" · ");
  })]);
  for (const name of mapNames) {
    const short = name.replace(/^attention\./, "");
    const summaries = ok.map((r) => r.results.map((x) => {
      const m = x.maps.find((mm) => mm.name === name);
      return m ? summarizeMap(m) : undefined;
    }));
    const kind = summaries[0].find(Boolean)?.kind;
    if (kind === "steps") {
      rows.push([`${short}: median peak position`, ...summaries.map((s) => fmt(median(s.map((x) => x?.peakPosition)), 2))]);
      rows.push([`${short}: median entropy`, ...summaries.map((s) => fmt(median(s.map((x) => x?.entropy)), 2))]);
    } else if (kind === "features") {
      rows.push([`${short}: median entropy`, ...summaries.map((s) => fmt(median(s.map((x) => x?.entropy)), 2))]);
    } else if (kind === "gate") {
      rows.push([`${short}: median mean`, ...summaries.map((s) => fmt(median(s.map((x) => x?.mean)), 2))]);
    }
  }
  return el("section", { class: "batch-summary", "aria-label": "summary over every sequence" }, [
    el("h3", { text: `All ${count} sequences` }),
    el("p", { class: "hint", text: "The same summaries as the server's attention metrics (docs/attention-monitoring.md): compare them with the dashboard's medians." }),
    el("table", { class: "comparison-table" }, [
      el("thead", {}, el("tr", {}, header.map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((v, i) => (i === 0
        ? el("th", { scope: "row", text: v }) : el("td", { text: v })))))),
    ]),
  ]);
}
