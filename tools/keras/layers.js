// The layers the recipes' authors wrote in Python that TensorFlow.js does not
// ship, with Keras' class names and configs:
//
// - Lambda: Keras' Lambda layer. Its config keeps the function as opaque text
//   (Keras keeps marshalled bytecode), as an importer must treat it; the
//   computation is one of the few functions the recipes use, chosen here by
//   `fn` (not saved).
// - Attention: keras-attention's Attention(units, score) layer (score
//   'luong' or 'bahdanau'), with the same config and the same sub-layer weight
//   names (luong_w, bahdanau_w1, bahdanau_w2, bahdanau_v, attention_vector):
//     h_t = inputs[:, -1, :]
//     luong:    score = (inputs . luong_w) . h_t
//     bahdanau: score = bahdanau_v . tanh(h_t . bahdanau_w1 + inputs . bahdanau_w2)
//     a = softmax(score); c = sum_t a_t inputs_t
//     output = tanh([c; h_t] . attention_vector)
//   attentionWeights(h) returns a for a concrete sequence output h.
const tf = require('@tensorflow/tfjs');

// fn name -> [python text users wrote, output shape from input shape, compute]
const LAMBDAS = {
  sum_time: ['lambda x: K.sum(x, axis=1)', (s) => [s[0], s[2]], (x) => tf.sum(x, 1)],
  last_step: ['lambda x: x[:, -1, :]', (s) => [s[0], s[2]],
              (x) => tf.squeeze(tf.slice(x, [0, x.shape[1] - 1, 0], [-1, 1, -1]), [1])],
  mean_channels: ['lambda x: K.mean(x, axis=1)', (s) => [s[0], s[2]], (x) => tf.mean(x, 1)],
};

class Lambda extends tf.layers.Layer {
  constructor(config) {
    super(config);
    this.fn = config.fn;
    this.supportsMasking = false;
  }
  computeOutputShape(inputShape) { return LAMBDAS[this.fn][1](inputShape); }
  call(inputs) {
    return tf.tidy(() => LAMBDAS[this.fn][2](Array.isArray(inputs) ? inputs[0] : inputs));
  }
  getConfig() {
    return Object.assign(super.getConfig(), {
      function: [LAMBDAS[this.fn][0], null, null],
      function_type: 'lambda',
      module: '__main__',
      output_shape: null,
      output_shape_type: 'raw',
      output_shape_module: null,
      arguments: {},
    });
  }
  static get className() { return 'Lambda'; }
}
tf.serialization.registerClass(Lambda);

class Attention extends tf.layers.Layer {
  constructor(config) {
    super(config);
    this.units = config.units;
    this.score = config.score || 'luong';
  }
  build(inputShape) {
    const d = inputShape[inputShape.length - 1];
    const init = tf.initializers.zeros();
    if (this.score === 'luong') {
      this.luongW = this.addWeight('luong_w/kernel', [d, d], 'float32', init);
    } else {
      this.w1 = this.addWeight('bahdanau_w1/kernel', [d, d], 'float32', init);
      this.w2 = this.addWeight('bahdanau_w2/kernel', [d, d], 'float32', init);
      this.v = this.addWeight('bahdanau_v/kernel', [d, 1], 'float32', init);
    }
    this.wc = this.addWeight('attention_vector/kernel', [2 * d, this.units], 'float32', init);
    this.built = true;
  }
  computeOutputShape(inputShape) { return [inputShape[0], this.units]; }
  // a [B, T] for concrete h [B, T, d].
  attentionWeights(h) {
    return tf.tidy(() => {
      const [b, t, d] = h.shape;
      const last = tf.squeeze(tf.slice(h, [0, t - 1, 0], [-1, 1, -1]), [1]);  // [B, d]
      let score;
      if (this.score === 'luong') {
        const first = tf.reshape(tf.matMul(tf.reshape(h, [b * t, d]), this.luongW.read()),
                                 [b, t, d]);
        score = tf.sum(tf.mul(first, tf.expandDims(last, 1)), 2);
      } else {
        const q = tf.expandDims(tf.matMul(last, this.w1.read()), 1);  // [B, 1, d]
        const k = tf.reshape(tf.matMul(tf.reshape(h, [b * t, d]), this.w2.read()), [b, t, d]);
        const hidden = tf.tanh(tf.add(q, k));
        score = tf.reshape(tf.matMul(tf.reshape(hidden, [b * t, d]), this.v.read()), [b, t]);
      }
      return tf.softmax(score, -1);
    });
  }
  call(inputs) {
    return tf.tidy(() => {
      const h = Array.isArray(inputs) ? inputs[0] : inputs;
      const t = h.shape[1];
      const last = tf.squeeze(tf.slice(h, [0, t - 1, 0], [-1, 1, -1]), [1]);
      const a = this.attentionWeights(h);
      const c = tf.sum(tf.mul(h, tf.expandDims(a, 2)), 1);
      return tf.tanh(tf.matMul(tf.concat([c, last], 1), this.wc.read()));
    });
  }
  getConfig() {
    return Object.assign(super.getConfig(), {units: this.units, score: this.score});
  }
  static get className() { return 'Attention'; }
}
tf.serialization.registerClass(Attention);

module.exports = {Lambda, Attention};
