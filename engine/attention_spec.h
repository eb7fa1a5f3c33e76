// AttentionSpec: one block of model.json's "attention" array (the catalog in
// docs/attention.md), and the names of its kinds and options.
//
// A block runs either before the LSTM (feature attention; time_dense with
// placement before_lstm) or after it (the temporal blocks, which weigh the
// encoder's steps and reduce them to one vector; time_dense after_lstm, whose
// output is flattened). ParseModelSpec guarantees a spec's blocks form one of
// the combinations the catalog allows, listed in pipeline order: at most one
// block before the LSTM, then at most one after it, and at most one time_dense.
// Ownership: plain values. Thread-safety: immutable after parsing.
#ifndef ATTNSERVE_ENGINE_ATTENTION_SPEC_H_
#define ATTNSERVE_ENGINE_ATTENTION_SPEC_H_

namespace attnserve::engine {

enum class AttentionKind {
  kFeedForward,  // temporal: e_t = tanh(w . h_t + b)
  kAdditive,     // temporal: e_t = w2 . tanh(W1 h_t + b1) + b2
  kDot,          // temporal, query-based: e_t = q . h_t
  kGeneral,      // temporal, query-based: e_t = q . (W h_t)
  kGeneralTanh,  // temporal, query-based: e_t = q . tanh(W h_t + b)
  kCosine,       // temporal, query-based: cosine similarity of q and h_t
  kBahdanau,     // temporal, query-based: e_t = v . tanh(W1 q + W2 h_t)
  kTimeDense,    // fixed window: softmax over t of Wt^T Z[:, j] + bt, per channel
  kFeature,      // before the LSTM: softmax over features of Wf x_t + bf
};

// Output modes of the query-based blocks.
enum class QueryOutput {
  kContext,           // c
  kContextPlusQuery,  // c + q
  kLuong,             // tanh(Wc [c; q]), Wc: [units, 2d]
};

enum class Placement { kBeforeLstm, kAfterLstm };

// time_dense: where a shorter sequence's padding goes, and which steps a
// longer one keeps (kNone: a longer sequence is refused).
enum class PadSide { kPre, kPost };
enum class Truncation { kNone, kPre, kPost };

struct AttentionSpec {
  AttentionKind kind = AttentionKind::kFeedForward;
  int units = 0;                  // additive: W1 rows; output luong: Wc rows
  int attention_size = 0;         // bahdanau: A, rows of W1 and W2 (0: d)
  bool score_mix = false;         // query-based: e' = Ws^T e + bs over a fixed window
  bool residual_last = false;     // additive: output c + q
  QueryOutput output = QueryOutput::kContext;  // query-based
  bool exclude_query_step = false;             // query-based: score only t < l-1
  int window = 0;                 // time_dense, score_mix: T
  Placement placement = Placement::kAfterLstm;  // time_dense (feature: always before)
  bool single_vector = false;     // time_dense, feature: one weight vector
  PadSide pad = PadSide::kPre;    // time_dense, score_mix
  float pad_value = 0.0f;         // time_dense, score_mix (a token id with an embedding)
  Truncation truncate = Truncation::kNone;  // time_dense, score_mix

  // True for feature attention and time_dense before_lstm.
  bool before_lstm() const {
    return kind == AttentionKind::kFeature ||
           (kind == AttentionKind::kTimeDense && placement == Placement::kBeforeLstm);
  }
};

// True for the kinds with a query q (dot, general, general_tanh, cosine, bahdanau).
bool IsQueryBased(AttentionKind kind);
// True for the kinds that weigh the encoder's steps and reduce them to a vector.
bool IsTemporal(AttentionKind kind);

const char* AttentionKindName(AttentionKind kind);
const char* QueryOutputName(QueryOutput output);
const char* PlacementName(Placement placement);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_SPEC_H_
