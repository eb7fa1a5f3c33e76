// The attention explorer: pick a model and version, give it sequences, see
// the class probabilities and every attention map, compare two versions.
// Everything goes through the server's KServe v2 HTTP API (api.js); the
// page's state can be bookmarked (#model=demo&version=2&compare=1).

import { Api } from "./api.js";
import { parseInput, buildInferRequest } from "./parse.js";
import { splitResponse } from "./results.js";
import { el, resultPanel, comparisonView, batchSummaryView, errorView } from "./render.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "attnserve.token";

const state = {
  index: null,           // the repository index, or null when the server refuses it
  model: "",
  versions: [],          // the model's ready versions, oldest first
  metadata: new Map(),   // "model/version" -> metadata ("" : the newest)
  input: { sequences: [], error: undefined },
  runs: [],              // one per version classified: {version, metadata, results | error}
  shown: undefined,      // the input the runs are for: {sequences, featureNames}
  selected: 0,           // the sequence shown
  busy: false,
};

const api = new Api(() => sessionStorage.getItem(TOKEN_KEY) || "");

function hashParams() {
  return new URLSearchParams(location.hash.replace(/^#/, ""));
}

// The address the page was opened with (updateHash rewrites it as choices change).
const opened = hashParams();

function updateHash() {
  const params = new URLSearchParams();
  if (state.model) params.set("model", state.model);
  if ($("version").value) params.set("version", $("version").value);
  if ($("compare").checked && $("compare-version").value) {
    params.set("compare", $("compare-version").value);
  }
  if ($("sample").value) params.set("sample", $("sample").value);
  history.replaceState(null, "", `#${params}`);
}

function showError(error) {
  const slot = $("error");
  slot.replaceChildren();
  if (error) slot.append(errorView(error));
}

// ---------------------------------------------------------------- server

async function refreshServerStatus() {
  const status = $("server-status");
  const [metadata, ready] = await Promise.allSettled([api.serverMetadata(), api.ready()]);
  const secure = location.protocol === "https:";
  status.className = "server-status";
  if (metadata.status === "rejected") {
    status.classList.add("down");
    status.textContent = "server unreachable";
    return;
  }
  const ok = ready.status === "fulfilled";
  status.classList.add(ok ? "up" : "warn");
  status.textContent = `${ok ? "ready" : "not ready"}${secure ? " · HTTPS" : ""}`;
  $("server-version").textContent = `${metadata.value.name} ${metadata.value.version}`;
}

// ---------------------------------------------------------------- models

async function loadModels() {
  const select = $("model");
  const note = $("model-note");
  note.hidden = true;
  try {
    state.index = await api.repositoryIndex();
  } catch (error) {
    state.index = null;
    note.hidden = false;
    note.replaceChildren(
      `The model list is an admin call (${error.status || "no answer"}: ${error.message}). `,
      error.status === 401 ? "Enter a token above, or type the model's name." : "Type the model's name.");
  }
  const wanted = hashParams().get("model") || state.model;
  if (state.index === null) {
    $("model-pick").hidden = true;
    $("model-name-form").hidden = false;
    if (wanted) {
      $("model-name").value = wanted;
      await selectModel(wanted);
    }
    return;
  }
  $("model-pick").hidden = false;
  $("model-name-form").hidden = true;
  const models = new Map();
  for (const entry of state.index) {
    if (!models.has(entry.name)) models.set(entry.name, []);
    models.get(entry.name).push(entry);
  }
  select.replaceChildren();
  if (models.size === 0) {
    select.append(el("option", { value: "", text: "no models" }));
    select.disabled = true;
    return;
  }
  for (const [name, entries] of models) {
    const ready = entries.filter((e) => e.state === "READY").length;
    select.append(el("option", { value: name, text: ready ? `${name} · ${ready} ready` : `${name} · ${entries[0].state.toLowerCase()}` }));
  }
  select.disabled = false;
  const first = [...models].find(([, entries]) => entries.some((e) => e.state === "READY"));
  const name = models.has(wanted) ? wanted : first ? first[0] : [...models.keys()][0];
  select.value = name;
  await selectModel(name);
}

async function metadataFor(model, version) {
  const key = `${model}/${version}`;
  if (!state.metadata.has(key)) state.metadata.set(key, await api.modelMetadata(model, version));
  return state.metadata.get(key);
}

function tokenIds(metadata) {
  if (!metadata) return false;
  if (metadata.parameters && metadata.parameters.input) return metadata.parameters.input === "token_ids";
  const input = (metadata.inputs || []).find((i) => i.name === "INPUT");
  return input !== undefined && input.datatype.startsWith("INT");
}

function currentMetadata() {
  return state.metadata.get(`${state.model}/${$("version").value}`) ||
    state.metadata.get(`${state.model}/`);
}

async function selectModel(name) {
  state.model = name;
  state.metadata.clear();
  const box = $("metadata");
  box.replaceChildren(el("p", { class: "hint", text: "loading…" }));
  const version = $("version");
  const compare = $("compare-version");
  version.disabled = compare.disabled = $("compare").disabled = true;
  let newest;
  try {
    newest = await metadataFor(name, "");
  } catch (error) {
    box.replaceChildren(errorView(error));
    version.replaceChildren();
    compare.replaceChildren();
    state.versions = [];
    onInputChanged();
    return;
  }
  state.versions = newest.versions || [];
  const others = (state.index || []).filter((e) => e.name === name && e.version && e.state !== "READY");
  const params = hashParams();
  const fill = (select, chosen) => {
    select.replaceChildren(...state.versions.map((v) => el("option", { value: v, text: `version ${v}` })),
      ...others.map((e) => el("option", { value: e.version, disabled: true,
                                          text: `version ${e.version} · ${e.state.toLowerCase()}` })));
    if (chosen !== undefined) select.value = chosen;
  };
  const newestVersion = (newest.parameters && newest.parameters.version) || state.versions.at(-1);
  const wantedVersion = state.versions.includes(params.get("version")) ? params.get("version") : newestVersion;
  fill(version, wantedVersion);
  const previous = state.versions.filter((v) => v !== wantedVersion).at(-1);
  const wantedCompare = state.versions.includes(params.get("compare")) && params.get("compare") !== wantedVersion
    ? params.get("compare") : previous;
  fill(compare, wantedCompare);
  version.disabled = state.versions.length === 0;
  $("compare").disabled = state.versions.length < 2;
  $("compare").checked = state.versions.length >= 2 && params.has("compare") && wantedCompare !== undefined;
  compare.disabled = !$("compare").checked;
  await showVersionMetadata();
}

async function showVersionMetadata() {
  const box = $("metadata");
  const version = $("version").value;
  try {
    renderMetadata(await metadataFor(state.model, version));
  } catch (error) {
    box.replaceChildren(errorView(error));
  }
  updateHash();
  onInputChanged();
}

function chips(values, className = "chip") {
  return el("span", { class: "chips" }, values.map((v) => el("span", { class: className, text: v })));
}

function renderMetadata(metadata) {
  const p = metadata.parameters || {};
  const rows = [];
  const add = (term, value) => {
    if (value !== undefined && value !== "" && !(Array.isArray(value) && value.length === 0)) {
      rows.push(el("dt", { text: term }), el("dd", {}, value));
    }
  };
  add("version", [p.version || metadata.versions?.at(-1),
    p.version_labels?.length ? chips(p.version_labels, "chip label") : undefined]);
  if (p.input === "token_ids") add("input", `token ids in [0, ${p.vocab})`);
  else if (p.features) add("input", `${p.features} feature${p.features === 1 ? "" : "s"} per step`);
  const limits = [];
  if (p.window) limits.push(`fixed window of ${p.window} steps`);
  limits.push(p.max_sequence_length ? `at most ${p.max_sequence_length} steps` : "any length");
  if (p.features !== undefined) add("length", limits.join(" · "));
  add("encoder", p.encoder);
  add("attention", p.attention_blocks?.length ? p.attention_blocks.join(" → ") : p.encoder ? "none" : undefined);
  const maps = (metadata.outputs || []).filter((o) => o.name.startsWith("attention."));
  add("maps", maps.length ? chips(maps.map((o) => `${o.name.replace(/^attention\./, "")} [${o.shape.slice(1).map((d) => (d === -1 ? "l" : d)).join(" × ")}]`), "chip map") : undefined);
  add("classes", p.labels ? chips(p.labels) : undefined);
  add("output", p.output_activation);
  add("precision", p.precision);
  if (!metadata.parameters) {
    add("inputs", (metadata.inputs || []).map((i) => `${i.name} ${i.datatype} [${i.shape.join(", ")}]`).join(" · "));
  }
  $("metadata").replaceChildren(
    p.description ? el("p", { class: "description", text: p.description }) : "",
    el("dl", {}, rows));
}

// ---------------------------------------------------------------- input

async function loadSamples() {
  const select = $("sample");
  let names = [];
  try {
    names = JSON.parse(await api.pageFile("samples/index.json"));
  } catch (error) {
    select.append(el("option", { value: "", disabled: true, text: "(no samples)" }));
    return;
  }
  for (const name of names) select.append(el("option", { value: name, text: name }));
  const wanted = opened.get("sample");
  if (wanted && names.includes(wanted)) {
    select.value = wanted;
    await loadSample(wanted);
  }
}

async function loadSample(name) {
  if (!name) return;
  try {
    $("input-text").value = await api.pageFile(`samples/${name}`);
  } catch (error) {
    showError(error);
    return;
  }
  $("file").value = "";
  onInputChanged();
  // A sample that names its model (JSON "model", CSV "# model: NAME") selects it.
  const named = state.input.model;
  if (named && named !== state.model && state.index?.some((e) => e.name === named)) {
    $("model").value = named;
    await selectModel(named);
  }
  updateHash();
}

function describeInput(input, metadata) {
  const { sequences } = input;
  if (sequences.length === 0) return "";
  const ids = sequences[0].ids !== undefined;
  const lengths = sequences.map((s) => (ids ? s.ids.length : s.values.length));
  const min = Math.min(...lengths);
  const max = Math.max(...lengths);
  const parts = [`${sequences.length} sequence${sequences.length === 1 ? "" : "s"}`,
                 min === max ? `${max} steps` : `${min} to ${max} steps`];
  if (ids) parts.push("token ids");
  else parts.push(`${sequences[0].values[0].length} features per step`);
  if (sequences.every((s) => s.label !== undefined)) parts.push("expected labels given");
  const p = metadata?.parameters;
  if (p && !ids && p.input === "values" && p.features !== sequences[0].values[0].length) {
    parts.push(`the model takes ${p.features}`);
  }
  return parts.join(" · ");
}

function onInputChanged() {
  const metadata = currentMetadata();
  state.input = parseInput($("input-text").value, tokenIds(metadata));
  const summary = $("input-summary");
  summary.classList.toggle("invalid", state.input.error !== undefined);
  summary.textContent = state.input.error !== undefined ? `⚠ ${state.input.error}`
    : describeInput(state.input, metadata);
  if (state.input.description && state.input.error === undefined) {
    summary.append(el("span", { class: "input-description", text: state.input.description }));
  }
  $("classify").disabled = state.busy || !state.model || state.versions.length === 0 ||
    state.input.sequences.length === 0 || state.input.error !== undefined;
}

// ---------------------------------------------------------------- classify

async function classify() {
  if ($("classify").disabled) return;
  const metadata = currentMetadata();
  const ids = tokenIds(metadata);
  const sequences = state.input.sequences;
  const request = buildInferRequest(sequences, ids);
  const lengths = request.inputs.find((i) => i.name === "LENGTHS").data;
  const versions = [$("version").value];
  if ($("compare").checked && $("compare-version").value && $("compare-version").value !== versions[0]) {
    versions.push($("compare-version").value);
  }
  state.busy = true;
  const button = $("classify");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = "Classifying…";
  showError(undefined);
  const model = state.model;
  const runs = await Promise.all(versions.map(async (version) => {
    try {
      const versionMetadata = await metadataFor(model, version);
      const response = await api.infer(model, version, request);
      return { model, version: response.model_version || version, metadata: versionMetadata,
               results: splitResponse(response, lengths, versionMetadata),
               timing: response.parameters || {} };
    } catch (error) {
      return { model, version, error };
    }
  }));
  state.busy = false;
  button.removeAttribute("aria-busy");
  button.textContent = "Classify";
  state.runs = runs;
  state.shown = { sequences, featureNames: state.input.featureNames };
  state.selected = Math.min(state.selected, sequences.length - 1);
  onInputChanged();
  renderResults();
  $("results").focus({ preventScroll: true });
}

function renderResults() {
  const { runs, shown } = state;
  if (!shown) return;
  $("placeholder").hidden = true;
  const count = shown.sequences.length;
  const nav = $("sequence-nav");
  nav.hidden = count < 2;
  const select = $("sequence");
  select.replaceChildren(...shown.sequences.map((s, i) => el("option", { value: i,
    text: `sequence ${i + 1} of ${count}${s.label !== undefined ? ` · expected ${s.label}` : ""}` })));
  select.value = String(state.selected);
  $("sequence-prev").disabled = state.selected === 0;
  $("sequence-next").disabled = state.selected === count - 1;

  const sequence = shown.sequences[state.selected];
  const panels = $("panels");
  panels.classList.toggle("two", runs.length === 2);
  panels.replaceChildren(...runs.map((run, i) => resultPanel({
    model: run.model, version: run.version, metadata: run.metadata, timing: run.timing,
    error: run.error, result: run.results?.[state.selected], sequence,
    featureNames: shown.featureNames, expected: sequence.label, role: i === 0 ? "primary" : "compare",
  })));
  const comparison = $("comparison");
  comparison.replaceChildren();
  if (runs.length === 2 && !runs[0].error && !runs[1].error) {
    const steps = sequence.ids !== undefined ? sequence.ids.length : sequence.values.length;
    comparison.append(comparisonView(
      { version: runs[0].version, result: runs[0].results[state.selected] },
      { version: runs[1].version, result: runs[1].results[state.selected] }, steps));
  }
  const batch = $("batch-summary");
  batch.replaceChildren();
  if (count > 1) {
    const summary = batchSummaryView(runs, shown.sequences.map((s) => s.label));
    if (summary) batch.append(summary);
  }
}

function showSequence(index) {
  if (!state.shown) return;
  state.selected = Math.max(0, Math.min(state.shown.sequences.length - 1, index));
  renderResults();
}

// ---------------------------------------------------------------- wiring

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function wire() {
  const token = $("token");
  token.value = sessionStorage.getItem(TOKEN_KEY) || "";
  $("token-show").addEventListener("click", () => {
    const show = token.type === "password";
    token.type = show ? "text" : "password";
    $("token-show").setAttribute("aria-pressed", String(show));
    $("token-show").textContent = show ? "Hide" : "Show";
  });
  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = token.value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
    state.metadata.clear();
    await Promise.all([refreshServerStatus(), loadModels()]);
  });
  $("model").addEventListener("change", () => selectModel($("model").value));
  $("model-name-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("model-name").value.trim();
    if (name) selectModel(name);
  });
  $("version").addEventListener("change", showVersionMetadata);
  $("compare").addEventListener("change", () => {
    $("compare-version").disabled = !$("compare").checked;
    updateHash();
  });
  $("compare-version").addEventListener("change", updateHash);
  $("sample").addEventListener("change", () => loadSample($("sample").value));
  $("file").addEventListener("change", async () => {
    const file = $("file").files[0];
    if (!file) return;
    $("input-text").value = await file.text();
    $("sample").value = "";
    onInputChanged();
    updateHash();
  });
  $("input-text").addEventListener("input", debounce(() => {
    $("sample").value = "";
    onInputChanged();
  }, 150));
  $("classify").addEventListener("click", classify);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onInputChanged();
      classify();
    }
  });
  $("sequence").addEventListener("change", () => showSequence(Number($("sequence").value)));
  $("sequence-prev").addEventListener("click", () => showSequence(state.selected - 1));
  $("sequence-next").addEventListener("click", () => showSequence(state.selected + 1));
  // A new address typed or pasted (another model, versions or sample): start over from it.
  window.addEventListener("hashchange", () => location.reload());
  $("results").addEventListener("keydown", (event) => {
    if (event.target.closest("select, input, textarea")) return;
    if (event.key === "ArrowLeft") showSequence(state.selected - 1);
    if (event.key === "ArrowRight") showSequence(state.selected + 1);
  });
}

async function start() {
  wire();
  // Samples after the models: a sample that names its model selects it.
  await Promise.all([refreshServerStatus(), loadModels().then(loadSamples)]);
  document.body.dataset.ready = "true";
}

start();
