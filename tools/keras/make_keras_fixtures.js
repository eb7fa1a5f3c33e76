#!/usr/bin/env node
// Writes tests/fixtures/keras/<recipe>/ for every recipe of recipes.js:
//   model.json    the TensorFlow.js layers model (Keras model config as
//                 `modelTopology`, weights manifest), with weights.bin
//   cases.json    inputs, lengths and what the model computes on them:
//                 {input, lengths, inputs, outputs, attention: {name: [...]}}
//                 (per sequence; attention as attnserve returns it: temporal
//                 [l], time [T, k] or [T], feature [l, D], gate [N])
// Weights and inputs come from a generator seeded by the recipe's name, so a
// rerun writes the same bytes. 'any' recipes run each sequence at its own
// length on a model of that length sharing the layers (the Keras graph has
// nothing tied to T); 'window' recipes pad shorter sequences with 0 before
// their steps (Keras pad_sequences' default) and run the saved model.
// Run: node tools/keras/make_keras_fixtures.js [OUT_DIR]
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const {RECIPES} = require('./recipes');

const OUT = process.argv[2] ||
  path.join(__dirname, '..', '..', 'tests', 'fixtures', 'keras');
const BATCH = 6;

function hash(text) {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h;
}

// mulberry32: a small seeded generator of uniform [0, 1) numbers.
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Weights large enough that attention is far from uniform: kernels of the
// recurrent layers U(-0.5, 0.5); other kernels uniform with std 2/sqrt(fan_in);
// biases U(-0.5, 0.5); embeddings U(-1.5, 1.5).
function setWeights(model, rand) {
  for (const layer of model.layers) {
    const values = layer.getWeights().map((w) => {
      const n = w.size;
      const recurrent = /lstm|recurrent/i.test(w.name) || layer.getClassName() === 'Bidirectional';
      let scale;
      if (/embeddings/.test(w.name)) scale = 1.5;
      else if (recurrent || w.shape.length === 1) scale = 0.5;
      else scale = 2 * Math.sqrt(3) / Math.sqrt(w.shape[0]);
      const data = new Float32Array(n);
      for (let i = 0; i < n; ++i) data[i] = (2 * rand() - 1) * scale;
      return tf.tensor(data, w.shape, 'float32');
    });
    if (values.length) layer.setWeights(values);
  }
}

function inputShape(recipe, steps) {
  if (recipe.input === 'flat') return {shape: [recipe.D]};
  if (recipe.input === 'ids') return {shape: [steps], dtype: 'int32'};
  return {shape: [steps, recipe.D]};
}

function makeCases(recipe, rand) {
  const T = recipe.T || 11;
  const lengths = recipe.lengths === 'one' ? Array(BATCH).fill(1)
    : [T, 1, ...Array.from({length: BATCH - 2}, () => 2 + Math.floor(rand() * (T - 2)))];
  const inputs = lengths.map((l) => Array.from({length: recipe.input === 'flat' ? 1 : l}, () => {
    if (recipe.input === 'ids') return Math.floor(rand() * recipe.vocab);
    return Array.from({length: recipe.D}, () => Math.fround(2 * rand() - 1) * 1.5);
  }));
  return {lengths: recipe.input === 'flat' ? lengths : lengths, inputs};
}

function tensorOf(recipe, steps) {
  if (recipe.input === 'flat') return tf.tensor2d(steps[0], [1, recipe.D]);
  if (recipe.input === 'ids') return tf.tensor2d([steps], [1, steps.length], 'int32');
  return tf.tensor3d([steps], [1, steps.length, recipe.D]);
}

// The attention maps of one run, as attnserve returns them for a sequence.
function mapsOf(maps, values, input) {
  const out = {};
  for (const [name, value] of Object.entries(maps)) {
    const tensor = value.attention_layer ? value.attention_layer.attentionWeights(values[name])
                                         : values[name];
    out[name] = tensor.arraySync()[0];
  }
  return out;
}

async function build(recipe) {
  const rand = generator(hash(recipe.name));
  const layers = recipe.layers();
  const models = new Map();  // steps -> {model, names}
  const modelFor = (steps) => {
    if (!models.has(steps)) {
      const x = tf.input(Object.assign({name: 'input'}, inputShape(recipe, steps)));
      const {out, maps} = recipe.graph(x, layers);
      const names = Object.keys(maps);
      const extra = names.map((n) => (maps[n].attention_layer ? maps[n].on : maps[n]));
      models.set(steps, {
        saved: tf.model({name: recipe.name, inputs: x, outputs: out}),
        probe: tf.model({inputs: x, outputs: [out, ...extra]}),
        maps, names,
      });
    }
    return models.get(steps);
  };
  const main = modelFor(recipe.T);
  setWeights(main.saved, rand);
  const {lengths, inputs} = makeCases(recipe, rand);
  const outputs = [];
  const attention = {};
  for (let b = 0; b < lengths.length; ++b) {
    let steps = inputs[b];
    let run = recipe.lengths === 'any' && recipe.T ? modelFor(steps.length) : main;
    if (recipe.lengths === 'window') {
      const pad = recipe.input === 'ids' ? 0 : Array(recipe.D).fill(0);
      steps = Array(recipe.T - steps.length).fill(pad).concat(steps);
    }
    const results = run.probe.predict(tensorOf(recipe, steps));
    const all = Array.isArray(results) ? results : [results];
    outputs.push(Array.from(all[0].dataSync()));
    const values = {};
    run.names.forEach((n, i) => { values[n] = all[i + 1]; });
    const maps = mapsOf(run.maps, values);
    for (const [name, map] of Object.entries(maps)) (attention[name] ||= []).push(map);
  }
  const dir = path.join(OUT, recipe.name);
  fs.mkdirSync(dir, {recursive: true});
  await main.saved.save(tf.io.withSaveHandler(async (artifacts) => {
    const manifest = [{paths: ['weights.bin'], weights: artifacts.weightSpecs}];
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: manifest,
    }, null, 1) + '\n');
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts.weightData));
    return {modelArtifactsInfo: {dateSaved: new Date(0), modelTopologyType: 'JSON'}};
  }));
  const cases = {recipe: recipe.name, about: recipe.about, input: recipe.input,
                 lengths, inputs, outputs, attention};
  fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases) + '\n');
  console.log(`${recipe.name}: ${lengths.length} sequences (lengths ${lengths.join(', ')}), ` +
              `maps ${Object.keys(attention).join(', ') || '-'}`);
}

(async () => {
  await tf.setBackend('cpu');
  for (const recipe of RECIPES) await build(recipe);
})().catch((e) => { console.error(e); process.exit(1); });
