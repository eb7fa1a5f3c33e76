"""PyTorch reference modules: the numbers the attnserve engine must reproduce.

Contract (docs/model-format.md, shared/attention-catalog.md):
- Inputs are right-padded batches x [B, T, D] with valid lengths [B] (1 <= l <= T).
  Padding never changes a result: a padded batch equals each sequence run alone.
- LstmEncoder IS an nn.LSTM(batch_first=True) (a subclass, so its parameters keep
  nn.LSTM's names), run on packed sequences so the backward direction starts at
  each sequence's own last valid step. Returns H [B, T, d] (rows t >= l are zero)
  and the query q = H[b, l_b - 1].
- Attention blocks return (vector [B, d], weights a [B, T]); a is a softmax over
  the valid steps only (scores at t >= l are -inf), so a is zero beyond l.
- Head: nn.Linear layers with relu between them and none after the last, then
  softmax, sigmoid or identity.
- Classifier(spec) composes `encoder`, `attention` (ModuleList), `head`, so that
  state_dict() names are exactly the tensor names of the model format.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .spec import normalize_spec


def valid_mask(lengths, max_length):
    """[B, T] bool mask, True at valid steps t < l_b."""
    steps = torch.arange(max_length, device=lengths.device)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)


def masked_softmax(scores, mask):
    """Softmax over dim 1 of `scores` [B, T], restricted to `mask`; zero elsewhere."""
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)


class LstmEncoder(nn.LSTM):
    """nn.LSTM(batch_first=True) whose forward takes (x, lengths) -> (H, q)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False):
        super().__init__(input_size, hidden_size, num_layers=num_layers,
                         batch_first=True, bidirectional=bidirectional)

    @property
    def output_size(self):
        return self.hidden_size * (2 if self.bidirectional else 1)

    def forward(self, x, lengths):
        lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()
        batch, steps = x.shape[0], x.shape[1]
        if lengths.shape != (batch,) or lengths.min() < 1 or lengths.max() > steps:
            raise ValueError(f"lengths {lengths.tolist()} do not fit x of shape {tuple(x.shape)}")
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = super().forward(packed)
        H, _ = pad_packed_sequence(out, batch_first=True, total_length=steps)
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


class Head(nn.Module):
    """Dense layers (relu between, none after the last) and the output activation."""

    def __init__(self, in_size, hidden, num_outputs, output):
        super().__init__()
        sizes = [in_size] + list(hidden) + [num_outputs]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = output

    def forward(self, v, apply_output=True):
        for j, layer in enumerate(self.layers):
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


def make_attention(block, d):
    if block["type"] == "feedforward":
        return FeedForwardAttention(d)
    return AdditiveAttention(d, block["units"], block["residual_last"])


class Classifier(nn.Module):
    """The model of one model.json: encoder -> attention (0 or 1 block) -> head."""

    def __init__(self, spec):
        super().__init__()
        self.spec = normalize_spec(spec)
        enc = self.spec["encoder"]
        self.encoder = LstmEncoder(self.spec["input"]["size"], enc["hidden_size"],
                                   enc["num_layers"], enc["bidirectional"])
        d = self.encoder.output_size
        self.attention = nn.ModuleList(make_attention(b, d) for b in self.spec["attention"])
        self.head = Head(d, self.spec["head"]["hidden"], len(self.spec["labels"]),
                         self.spec["head"]["output"])

    def forward(self, x, lengths, apply_output=True):
        """x [B, T, D], lengths [B] -> (outputs [B, C], attention [B, T] or None).

        apply_output=False returns the last layer's raw values (logits, for training).
        """
        lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()
        H, q = self.encoder(x, lengths)
        v, weights = q, None
        mask = valid_mask(lengths, x.shape[1])
        for block in self.attention:
            v, weights = block(H, q, mask)
        return self.head(v, apply_output), weights
