// The Keras recipes of issue 15, built in TensorFlow.js as their users wrote
// them (a Lambda or keras-attention layer from layers.js where they used one).
//
// Each recipe: `input` ('ids' token ids, 'seq' float steps, 'flat' one
// vector), T (the Keras model's time steps; null: any length), D / vocab,
// `lengths` ('any': every sequence run at its own length on a model of that
// length sharing the layers; 'window': shorter ones padded with 0 before their
// steps, as Keras' pad_sequences does; 'one': a flat vector), `layers()`
// creating the layer objects once, and `graph(x, L)` applying them to an
// input, returning {out, maps} where maps are the symbolic attention tensors
// (named as attnserve names them) or {attention_layer, on} for a keras-attention layer.
const tf = require('@tensorflow/tfjs');
const {Lambda, Attention} = require('./layers');

const L = tf.layers;
const lstm = (name, units, recurrentActivation, returnSequences = true) =>
  L.lstm({name, units, recurrentActivation, returnSequences});
const bi = (name, layer) => L.bidirectional({name, layer, mergeMode: 'concat'});
const dense = (name, units, activation) => L.dense({name, units, activation});

// attention_3d_block (on the time axis) of a [T, k] input, as in the recipe.
function attention3d(prefix, T, k, singleVector) {
  const layers = {
    [`${prefix}_permute`]: L.permute({name: `${prefix}_permute`, dims: [2, 1]}),
    [`${prefix}_dense`]: dense(`${prefix}_dense`, T, 'softmax'),
    [`${prefix}_probs`]: L.permute({name: `${prefix}_probs`, dims: [2, 1]}),
    [`${prefix}_mul`]: L.multiply({name: `${prefix}_mul`}),
  };
  if (singleVector) {
    layers[`${prefix}_dim_reduction`] = new Lambda({name: `${prefix}_dim_reduction`,
                                                   fn: 'mean_channels'});
    layers[`${prefix}_repeat`] = L.repeatVector({name: `${prefix}_repeat`, n: k});
  }
  const apply = (z, Ls) => {
    let a = Ls[`${prefix}_dense`].apply(Ls[`${prefix}_permute`].apply(z));  // [k, T]
    let map = null;
    if (singleVector) {
      map = Ls[`${prefix}_dim_reduction`].apply(a);                        // [T]
      a = Ls[`${prefix}_repeat`].apply(map);                                // [k, T]
    }
    const probs = Ls[`${prefix}_probs`].apply(a);                          // [T, k]
    return {out: Ls[`${prefix}_mul`].apply([z, probs]), map: map || probs};
  };
  return {layers, apply};
}

const RECIPES = [
  {
    name: 'r1_embedding_feedforward',
    about: 'token ids, Embedding, LSTM, Dense(1, tanh) -> softmax -> weighted sum',
    input: 'ids', vocab: 40, T: 12, lengths: 'any', C: 3,
    layers: () => ({
      embedding: L.embedding({name: 'embedding', inputDim: 40, outputDim: 8, maskZero: false}),
      lstm: lstm('lstm', 16, 'sigmoid'),
      score: dense('attention_score', 1, 'tanh'),
      flatten: L.flatten({name: 'flatten'}),
      softmax: L.activation({name: 'attention_weights', activation: 'softmax'}),
      repeat: L.repeatVector({name: 'repeat_vector', n: 16}),
      permute: L.permute({name: 'permute', dims: [2, 1]}),
      multiply: L.multiply({name: 'multiply'}),
      sum: new Lambda({name: 'weighted_sum', fn: 'sum_time'}),
      out: dense('output', 3, 'softmax'),
    }),
    graph: (x, Ls) => {
      const h = Ls.lstm.apply(Ls.embedding.apply(x));
      const a = Ls.softmax.apply(Ls.flatten.apply(Ls.score.apply(h)));
      const v = Ls.sum.apply(Ls.multiply.apply([h, Ls.permute.apply(Ls.repeat.apply(a))]));
      return {out: Ls.out.apply(v), maps: {temporal: a}};
    },
  },
  {
    name: 'r2_dense_gate',
    about: 'attention on a dense layer: Dense(N, relu) -> Dense(N, sigmoid) -> multiply',
    input: 'flat', D: 10, lengths: 'one', C: 3,
    layers: () => ({
      hidden: dense('dense', 8, 'relu'),
      gate: dense('attention_probs', 8, 'sigmoid'),
      multiply: L.multiply({name: 'attention_mul'}),
      out: dense('output', 3, 'softmax'),
    }),
    graph: (x, Ls) => {
      const v = Ls.hidden.apply(x);
      const g = Ls.gate.apply(v);
      return {out: Ls.out.apply(Ls.multiply.apply([v, g])), maps: {gate: g}};
    },
  },
  ...[true, false].map((single) => ({
    name: `r3_time_after_lstm_${single ? 'single' : 'per_channel'}`,
    about: `attention_3d_block after the LSTM, SINGLE_ATTENTION_VECTOR ${single}`,
    input: 'seq', D: 4, T: 9, lengths: 'window', C: 1,
    layers: () => Object.assign({
      lstm: lstm('lstm', 6, 'sigmoid'),
      flatten: L.flatten({name: 'flatten'}),
      out: dense('output', 1, 'sigmoid'),
    }, attention3d('attention', 9, 6, single).layers),
    graph: (x, Ls) => {
      const block = attention3d('attention', 9, 6, single);
      const z = block.apply(Ls.lstm.apply(x), Ls);
      return {out: Ls.out.apply(Ls.flatten.apply(z.out)), maps: {time: z.map}};
    },
  })),
  {
    name: 'r3_time_before_lstm_single',
    about: 'attention_3d_block before the LSTM, SINGLE_ATTENTION_VECTOR true',
    input: 'seq', D: 5, T: 8, lengths: 'window', C: 1,
    layers: () => Object.assign({
      lstm: lstm('lstm', 7, 'sigmoid', false),
      out: dense('output', 1, 'sigmoid'),
    }, attention3d('attention', 8, 5, true).layers),
    graph: (x, Ls) => {
      const z = attention3d('attention', 8, 5, true).apply(x, Ls);
      return {out: Ls.out.apply(Ls.lstm.apply(z.out)), maps: {time: z.map}};
    },
  },
  {
    name: 'r4_feature_lstm',
    about: 'the block on the feature axis (Dense(input_dim, softmax), no permute) before the LSTM',
    input: 'seq', D: 6, T: null, lengths: 'any', C: 3,
    layers: () => ({
      features: dense('attention_vec', 6, 'softmax'),
      multiply: L.multiply({name: 'attention_mul'}),
      lstm: lstm('lstm', 8, 'sigmoid', false),
      out: dense('output', 3, 'softmax'),
    }),
    graph: (x, Ls) => {
      const b = Ls.features.apply(x);
      const h = Ls.lstm.apply(Ls.multiply.apply([x, b]));
      return {out: Ls.out.apply(h), maps: {feature: b}};
    },
  },
  {
    name: 'r4_feature_then_time_after',
    about: 'spatial then temporal: feature attention, LSTM, attention_3d_block (single), Flatten',
    input: 'seq', D: 4, T: 7, lengths: 'window', C: 2,
    layers: () => Object.assign({
      features: dense('feature_attention', 4, 'softmax'),
      fmultiply: L.multiply({name: 'feature_mul'}),
      lstm: lstm('lstm', 5, 'sigmoid'),
      flatten: L.flatten({name: 'flatten'}),
      out: dense('output', 2, 'softmax'),
    }, attention3d('time_attention', 7, 5, true).layers),
    graph: (x, Ls) => {
      const b = Ls.features.apply(x);
      const h = Ls.lstm.apply(Ls.fmultiply.apply([x, b]));
      const z = attention3d('time_attention', 7, 5, true).apply(h, Ls);
      return {out: Ls.out.apply(Ls.flatten.apply(z.out)), maps: {feature: b, time: z.map}};
    },
  },
  ...['luong', 'bahdanau'].map((score) => ({
    name: `r5_keras_attention_${score}`,
    about: `keras-attention's Attention(units, score='${score}') after a Bidirectional LSTM`,
    input: 'seq', D: 3, T: null, lengths: 'any', C: 3,
    layers: () => ({
      lstm: bi('bidirectional', lstm('lstm', 5, 'sigmoid')),
      attention: new Attention({name: 'attention', units: 7, score}),
      out: dense('output', 3, 'softmax'),
    }),
    graph: (x, Ls) => {
      const h = Ls.lstm.apply(x);
      return {out: Ls.out.apply(Ls.attention.apply(h)),
              maps: {temporal: {attention_layer: Ls.attention, on: h}}};
    },
  })),
  {
    name: 'r6_temporal_over_8_states',
    about: 'score = Dot([h_last, tanh(Dense(h))]) -> Dense(T, softmax) -> weighted sum + h_last',
    input: 'seq', D: 3, T: 8, lengths: 'window', C: 3,
    layers: () => ({
      lstm: lstm('lstm', 6, 'sigmoid'),
      last: new Lambda({name: 'last_hidden_state', fn: 'last_step'}),
      proj: dense('score_dense', 6, 'tanh'),
      score: L.dot({name: 'attention_score', axes: [1, 2]}),
      mix: dense('attention_weight', 8, 'softmax'),
      context: L.dot({name: 'context_vector', axes: [1, 1]}),
      add: L.add({name: 'add_last'}),
      out: dense('output', 3, 'softmax'),
    }),
    graph: (x, Ls) => {
      const h = Ls.lstm.apply(x);
      const last = Ls.last.apply(h);
      const a = Ls.mix.apply(Ls.score.apply([last, Ls.proj.apply(h)]));
      const v = Ls.add.apply([Ls.context.apply([a, h]), last]);
      return {out: Ls.out.apply(v), maps: {temporal: a}};
    },
  },
  {
    name: 'r7_han_residual',
    about: 'HAN-style additive attention: Dense(A, tanh) -> Dense(1) -> softmax, context + h_last',
    input: 'seq', D: 4, T: 10, lengths: 'any', C: 2,
    layers: () => ({
      lstm: lstm('lstm', 8, 'sigmoid'),
      proj: dense('attention_hidden', 5, 'tanh'),
      score: dense('attention_score', 1, undefined),
      flatten: L.flatten({name: 'flatten'}),
      softmax: L.activation({name: 'attention_weights', activation: 'softmax'}),
      context: L.dot({name: 'context', axes: [1, 1]}),
      last: new Lambda({name: 'last_state', fn: 'last_step'}),
      add: L.add({name: 'residual'}),
      out: dense('output', 2, 'softmax'),
    }),
    graph: (x, Ls) => {
      const h = Ls.lstm.apply(x);
      const a = Ls.softmax.apply(Ls.flatten.apply(Ls.score.apply(Ls.proj.apply(h))));
      const v = Ls.add.apply([Ls.context.apply([a, h]), Ls.last.apply(h)]);
      return {out: Ls.out.apply(v), maps: {temporal: a}};
    },
  },
  {
    name: 'r8_hard_sigmoid_bi_stacked',
    about: "two Bidirectional LSTMs with Keras 2.0-2.2's hard_sigmoid, feed-forward attention",
    input: 'seq', D: 3, T: 10, lengths: 'any', C: 2,
    layers: () => ({
      lstm1: bi('bidirectional', lstm('lstm', 4, 'hardSigmoid')),
      lstm2: bi('bidirectional_1', lstm('lstm_1', 4, 'hardSigmoid')),
      score: dense('attention_score', 1, 'tanh'),
      flatten: L.flatten({name: 'flatten'}),
      softmax: L.activation({name: 'attention_weights', activation: 'softmax'}),
      repeat: L.repeatVector({name: 'repeat_vector', n: 8}),
      permute: L.permute({name: 'permute', dims: [2, 1]}),
      multiply: L.multiply({name: 'multiply'}),
      sum: new Lambda({name: 'weighted_sum', fn: 'sum_time'}),
      out: dense('output', 2, 'softmax'),
    }),
    graph: (x, Ls) => {
      const h = Ls.lstm2.apply(Ls.lstm1.apply(x));
      const a = Ls.softmax.apply(Ls.flatten.apply(Ls.score.apply(h)));
      const v = Ls.sum.apply(Ls.multiply.apply([h, Ls.permute.apply(Ls.repeat.apply(a))]));
      return {out: Ls.out.apply(v), maps: {temporal: a}};
    },
  },
  {
    name: 'r8_hard_sigmoid_last_state',
    about: "an LSTM with hard_sigmoid and return_sequences=False, then Dense",
    input: 'seq', D: 4, T: null, lengths: 'any', C: 1,
    layers: () => ({
      lstm: lstm('lstm', 6, 'hardSigmoid', false),
      out: dense('output', 1, 'sigmoid'),
    }),
    graph: (x, Ls) => ({out: Ls.out.apply(Ls.lstm.apply(x)), maps: {}}),
  },
];

module.exports = {RECIPES};
