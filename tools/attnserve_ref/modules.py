"""PyTorch reference modules: the numbers the attnserve engine must reproduce.

Contract (docs/model-format.md, docs/attention.md):
- Inputs are right-padded batches x [B, T, D] with valid lengths [B] (1 <= l <= T).
  Padding never changes a result: a padded batch equals each sequence run alone.
- LstmEncoder IS an nn.LSTM(batch_first=True) (a subclass, so its parameters keep
  nn.LSTM's names), run on packed sequences so the backward direction starts at
  each sequence's own last valid step. Returns H [B, T, d] (rows t >= l are zero)
  and the query q = H[b, l_b - 1]. With other activations than nn.LSTM's
  (recurrent_activation hard_sigmoid = clip(0.2 x + 0.5, 0, 1) or
  hard_sigmoid_keras3 = relu6(x + 3) / 6; activation relu or linear, applied to
  the candidate and to the cell state as Keras does) it runs the same weights
  step by step, each sequence's state frozen past its length and the backward
  direction over each sequence reversed within its length.
- Temporal blocks (after the LSTM) return (vector [B, out], weights a [B, T]); a
  is a softmax over the valid steps only (scores at t >= l are -inf), so a is
  zero beyond l. The query-based ones take an output mode and exclude_query_step.
- TimeDenseAttention (attention_3d_block) works on a fixed window: Classifier
  pads or truncates every sequence to it first, as the model was trained.
- FeatureAttention reweighs the LSTM's input per feature.
- Head: optional gate v * sigmoid(Wg v + bg), then nn.Linear layers with relu
  between them and none after the last, then softmax, sigmoid or identity.
- Classifier(spec) composes `encoder`, `attention` (ModuleList, one module per
  model.json block), `head`, so that state_dict() names are exactly the tensor
  names of the model format. Its forward returns (outputs, {name: weights}) with
  one named map per block ("feature", "time", "temporal").
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .spec import (QUERY_TYPES, before_lstm, gate_size, head_input_size, input_size,
                   normalize_spec, window_block)

COSINE_EPS = 1e-8


def valid_mask(lengths, max_length):
    """[B, T] bool mask, True at valid steps t < l_b."""
    steps = torch.arange(max_length, device=lengths.device)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)


def masked_softmax(scores, mask):
    """Softmax over dim 1 of `scores` [B, T], restricted to `mask`; zero elsewhere."""
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)


RECURRENT_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": lambda z: torch.clamp(0.2 * z + 0.5, 0.0, 1.0),  # Keras 2
    "hard_sigmoid_keras3": lambda z: torch.clamp(z + 3.0, 0.0, 6.0) / 6.0,  # relu6(z + 3) / 6
}
CELL_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda z: z}


def reverse_within_length(x, lengths):
    """x [B, T, k] with each sequence's first l_b steps reversed; steps t >= l_b kept."""
    steps = torch.arange(x.shape[1]).unsqueeze(0)
    last = (lengths - 1).unsqueeze(1)
    index = torch.where(steps <= last, last - steps, steps)
    return x.gather(1, index.unsqueeze(2).expand(-1, -1, x.shape[2]))


class LstmEncoder(nn.LSTM):
    """nn.LSTM(batch_first=True) whose forward takes (x, lengths) -> (H, q)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False,
                 recurrent_activation="sigmoid", activation="tanh"):
        super().__init__(input_size, hidden_size, num_layers=num_layers,
                         batch_first=True, bidirectional=bidirectional)
        self.recurrent_activation = recurrent_activation
        self.activation = activation

    def _steps(self, x, lengths):
        """The stack step by step with the configured activations: H [B, T, d], zero past l."""
        gate = RECURRENT_ACTIVATIONS[self.recurrent_activation]
        cell = CELL_ACTIVATIONS[self.activation]
        batch, steps = x.shape[0], x.shape[1]
        valid = valid_mask(lengths, steps).unsqueeze(2)  # [B, T, 1]
        seq = x
        for k in range(self.num_layers):
            outputs = []
            for direction in range(2 if self.bidirectional else 1):
                suffix = f"_l{k}" + ("_reverse" if direction else "")
                w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
                bias = getattr(self, "bias_ih" + suffix) + getattr(self, "bias_hh" + suffix)
                inp = reverse_within_length(seq, lengths) if direction else seq
                h = x.new_zeros(batch, self.hidden_size)
                c = x.new_zeros(batch, self.hidden_size)
                out = []
                for t in range(steps):
                    i, f, g, o = (inp[:, t] @ w_ih.T + h @ w_hh.T + bias).chunk(4, dim=1)
                    c_t = gate(f) * c + gate(i) * cell(g)
                    h_t = gate(o) * cell(c_t)
                    c = torch.where(valid[:, t], c_t, c)
                    h = torch.where(valid[:, t], h_t, h)
                    out.append(torch.where(valid[:, t], h_t, torch.zeros_like(h_t)))
                out = torch.stack(out, dim=1)
                outputs.append(reverse_within_length(out, lengths) if direction else out)
            seq = torch.cat(outputs, dim=2)
        return seq

    @property
    def output_size(self):
        return self.hidden_size * (2 if self.bidirectional else 1)

    def forward(self, x, lengths):
        lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()
        batch, steps = x.shape[0], x.shape[1]
        if lengths.shape != (batch,) or lengths.min() < 1 or lengths.max() > steps:
            raise ValueError(f"lengths {lengths.tolist()} do not fit x of shape {tuple(x.shape)}")
        if self.recurrent_activation == "sigmoid" and self.activation == "tanh":
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, _ = super().forward(packed)
            H, _ = pad_packed_sequence(out, batch_first=True, total_length=steps)
        else:
            H = self._steps(x, lengths)
        q = H[torch.arange(batch), lengths - 1]
        return H, q


class FeedForwardAttention(nn.Module):
    """Raffel & Ellis: e_t = tanh(w . h_t + b); output c = sum_t a_t h_t."""

    def __init__(self, d):
        super().__init__()
        self.score = nn.Linear(d, 1)

    def forward(self, H, q, mask):
        e = torch.tanh(self.score(H)).squeeze(-1)
        a = masked_softmax(e, mask)
        return torch.bmm(a.unsqueeze(1), H).squeeze(1), a


class AdditiveAttention(nn.Module):
    """HAN-style: e_t = w2 . tanh(W1 h_t + b1) + b2; output c, or c + q."""

    def __init__(self, d, units, residual_last=False):
        super().__init__()
        self.proj = nn.Linear(d, units)
        self.score = nn.Linear(units, 1)
        self.residual_last = residual_last

    def forward(self, H, q, mask):
        e = self.score(torch.tanh(self.proj(H))).squeeze(-1)
        a = masked_softmax(e, mask)
        c = torch.bmm(a.unsqueeze(1), H).squeeze(1)
        return (c + q if self.residual_last else c), a


class QueryAttention(nn.Module):
    """Scores against the query q = h_{l-1}: dot, general, general_tanh, cosine, bahdanau.

    Output modes: context (c), context_plus_query (c + q), luong (tanh(Wc [c; q])).
    exclude_query_step scores only t < l-1 (the query step's weight is 0); with l = 1
    nothing is attended to and c = 0.
    """

    def __init__(self, kind, d, output="context", units=None, exclude_query_step=False,
                 attention_size=None, mix_window=None):
        super().__init__()
        self.kind, self.output, self.exclude = kind, output, exclude_query_step
        if kind in ("general", "general_tanh"):
            self.proj = nn.Linear(d, d, bias=kind == "general_tanh")
        elif kind == "bahdanau":
            a = attention_size or d
            self.query_proj = nn.Linear(d, a, bias=False)
            self.proj = nn.Linear(d, a, bias=False)
            self.score = nn.Linear(a, 1, bias=False)
        if mix_window is not None:
            # score_mix: e' = Ws^T e + bs over the whole window (Keras Dense(T) on the scores)
            self.mix = nn.Linear(mix_window, mix_window)
        if output == "luong":
            self.combine = nn.Linear(2 * d, units, bias=False)

    def scores(self, H, q):
        if self.kind == "dot":
            return (H * q.unsqueeze(1)).sum(-1)
        if self.kind == "general":
            return (self.proj(H) * q.unsqueeze(1)).sum(-1)
        if self.kind == "general_tanh":
            return (torch.tanh(self.proj(H)) * q.unsqueeze(1)).sum(-1)
        if self.kind == "cosine":
            dots = (H * q.unsqueeze(1)).sum(-1)
            q_norm = q.norm(dim=-1).clamp_min(COSINE_EPS).unsqueeze(1)
            return dots / (q_norm * H.norm(dim=-1).clamp_min(COSINE_EPS))
        hidden = torch.tanh(self.query_proj(q).unsqueeze(1) + self.proj(H))
        return self.score(hidden).squeeze(-1)

    def forward(self, H, q, mask):
        if self.exclude:
            lengths = mask.sum(1, keepdim=True)
            mask = mask & (torch.arange(H.shape[1]).unsqueeze(0) < lengths - 1)
        e = self.scores(H, q)
        if hasattr(self, "mix"):
            e = self.mix(e)
        a = masked_softmax(e, mask)
        a = torch.where(mask.any(1, keepdim=True), a, torch.zeros_like(a))  # l = 1, excluded
        c = torch.bmm(a.unsqueeze(1), H).squeeze(1)
        if self.output == "context_plus_query":
            return c + q, a
        if self.output == "luong":
            return torch.tanh(self.combine(torch.cat([c, q], dim=-1))), a
        return c, a


class TimeDenseAttention(nn.Module):
    """attention_3d_block on Z [B, T, k] (all T steps valid).

    A[:, :, j] = softmax over t of (score(Z[:, :, j])), score = nn.Linear(T, T) (Keras
    Dense(T, softmax) after a permute); single_vector averages A over the channels.
    Returns (Z * A [B, T, k], weights [B, T, k] or [B, T]).
    """

    def __init__(self, window, single_vector=False):
        super().__init__()
        self.score = nn.Linear(window, window)
        self.single_vector = single_vector

    def forward(self, Z):
        A = torch.softmax(self.score(Z.transpose(1, 2)), dim=-1).transpose(1, 2)
        if self.single_vector:
            a = A.mean(dim=2)
            return Z * a.unsqueeze(-1), a
        return Z * A, A


class FeatureAttention(nn.Module):
    """b_t = softmax over features of (Wf x_t + bf); the LSTM reads x_t * b_t.

    single_vector: b = mean over the valid t of b_t, one weight per feature.
    Returns (x reweighed [B, T, D], weights [B, T, D] zero beyond l, or [B, D]).
    """

    def __init__(self, features, single_vector=False):
        super().__init__()
        self.score = nn.Linear(features, features)
        self.single_vector = single_vector

    def forward(self, x, mask):
        b = torch.softmax(self.score(x), dim=-1)
        valid = mask.unsqueeze(-1).to(b.dtype)
        if self.single_vector:
            mean = (b * valid).sum(1) / valid.sum(1)
            return x * mean.unsqueeze(1), mean
        return x * b, b * valid


class Head(nn.Module):
    """Dense layers (relu between, none after the last), output activation, and an
    optional gate v * sigmoid(Wg v + bg) after `gate_after` of the dense layers.

    forward returns the outputs; the gate's weights [B, n] are kept in `gate_weights`.
    """

    def __init__(self, in_size, hidden, num_outputs, output, gate=False, gate_after=0):
        super().__init__()
        sizes = [in_size] + list(hidden) + [num_outputs]
        if gate:
            self.gate = nn.Linear(sizes[gate_after], sizes[gate_after])
        self.gate_after = gate_after
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = output
        self.gate_weights = None

    def forward(self, v, apply_output=True):
        self.gate_weights = None
        for j, layer in enumerate(self.layers):
            if hasattr(self, "gate") and j == self.gate_after:
                self.gate_weights = torch.sigmoid(self.gate(v))
                v = v * self.gate_weights
            v = layer(v)
            if j + 1 < len(self.layers):
                v = torch.relu(v)
        if not apply_output:
            return v
        if self.output == "softmax":
            return torch.softmax(v, dim=-1)
        if self.output == "sigmoid":
            return torch.sigmoid(v)
        return v


def make_attention(block, spec):
    """The module of one (normalized) model.json attention block."""
    enc = spec["encoder"]
    d = enc["hidden_size"] * (2 if enc["bidirectional"] else 1)
    kind = block["type"]
    if kind == "feedforward":
        return FeedForwardAttention(d)
    if kind == "additive":
        return AdditiveAttention(d, block["units"], block["residual_last"])
    if kind in QUERY_TYPES:
        return QueryAttention(kind, d, block["output"], block.get("units"),
                              block["exclude_query_step"], block.get("attention_size"),
                              block["window"] if block["score_mix"] else None)
    if kind == "time_dense":
        return TimeDenseAttention(block["window"], block["single_vector"])
    return FeatureAttention(input_size(spec), block["single_vector"])


def apply_window(x, lengths, block):
    """Pads or truncates each sequence to the window as the model was trained.

    x [B, T, D] right-padded with valid lengths [B] -> [B, window, D]: shorter
    sequences padded with pad_value before (pre) or after (post) their steps; longer
    ones keep their last (truncate pre) or first (truncate post) window steps.
    Token ids x [B, T] are padded with the id pad_value.
    """
    window, rows = block["window"], []
    for b, length in enumerate(lengths.tolist()):
        seq = x[b, :length]
        if length > window:
            if "truncate" not in block:
                raise ValueError(f"sequence {b} has {length} steps; the window is {window}")
            seq = seq[length - window:] if block["truncate"] == "pre" else seq[:window]
        fill = seq.new_full((window - seq.shape[0],) + tuple(x.shape[2:]),
                            block["pad_value"] if x.dim() == 2 else float(block["pad_value"]))
        rows.append(torch.cat([fill, seq] if block["pad"] == "pre" else [seq, fill]))
    return torch.stack(rows), torch.full_like(lengths, window)


def map_name(block):
    return {"feature": "feature", "time_dense": "time"}.get(block["type"], "temporal")


class Classifier(nn.Module):
    """The model of one model.json: [embedding] -> [block before the LSTM] -> encoder ->
    [block after it] -> head. Without an encoder: one step of input.size values -> head."""

    def __init__(self, spec):
        super().__init__()
        self.spec = normalize_spec(spec)
        emb = self.spec["input"].get("embedding")
        if emb is not None:
            self.embedding = nn.Embedding(emb["vocab"], emb["dim"])
        enc = self.spec.get("encoder")
        if enc is not None:
            self.encoder = LstmEncoder(input_size(self.spec), enc["hidden_size"],
                                       enc["num_layers"], enc["bidirectional"],
                                       enc["recurrent_activation"], enc["activation"])
        self.attention = nn.ModuleList(make_attention(b, self.spec)
                                       for b in self.spec["attention"])
        head = self.spec["head"]
        self.head = Head(head_input_size(self.spec), head["hidden"], len(self.spec["labels"]),
                         head["output"], head["gate"], head.get("gate_after", 0))

    def forward(self, x, lengths, apply_output=True):
        """x [B, T, D] (token ids [B, T] with an embedding), lengths [B] ->
        (outputs [B, C], {map name: attention weights}).

        The maps follow model.json's block order: "feature" [B, T, D] or [B, D],
        "time" [B, W, k] or [B, W], "temporal" [B, T] (T = the window with one),
        zero beyond each length; then "gate" [B, n] with a head gate.
        apply_output=False returns the last layer's raw values (logits, for training).
        """
        lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()
        window = window_block(self.spec)
        if window is not None:
            x, lengths = apply_window(x, lengths, window)
        if hasattr(self, "embedding"):
            x = self.embedding(x)
        maps, v = {}, None
        if not hasattr(self, "encoder"):
            if int(lengths.min()) != 1 or int(lengths.max()) != 1:
                raise ValueError("a model without an encoder reads exactly one step")
            v = x[:, 0, :]
        else:
            mask = valid_mask(lengths, x.shape[1])
            blocks = list(zip(self.spec["attention"], self.attention))
            for block, module in blocks:
                if before_lstm(block):
                    x, maps[map_name(block)] = module(x, mask) if block["type"] == "feature" \
                        else module(x)
            H, q = self.encoder(x, lengths)
            v = q
            for block, module in blocks:
                if before_lstm(block):
                    continue
                if block["type"] == "time_dense":
                    out, maps["time"] = module(H)
                    v = out.flatten(1)
                else:
                    v, maps["temporal"] = module(H, q, mask)
        out = self.head(v, apply_output)
        if self.head.gate_weights is not None:
            maps["gate"] = self.head.gate_weights
        return out, maps
