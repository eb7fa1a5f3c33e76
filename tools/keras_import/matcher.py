"""Matches a Keras layer graph against the recipes attnserve serves.

Contract: match(model) returns Imported(spec, tensors, recognized, assumptions)
where spec is a model.json dict (without labels), tensors the state_dict
names of docs/model-format.md mapped to float32 arrays, recognized a list of
lines saying what each part of the graph was taken to be, and assumptions the
lines stating what was inferred rather than read (what a Lambda computes, from
its position; how a fixed-length model serves shorter sequences; which
hard_sigmoid). A graph that is not exactly one of the recipes raises Refusal
naming the first layer that does not fit and why: the importer never writes a
model computing something else.

The recipes (docs/keras.md): token ids through an Embedding; feature attention
or attention_3d_block before the LSTM; a stack of LSTM / Bidirectional(LSTM)
layers; after it feed-forward (Dense(1, tanh) scores), HAN-style additive
(Dense(A, tanh) -> Dense(1)) with an optional + h_last, attention_3d_block
(flattened into the head), keras-attention's Attention layer, or the query-based
Dot(h_last, [tanh](Dense(h))) scores with an optional Dense(T, softmax) mix and
+ h_last; then dense layers with an optional sigmoid gate (Multiply) and the
output layer. A model without an LSTM is a flat input through such a head.
"""

from dataclasses import dataclass, field

import numpy as np

from . import keras_layers as kl
from .graph import Graph, Layer, Refusal


@dataclass
class Imported:
    spec: dict
    tensors: dict
    recognized: list = field(default_factory=list)
    assumptions: list = field(default_factory=list)


def _splice_pass_through(graph, recognized):
    """Removes identity-at-inference layers (Dropout, ...) from the graph."""
    for name in [n for n, l in graph.layers.items() if l.cls in kl.PASS_THROUGH]:
        layer = graph.layers.pop(name)
        source = layer.inputs[0]
        graph.layers[source].consumers.remove(name)
        for consumer in layer.consumers:
            c = graph.layers[consumer]
            c.inputs = [source if i == name else i for i in c.inputs]
            graph.layers[source].consumers.append(consumer)
        if graph.output == name:
            graph.output = source
        recognized.append(f"{name} ({layer.cls}): the identity at inference, skipped")


class _Matcher:
    def __init__(self, model):
        self.model = model
        self.recognized, self.assumptions, self.tensors = [], [], {}
        self.graph = Graph(model.config)
        _splice_pass_through(self.graph, self.recognized)
        self.weights = model.weights
        self.used = set()

    # --- graph helpers -----------------------------------------------------
    def layer(self, name):
        return self.graph[name]

    def take(self, name, what):
        self.used.add(name)
        self.recognized.append(f"{name} ({self.graph[name].cls}): {what}")
        return self.graph[name]

    def consumers(self, name):
        return [self.graph[c] for c in self.graph[name].consumers]

    def only_consumer(self, name, what="its output"):
        cons = self.consumers(name)
        if len(cons) != 1:
            raise Refusal(name, f"{what} feeds {len(cons)} layers "
                                f"({', '.join(c.name for c in cons) or 'none'}); "
                                "no recipe has that graph")
        return cons[0]

    def assume(self, text):
        self.assumptions.append(text)

    def lambda_role(self, layer, role, why):
        function = layer.config.get("function")
        text = function[0] if isinstance(function, list) and function else function
        self.assume(f"layer {layer.name!r} (Lambda{f' {text!r}' if isinstance(text, str) and len(text) < 80 else ''}) "
                    f"is taken to compute {role}, from {why}")

    # --- the pipeline ------------------------------------------------------
    def run(self):
        g = self.graph
        shape = g.shape
        spec = {"format": "attnserve.model", "format_version": 1,
                "description": f"imported from Keras ({self.model.source}, "
                               f"keras_version {self.model.keras_version})"}
        if any(s is None for s in shape[1:]) or len(shape) not in (1, 2):
            raise Refusal(g.input, f"input shape {shape}: attnserve reads [F] vectors, [T] "
                                   "token ids or [T, D] sequences")
        self.take(g.input, f"input {shape}" + (" (token ids)" if len(shape) == 1 and
                                                str(g.dtype).startswith("int") else ""))
        if len(shape) == 1 and not str(g.dtype).startswith("int"):
            spec["input"] = {"size": int(shape[0])}
            self.recognized.append("no LSTM: the head reads the input vector")
            spec["head"] = self.head(g.input, int(shape[0]))
            return self.finish(spec)
        steps = shape[0]
        cursor = g.input
        if len(shape) == 1:  # token ids
            emb = self.only_consumer(cursor)
            if emb.cls != "Embedding":
                raise Refusal(emb.name, "an integer input must go through an Embedding")
            if emb.config.get("mask_zero"):
                raise Refusal(emb.name, "mask_zero=True is not served: what Keras computes for a "
                                        "masked sequence depends on the layers after the LSTM "
                                        "and on the Keras version (Flatten and Permute drop "
                                        "the mask in tf.keras and TensorFlow.js, so padded steps "
                                        "still get attention, from the LSTM state carried over "
                                        "them); train with mask_zero=False, or send each "
                                        "sequence without its padding")
            table = kl._named(self.weights, emb, ["embeddings"])[0]
            self.tensors["embedding.weight"] = np.asarray(table, np.float32)
            vocab, dim = table.shape
            self.take(emb.name, f"token ids through an embedding {vocab} x {dim}")
            spec["input"] = {"embedding": {"vocab": int(vocab), "dim": int(dim),
                                           "mask_zero": False}}
            features, cursor = int(dim), emb.name
        else:
            features = shape[1]
            spec["input"] = {"size": features}
        blocks = []
        before, cursor = self.before_lstm(cursor, steps, features)
        if before:
            blocks.append(before)
        encoder, H, d, last_sequences = self.encoder(cursor)
        spec["encoder"] = encoder
        if last_sequences:
            after, vector, size = self.after_lstm(H, steps, d)
            blocks.append(after)
        else:
            vector, size = H, d
            self.recognized.append("the head reads the LSTM's last state (q)")
        spec["attention"] = blocks
        window = next((b for b in blocks if b["type"] == "time_dense" or b.get("score_mix")),
                      None)
        if window is not None:
            self.assume(f"sequences shorter than the model's {steps} steps are padded with "
                        f"{'token id ' if 'embedding' in spec['input'] else ''}0 before their "
                        "steps (Keras pad_sequences' default); longer ones are refused")
        elif steps is not None:
            spec["input"]["max_length"] = int(steps)
            self.assume(f"the Keras model takes exactly {steps} steps; nothing in its graph "
                        f"depends on the length, so attnserve serves 1 to {steps} steps as "
                        "they are sent (no padding is added)")
        spec["head"] = self.head(vector, size)
        return self.finish(spec)

    def finish(self, spec):
        unused = [n for n in self.graph.layers if n not in self.used]
        if unused:
            raise Refusal(unused[0], f"is not part of any recipe this importer knows "
                                     f"({self.graph[unused[0]].cls})")
        return Imported(spec, self.tensors, self.recognized, self.assumptions)

    # --- before the LSTM ---------------------------------------------------
    def before_lstm(self, cursor, steps, features):
        """Feature attention or attention_3d_block on the LSTM's input, or nothing."""
        cons = self.consumers(cursor)
        if len(cons) == 1:
            return None, cursor  # the encoder says what it is (or why it is refused)
        names = {c.cls for c in cons}
        if len(cons) == 2 and "Multiply" in names and "Dense" in names:
            scores = next(c for c in cons if c.cls == "Dense")
            multiply = next(c for c in cons if c.cls == "Multiply")
            if kl.activation(scores) != "softmax" or scores.config["units"] != features:
                raise Refusal(scores.name, "feature attention is Dense(input_dim, softmax)")
            if multiply.inputs != [cursor, scores.name] and \
                    multiply.inputs != [scores.name, cursor]:
                raise Refusal(multiply.name, "does not multiply the input by its weights")
            w, b = kl.dense(self.weights, scores)
            self.take(scores.name, "feature attention scores (softmax over features)")
            self.take(multiply.name, "the input reweighed by its feature attention")
            self.put_block(0, {"score.weight": w, "score.bias": b})
            return {"type": "feature"}, multiply.name
        if len(cons) == 2 and "Multiply" in names and "Permute" in names:
            block, out = self.attention_3d(cursor, steps, features, "before_lstm")
            return block, out
        raise Refusal(cons[0].name if cons else cursor,
                      "expected an LSTM, feature attention (Dense(input_dim, softmax) and "
                      "Multiply) or attention_3d_block (Permute) after the input")

    def attention_3d(self, z, steps, k, placement):
        """attention_3d_block on z [T, k]: returns (block, the Multiply's name)."""
        cons = self.consumers(z)
        permute = next(c for c in cons if c.cls == "Permute")
        multiply = next(c for c in cons if c.cls == "Multiply")
        if tuple(permute.config.get("dims", ())) != (2, 1):
            raise Refusal(permute.name, "attention_3d_block permutes with dims (2, 1)")
        if steps is None:
            raise Refusal(permute.name, "attention_3d_block needs a fixed number of steps")
        scores = self.only_consumer(permute.name)
        if scores.cls != "Dense" or kl.activation(scores) != "softmax" or \
                scores.config["units"] != steps:
            raise Refusal(scores.name, f"attention_3d_block is Dense({steps}, softmax) over the "
                                       "time axis")
        nxt = self.only_consumer(scores.name)
        single = False
        if nxt.cls == "Lambda":
            reduction = nxt
            repeat = self.only_consumer(reduction.name)
            if repeat.cls != "RepeatVector" or repeat.config["n"] != k:
                raise Refusal(repeat.name, f"expected RepeatVector({k}) after the mean")
            self.lambda_role(reduction, "the mean over the channels (SINGLE_ATTENTION_VECTOR)",
                             "its position between Dense(T, softmax) and RepeatVector")
            self.take(reduction.name, "the mean of the weights over the channels")
            self.take(repeat.name, "the single vector repeated for every channel")
            nxt = self.only_consumer(repeat.name)
            single = True
        if nxt.cls != "Permute" or tuple(nxt.config.get("dims", ())) != (2, 1):
            raise Refusal(nxt.name, "attention_3d_block permutes the weights back (dims (2, 1))")
        if self.only_consumer(nxt.name).name != multiply.name or \
                sorted(multiply.inputs) != sorted([z, nxt.name]):
            raise Refusal(multiply.name, "does not multiply the block's input by its weights")
        w, b = kl.dense(self.weights, scores)
        self.take(permute.name, "attention_3d_block: steps to the last axis")
        self.take(scores.name, f"attention_3d_block: softmax over {steps} steps per channel")
        self.take(nxt.name, "attention_3d_block: weights back to [T, k]")
        self.take(multiply.name, "attention_3d_block output")
        block = {"type": "time_dense", "window": int(steps), "placement": placement,
                 "single_vector": single}
        self.put_block(0 if placement == "before_lstm" else None,
                       {"score.weight": w, "score.bias": b})
        return block, multiply.name

    def put_block(self, index, tensors):
        """Stores a block's tensors; index None: the block after the LSTM (set later)."""
        if index is None:
            self.after_tensors = tensors
            return
        for name, value in tensors.items():
            self.tensors[f"attention.{index}.{name}"] = np.asarray(value, np.float32)

    # --- the LSTM stack ----------------------------------------------------
    def encoder(self, cursor):
        stack = []
        layer = self.only_consumer(cursor)
        while True:
            params, notes = kl.lstm_config(layer, self.model.keras_version)
            stack.append((layer, params))
            self.assumptions.extend(notes)
            if not params["return_sequences"]:
                break
            cons = self.consumers(layer.name)
            if len(cons) == 1 and cons[0].cls in ("LSTM", "Bidirectional"):
                layer = cons[0]
                continue
            break
        first = stack[0][1]
        for layer, params in stack:
            for key in ("units", "bidirectional", "activation", "recurrent_activation"):
                if params[key] != first[key]:
                    raise Refusal(layer.name, f"{key} {params[key]!r} differs from the first LSTM's "
                                              f"{first[key]!r}; attnserve's stacked layers share it")
        last_layer, last = stack[-1]
        if not last["return_sequences"] and last["bidirectional"]:
            raise Refusal(last_layer.name,
                          "Bidirectional with return_sequences=False concatenates the backward "
                          "direction's state after the whole sequence; attnserve's query is the "
                          "last row of the sequence output, whose backward half has seen one "
                          "step. Use return_sequences=True and take the last step")
        for k, (layer, params) in enumerate(stack):
            self.tensors.update(kl.lstm_weights(self.weights, layer, params, k))
            self.take(layer.name, f"LSTM layer {k} ({'bidirectional, ' if params['bidirectional'] else ''}"
                                  f"{params['units']} units, {params['recurrent_activation']} "
                                  f"gates, {params['activation']})")
        encoder = {"type": "lstm", "hidden_size": first["units"], "num_layers": len(stack),
                   "bidirectional": first["bidirectional"], "activation": first["activation"],
                   "recurrent_activation": first["recurrent_activation"]}
        d = first["units"] * (2 if first["bidirectional"] else 1)
        return encoder, last_layer.name, d, last["return_sequences"]

    # --- after the LSTM ----------------------------------------------------
    def after_lstm(self, H, steps, d):
        """The temporal block on H: (block, the vector the head reads, its size)."""
        cons = self.consumers(H)
        classes = sorted(c.cls for c in cons)
        if classes == ["Attention"]:
            return self.keras_attention(cons[0], d)
        if "Permute" in classes and "Multiply" in classes and len(cons) == 2:
            block, out = self.attention_3d(H, steps, d, "after_lstm")
            flatten = self.only_consumer(out)
            if flatten.cls != "Flatten":
                raise Refusal(flatten.name, "attention_3d_block after the LSTM is flattened into "
                                            "the head")
            self.take(flatten.name, "flattened into the head")
            self.set_after(block)
            return block, flatten.name, steps * d
        last = [c for c in cons if c.cls == "Lambda"]
        dense = [c for c in cons if c.cls == "Dense"]
        if len(dense) == 1 and dense[0].config["units"] == 1 and not last:
            return self.feedforward(H, dense[0], d)
        if len(dense) == 1 and kl.activation(dense[0]) == "tanh" and \
                self.only_consumer(dense[0].name).cls == "Dense":
            return self.additive(H, dense[0], last, d)
        if len(last) == 1:
            return self.query_scores(H, last[0], dense, steps, d)
        raise Refusal(cons[0].name if cons else H,
                      "after the LSTM: no recipe starts with "
                      f"{', '.join(c.cls for c in cons) or 'nothing'}")

    def set_after(self, block):
        self.after_block = block

    def weights_and_context(self, H, scores_layer, d):
        """From per-step scores [T, 1] (Dense on H): Flatten -> softmax -> context.
        Returns the context's layer name."""
        flatten = self.only_consumer(scores_layer.name)
        if flatten.cls not in ("Flatten", "Reshape"):
            raise Refusal(flatten.name, "expected Flatten of the scores")
        softmax = self.only_consumer(flatten.name)
        if not (softmax.cls == "Activation" and kl.activation(softmax) == "softmax") and \
                softmax.cls != "Softmax":
            raise Refusal(softmax.name, "the scores must go through a softmax over the steps")
        self.take(flatten.name, "scores [T]")
        self.take(softmax.name, "attention weights a = softmax over the steps")
        return self.context(H, softmax.name, d)

    def context(self, H, weights, d):
        """c = sum_t a_t h_t, as Dot(axes=1) or RepeatVector -> Permute -> Multiply ->
        Lambda(sum). Returns the layer computing c."""
        nxt = self.only_consumer(weights)
        if nxt.cls == "Dot":
            axes = nxt.config.get("axes")
            axes = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
            if sorted(nxt.inputs) != sorted([weights, H]) or axes != [1, 1]:
                raise Refusal(nxt.name, "the context is Dot(axes=1) of the weights and the LSTM "
                                        "output")
            self.take(nxt.name, "context c = sum_t a_t h_t")
            return nxt.name
        if nxt.cls != "RepeatVector" or nxt.config["n"] != d:
            raise Refusal(nxt.name, f"expected Dot(axes=1) or RepeatVector({d}) after the "
                                    "attention weights")
        permute = self.only_consumer(nxt.name)
        if permute.cls != "Permute" or tuple(permute.config.get("dims", ())) != (2, 1):
            raise Refusal(permute.name, "expected Permute((2, 1)) after RepeatVector")
        multiply = self.only_consumer(permute.name)
        if multiply.cls != "Multiply" or sorted(multiply.inputs) != sorted([H, permute.name]):
            raise Refusal(multiply.name, "expected the LSTM output multiplied by its weights")
        reduce = self.only_consumer(multiply.name)
        if reduce.cls != "Lambda":
            raise Refusal(reduce.name, "expected a Lambda summing the weighted steps")
        self.lambda_role(reduce, "the sum over the time axis",
                         "its position after the multiply of the steps by their weights")
        for layer, what in ((nxt, "weights repeated per channel"), (permute, "to [T, d]"),
                            (multiply, "steps times their weights"),
                            (reduce, "context c = sum_t a_t h_t")):
            self.take(layer.name, what)
        return reduce.name

    def residual(self, c, H, lambdas, d):
        """c, or c + h_last when Add([c, Lambda(last step)(H)]) follows."""
        cons = self.consumers(c)
        if len(cons) == 1 and cons[0].cls == "Add":
            add = cons[0]
            other = [i for i in add.inputs if i != c]
            if len(other) != 1 or self.graph[other[0]].cls != "Lambda" or \
                    self.graph[other[0]].inputs != [H]:
                raise Refusal(add.name, "adds something other than the last step to the context")
            last = self.graph[other[0]]
            self.lambda_role(last, "the last step x[:, -1, :] of the LSTM output",
                             "its position (LSTM output -> a vector added to the context)")
            self.take(last.name, "h_last (the query q)")
            self.take(add.name, "c + h_last")
            return add.name, True
        return c, False

    def feedforward(self, H, scores, d):
        if kl.activation(scores) != "tanh":
            raise Refusal(scores.name, "feed-forward scores are Dense(1, tanh) (another "
                                       "activation is not served)")
        w, b = kl.dense(self.weights, scores)
        self.take(scores.name, "feed-forward attention scores tanh(w . h_t + b)")
        c = self.weights_and_context(H, scores, d)
        out, residual = self.residual(c, H, [], d)
        if residual:
            raise Refusal(out, "feed-forward attention with + h_last is not served (use the "
                               "additive recipe)")
        block = {"type": "feedforward"}
        self.after_tensors = {"score.weight": w, "score.bias": b}
        self.set_after(block)
        return block, out, d

    def additive(self, H, proj, lambdas, d):
        score = self.only_consumer(proj.name)
        if score.config["units"] != 1 or kl.activation(score) != "linear":
            raise Refusal(score.name, "HAN-style scores are Dense(1) without activation after "
                                      "Dense(A, tanh)")
        w1, b1 = kl.dense(self.weights, proj)
        w2, b2 = kl.dense(self.weights, score)
        self.take(proj.name, f"additive attention W1 (tanh, {proj.config['units']} units)")
        self.take(score.name, "additive attention scores w2 . u_t + b2")
        c = self.weights_and_context(H, score, d)
        out, residual = self.residual(c, H, lambdas, d)
        block = {"type": "additive", "units": int(proj.config["units"]), "residual_last": residual}
        self.after_tensors = {"proj.weight": w1, "proj.bias": b1, "score.weight": w2,
                              "score.bias": b2}
        self.set_after(block)
        return block, out, d

    def query_scores(self, H, last, dense, steps, d):
        """Dot(h_last, [tanh](Dense(h))) scores, optional Dense(T, softmax) mix."""
        self.lambda_role(last, "the last step x[:, -1, :] of the LSTM output",
                         "its position (LSTM output -> the query of a Dot with every step)")
        self.take(last.name, "h_last (the query q)")
        tensors = {}
        if dense:
            proj = dense[0]
            act = kl.activation(proj)
            if proj.config["units"] != d or act not in ("tanh", "linear"):
                raise Refusal(proj.name, f"the projected steps are Dense({d}) with tanh or no "
                                         "activation")
            w, b = kl.dense(self.weights, proj)
            if act == "tanh":
                kind = "general_tanh"
                tensors.update({"proj.weight": w, "proj.bias": b})
            else:
                if proj.config.get("use_bias", True) and np.any(b != 0):
                    raise Refusal(proj.name, "Luong general scores have no bias "
                                             "(use_bias=False)")
                kind = "general"
                tensors["proj.weight"] = w
            self.take(proj.name, f"{kind} projection of every step")
            keys = proj.name
        else:
            kind, keys = "dot", H
        dots = [c for c in self.consumers(last.name) if c.cls == "Dot"]
        others = [c for c in self.consumers(last.name) if c.cls not in ("Dot", "Add")]
        if len(dots) != 1 or others:
            raise Refusal(last.name, "h_last feeds the scores' Dot (and at most an Add with the "
                                     "context)")
        dot = dots[0]
        if sorted(dot.inputs) != sorted([last.name, keys]):
            raise Refusal(dot.name, "expected Dot of h_last with every (projected) step")
        axes = dot.config.get("axes")
        axes = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        want = [1, 2] if dot.inputs[0] == last.name else [2, 1]
        if axes != want:
            raise Refusal(dot.name, f"axes {axes} do not dot h_last with each step")
        self.take(dot.name, f"{kind} scores e_t = q . k_t")
        nxt = self.only_consumer(dot.name)
        block = {"type": kind}
        if nxt.cls == "Dense":
            if kl.activation(nxt) != "softmax" or steps is None or nxt.config["units"] != steps:
                raise Refusal(nxt.name, "a Dense on the scores must be Dense(T, softmax) over a "
                                        "fixed number of steps (score_mix)")
            ws, bs = kl.dense(self.weights, nxt)
            tensors.update({"mix.weight": ws, "mix.bias": bs})
            block.update({"score_mix": True, "window": int(steps)})
            self.take(nxt.name, f"score_mix: e' = Ws^T e + bs over {steps} steps, softmax")
        elif (nxt.cls == "Activation" and kl.activation(nxt) == "softmax") or \
                nxt.cls == "Softmax":
            self.take(nxt.name, "attention weights a = softmax over the steps")
        else:
            raise Refusal(nxt.name, "the scores must go through a softmax")
        c = self.context(H, nxt.name, d)
        out, residual = self.residual_known(c, last.name)
        block["output"] = "context_plus_query" if residual else "context"
        self.after_tensors = tensors
        self.set_after(block)
        return block, out, d

    def residual_known(self, c, last):
        cons = self.consumers(c)
        if len(cons) == 1 and cons[0].cls == "Add" and sorted(cons[0].inputs) == sorted([c, last]):
            self.take(cons[0].name, "c + h_last")
            return cons[0].name, True
        return c, False

    def keras_attention(self, layer, d):
        units = int(layer.config["units"])
        kind, tensors = kl.keras_attention_weights(self.weights, layer, d)
        self.take(layer.name, f"keras-attention Attention(units={units}, "
                              f"score={layer.config.get('score', 'luong')!r}): {kind} scores, "
                              "output tanh(Wc [c; h_t])")
        self.assume(f"layer {layer.name!r}: class 'Attention' with units and score is "
                    "keras-attention's layer (h_t = the last step)")
        block = {"type": kind, "output": "luong", "units": units}
        self.after_tensors = tensors
        self.set_after(block)
        return block, layer.name, units

    # --- the head ----------------------------------------------------------
    def head(self, vector, size):
        """Dense layers with an optional gate, then the output layer."""
        hidden, gate_after, layers = [], None, []
        cursor, n = vector, size
        while True:
            cons = self.consumers(cursor)
            if cursor == self.graph.output and not cons:
                break
            if len(cons) == 2 and sorted(c.cls for c in cons) == ["Dense", "Multiply"]:
                g = next(c for c in cons if c.cls == "Dense")
                mul = next(c for c in cons if c.cls == "Multiply")
                if kl.activation(g) != "sigmoid" or g.config["units"] != n or \
                        sorted(mul.inputs) != sorted([cursor, g.name]) or gate_after is not None:
                    raise Refusal(g.name, f"a gate is Dense({n}, sigmoid) multiplied with its "
                                          "input")
                wg, bg = kl.dense(self.weights, g)
                self.tensors["head.gate.weight"], self.tensors["head.gate.bias"] = wg, bg
                gate_after = len(layers)
                self.take(g.name, f"the gate g = sigmoid(Wg v + bg) ([{n}], the map \"gate\")")
                self.take(mul.name, "v * g")
                cursor = mul.name
                continue
            if len(cons) != 1:
                raise Refusal(cursor, f"its output feeds {len(cons)} layers; the head is a chain")
            layer = cons[0]
            if layer.cls == "Activation" and layers and layer.name and \
                    self.graph.output == layer.name:
                act = kl.activation(layer)
                if layers[-1][1] != "linear":
                    raise Refusal(layer.name, "an activation after an activated output layer")
                layers[-1] = (layers[-1][0], act)
                self.take(layer.name, f"output activation {act}")
                cursor = layer.name
                continue
            if layer.cls != "Dense":
                raise Refusal(layer.name, f"the head takes Dense layers, not {layer.cls}")
            layers.append((layer, kl.activation(layer)))
            n = layer.config["units"]
            cursor = layer.name
        if not layers:
            raise Refusal(vector, "the model has no output Dense layer")
        for j, (layer, act) in enumerate(layers):
            last = j + 1 == len(layers)
            if not last and act != "relu":
                raise Refusal(layer.name, f"hidden Dense layers of the head use relu (this one "
                                          f"{act})")
            if last and act not in ("softmax", "sigmoid", "linear"):
                raise Refusal(layer.name, f"the output activation {act!r} is not served "
                                          "(softmax, sigmoid, linear)")
            w, b = kl.dense(self.weights, layer)
            self.tensors[f"head.layers.{j}.weight"], self.tensors[f"head.layers.{j}.bias"] = w, b
            self.take(layer.name, f"head {'output' if last else 'hidden'} layer "
                                  f"({layer.config['units']} units, {act})")
        out = layers[-1]
        if out[1] == "softmax" and out[0].config["units"] < 2:
            raise Refusal(out[0].name, "softmax over one output")
        head = {"hidden": [int(l.config["units"]) for l, _ in layers[:-1]], "output": out[1]}
        if gate_after is not None:
            head["gate"] = True
            if gate_after:
                head["gate_after"] = gate_after
        self.num_outputs = int(out[0].config["units"])
        return head


def match(model):
    m = _Matcher(model)
    m.after_tensors, m.after_block = None, None
    spec = m.run()
    # The block after the LSTM is the last one of the attention array.
    if m.after_tensors is not None:
        index = len(spec.spec.get("attention", [])) - 1
        for name, value in m.after_tensors.items():
            spec.tensors[f"attention.{index}.{name}"] = np.asarray(value, np.float32)
    spec.num_outputs = m.num_outputs
    return spec
