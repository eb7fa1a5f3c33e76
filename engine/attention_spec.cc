// The "attention" array of model.json: each block's options, which kinds take
// which option, the combination rules of the catalog, and the block tensors.
//
// Contract: see attention_spec.h, attention_spec_parser.h and
// docs/model-format.md. Every error names its field:
// "model.json: attention[1].exclude_query_step: ...". Thread-safety: no
// shared mutable state.
#include "engine/attention_spec.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/attention_spec_parser.h"

namespace attnserve::engine {
namespace {

using json_fields::CheckKeys;
using json_fields::FieldError;
using json_fields::Index;
using json_fields::Join;
using json_fields::Json;
using json_fields::kMaxSize;
using json_fields::Need;
using json_fields::Quoted;

constexpr std::pair<AttentionKind, const char*> kKinds[] = {
    {AttentionKind::kFeedForward, "feedforward"},
    {AttentionKind::kAdditive, "additive"},
    {AttentionKind::kDot, "dot"},
    {AttentionKind::kGeneral, "general"},
    {AttentionKind::kGeneralTanh, "general_tanh"},
    {AttentionKind::kCosine, "cosine"},
    {AttentionKind::kBahdanau, "bahdanau"},
    {AttentionKind::kTimeDense, "time_dense"},
    {AttentionKind::kFeature, "feature"},
};
constexpr std::pair<QueryOutput, const char*> kQueryOutputs[] = {
    {QueryOutput::kContext, "context"},
    {QueryOutput::kContextPlusQuery, "context_plus_query"},
    {QueryOutput::kLuong, "luong"},
};
constexpr std::pair<Placement, const char*> kPlacements[] = {
    {Placement::kBeforeLstm, "before_lstm"},
    {Placement::kAfterLstm, "after_lstm"},
};
constexpr std::pair<PadSide, const char*> kPadSides[] = {
    {PadSide::kPre, "pre"},
    {PadSide::kPost, "post"},
};
constexpr std::pair<Truncation, const char*> kTruncations[] = {
    {Truncation::kPre, "pre"},
    {Truncation::kPost, "post"},
};

constexpr char kQueryKinds[] = "dot, general, general_tanh, cosine, bahdanau";

// Every option, and the kinds that take it (for the refusal message).
struct Option {
  const char* key;
  const char* taken_by;
  bool (*takes)(AttentionKind);
};
bool TakesWindow(AttentionKind k) { return k == AttentionKind::kTimeDense || IsQueryBased(k); }

const Option kOptions[] = {
    {"units", "additive, and the query-based types (dot, general, general_tanh, cosine, "
              "bahdanau) with output \"luong\"",
     [](AttentionKind k) { return k == AttentionKind::kAdditive || IsQueryBased(k); }},
    {"residual_last", "additive", [](AttentionKind k) { return k == AttentionKind::kAdditive; }},
    {"output", kQueryKinds, IsQueryBased},
    {"exclude_query_step", kQueryKinds, IsQueryBased},
    {"attention_size", "bahdanau", [](AttentionKind k) { return k == AttentionKind::kBahdanau; }},
    {"score_mix", kQueryKinds, IsQueryBased},
    {"window", "time_dense, and the query-based types with score_mix", TakesWindow},
    {"placement", "time_dense", [](AttentionKind k) { return k == AttentionKind::kTimeDense; }},
    {"single_vector", "time_dense, feature",
     [](AttentionKind k) { return k == AttentionKind::kTimeDense || k == AttentionKind::kFeature; }},
    {"pad", "time_dense, and the query-based types with score_mix", TakesWindow},
    {"pad_value", "time_dense, and the query-based types with score_mix", TakesWindow},
    {"truncate", "time_dense, and the query-based types with score_mix", TakesWindow},
};

// Refuses keys that are not options of this kind: an option of another kind
// is named as such, anything else is an unknown field.
absl::Status CheckOptions(const Json& block, const std::string& path, AttentionKind kind) {
  std::vector<std::string> allowed = {"type"};
  for (const Option& option : kOptions) {
    if (option.takes(kind)) allowed.push_back(option.key);
  }
  for (const auto& item : block.items()) {
    if (item.key() == "type") continue;
    bool known = false;
    for (const Option& option : kOptions) {
      if (item.key() != option.key) continue;
      known = true;
      if (!option.takes(kind)) {
        return FieldError(Join(path, item.key()),
                          absl::StrCat(Quoted(AttentionKindName(kind)),
                                       " attention does not take this option (only ",
                                       option.taken_by, ")"));
      }
    }
    if (!known) {
      return FieldError(Join(path, item.key()),
                        absl::StrCat("unknown field (allowed here: ",
                                     absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

// window, pad, pad_value, truncate: time_dense's, and score_mix's.
absl::Status ParseWindowOptions(const Json& block, const std::string& path, AttentionSpec* spec) {
  if (absl::Status s =
          json_fields::ReadInt(block, path, "window", Need::kRequired, 1, kMaxSize, &spec->window);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          json_fields::ReadChoice(block, path, "pad", Need::kOptional, kPadSides, &spec->pad);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          json_fields::ReadFloat(block, path, "pad_value", Need::kOptional, &spec->pad_value);
      !s.ok()) {
    return s;
  }
  return json_fields::ReadChoice(block, path, "truncate", Need::kOptional, kTruncations,
                                 &spec->truncate);
}

absl::Status ParseQueryOptions(const Json& block, const std::string& path, AttentionSpec* spec) {
  if (absl::Status s = json_fields::ReadChoice(block, path, "output", Need::kOptional,
                                               kQueryOutputs, &spec->output);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          json_fields::ReadBool(block, path, "exclude_query_step", &spec->exclude_query_step);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = json_fields::ReadInt(block, path, "attention_size", Need::kOptional, 1,
                                            kMaxSize, &spec->attention_size);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = json_fields::ReadBool(block, path, "score_mix", &spec->score_mix);
      !s.ok()) {
    return s;
  }
  if (spec->score_mix) {
    if (spec->exclude_query_step) {
      return FieldError(Join(path, "exclude_query_step"),
                        "cannot be combined with score_mix (the mixed scores cover the whole "
                        "window)");
    }
    if (absl::Status s = ParseWindowOptions(block, path, spec); !s.ok()) return s;
  } else {
    for (const char* key : {"window", "pad", "pad_value", "truncate"}) {
      if (block.contains(key)) {
        return FieldError(Join(path, key),
                          "only time_dense, and a query-based block with score_mix true, take "
                          "a window");
      }
    }
  }
  if (spec->output != QueryOutput::kLuong) {
    if (block.contains("units")) {
      return FieldError(Join(path, "units"),
                        absl::StrCat("only the \"luong\" output takes units (output is ",
                                     Quoted(QueryOutputName(spec->output)), ")"));
    }
    return absl::OkStatus();
  }
  return json_fields::ReadInt(block, path, "units", Need::kRequired, 1, kMaxSize, &spec->units);
}

absl::Status ParseTimeDenseOptions(const Json& block, const std::string& path,
                                   AttentionSpec* spec) {
  if (absl::Status s = json_fields::ReadChoice(block, path, "placement", Need::kRequired,
                                               kPlacements, &spec->placement);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = json_fields::ReadBool(block, path, "single_vector", &spec->single_vector);
      !s.ok()) {
    return s;
  }
  return ParseWindowOptions(block, path, spec);
}

absl::Status ParseBlock(const Json& block, const std::string& path, AttentionSpec* spec) {
  if (!block.is_object()) {
    return FieldError(path, absl::StrCat("must be an object, got ", json_fields::Describe(block)));
  }
  if (absl::Status s =
          json_fields::ReadChoice(block, path, "type", Need::kRequired, kKinds, &spec->kind);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckOptions(block, path, spec->kind); !s.ok()) return s;
  switch (spec->kind) {
    case AttentionKind::kFeedForward:
      return absl::OkStatus();
    case AttentionKind::kAdditive:
      if (absl::Status s = json_fields::ReadInt(block, path, "units", Need::kRequired, 1, kMaxSize,
                                                &spec->units);
          !s.ok()) {
        return s;
      }
      return json_fields::ReadBool(block, path, "residual_last", &spec->residual_last);
    case AttentionKind::kTimeDense:
      return ParseTimeDenseOptions(block, path, spec);
    case AttentionKind::kFeature:
      return json_fields::ReadBool(block, path, "single_vector", &spec->single_vector);
    default:
      return ParseQueryOptions(block, path, spec);
  }
}

// The catalog's combinations: at most one block before the LSTM and one after
// it, listed in that order; at most one time_dense; refused: feature +
// time_dense both before the LSTM, time_dense after the LSTM + a temporal block.
absl::Status CheckCombination(const std::vector<AttentionSpec>& blocks) {
  int before = -1;
  int after = -1;
  int time_dense = -1;
  for (int i = 0; i < static_cast<int>(blocks.size()); ++i) {
    const AttentionSpec& block = blocks[i];
    const std::string path = Index("attention", i);
    if (block.kind == AttentionKind::kTimeDense || block.score_mix) {
      if (time_dense >= 0) {
        const bool both_time_dense = block.kind == AttentionKind::kTimeDense &&
                                     blocks[time_dense].kind == AttentionKind::kTimeDense;
        return FieldError(path, absl::StrCat(both_time_dense
                                                 ? "a model takes at most one time_dense block ("
                                                 : "a model takes at most one block with a "
                                                   "window (time_dense or score_mix; ",
                                             Index("attention", time_dense), " is one)"));
      }
      time_dense = i;
    }
    if (block.before_lstm()) {
      if (before >= 0) {
        const bool mixed = blocks[before].kind != block.kind;
        return FieldError(
            path, mixed ? "feature attention and time_dense with placement \"before_lstm\" cannot "
                          "be combined: both run before the LSTM and their order is undefined"
                        : absl::StrCat("a model takes at most one feature attention block (",
                                       Index("attention", before), " is one)"));
      }
      if (after >= 0) {
        return FieldError(path, absl::StrCat("runs before the LSTM, so it must be listed before ",
                                             Index("attention", after),
                                             " (blocks are listed in the order they run)"));
      }
      before = i;
      continue;
    }
    if (after >= 0) {
      const bool flattened = blocks[after].kind == AttentionKind::kTimeDense ||
                             block.kind == AttentionKind::kTimeDense;
      return FieldError(
          path, flattened
                    ? "time_dense after the LSTM cannot be combined with a temporal block: its "
                      "output is flattened into the head"
                    : absl::StrCat("a model takes at most one temporal block (",
                                   Index("attention", after),
                                   " is one; it reduces the steps to one vector)"));
    }
    after = i;
  }
  return absl::OkStatus();
}

// The window against input.max_length and the flattened head input.
absl::Status CheckWindow(const AttentionSpec& block, int index, ModelSpec* spec) {
  const std::string window = Join(Index("attention", index), "window");
  if (spec->has_embedding && (block.pad_value != static_cast<float>(static_cast<int>(
                                                     block.pad_value)) ||
                              block.pad_value < 0 || block.pad_value >= spec->embedding.vocab)) {
    return FieldError(Join(Index("attention", index), "pad_value"),
                      absl::StrCat("with input.embedding the padding is a token id: an integer "
                                   "from 0 to ",
                                   spec->embedding.vocab - 1));
  }
  if (block.kind == AttentionKind::kTimeDense && block.placement == Placement::kAfterLstm) {
    const int64_t flat = int64_t{block.window} * spec->encoder.output_size();
    if (flat > kMaxSize) {
      return FieldError(window, absl::StrCat("window ", block.window, " x encoder output size ",
                                             spec->encoder.output_size(), " = ", flat,
                                             " exceeds ", kMaxSize,
                                             ", the largest flattened head input"));
    }
  }
  if (spec->max_length == 0) {
    if (block.truncate == Truncation::kNone) spec->max_length = block.window;
    return absl::OkStatus();
  }
  if (spec->max_length < block.window) {
    return FieldError("input.max_length",
                      absl::StrCat(spec->max_length, " is shorter than ", window, " ",
                                   block.window, ": no sequence could fill the window"));
  }
  if (block.truncate == Truncation::kNone && spec->max_length != block.window) {
    return FieldError("input.max_length",
                      absl::StrCat(spec->max_length, " differs from ", window, " ", block.window,
                                   ": a windowed model without \"truncate\" accepts at most "
                                   "its window"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsQueryBased(AttentionKind kind) {
  return kind == AttentionKind::kDot || kind == AttentionKind::kGeneral ||
         kind == AttentionKind::kGeneralTanh || kind == AttentionKind::kCosine ||
         kind == AttentionKind::kBahdanau;
}

bool IsTemporal(AttentionKind kind) {
  return kind == AttentionKind::kFeedForward || kind == AttentionKind::kAdditive ||
         IsQueryBased(kind);
}

const char* AttentionKindName(AttentionKind kind) { return json_fields::NameOf(kind, kKinds); }
const char* QueryOutputName(QueryOutput output) {
  return json_fields::NameOf(output, kQueryOutputs);
}
const char* PlacementName(Placement placement) {
  return json_fields::NameOf(placement, kPlacements);
}

absl::Status ParseAttention(const Json& root, ModelSpec* spec) {
  absl::StatusOr<const Json*> found = json_fields::Find(root, "", "attention", Need::kOptional);
  if (!found.ok() || *found == nullptr) return found.status();
  const Json& blocks = **found;
  if (!blocks.is_array()) {
    return FieldError("attention",
                      absl::StrCat("must be an array, got ", json_fields::Describe(blocks)));
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    AttentionSpec block;
    if (absl::Status s = ParseBlock(blocks[i], Index("attention", i), &block); !s.ok()) return s;
    spec->attention.push_back(block);
  }
  if (absl::Status s = CheckCombination(spec->attention); !s.ok()) return s;
  for (size_t i = 0; i < spec->attention.size(); ++i) {
    if (spec->attention[i].kind != AttentionKind::kTimeDense && !spec->attention[i].score_mix) {
      continue;
    }
    if (absl::Status s = CheckWindow(spec->attention[i], static_cast<int>(i), spec); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

void AppendAttentionTensors(const ModelSpec& spec, std::vector<TensorRequirement>* out) {
  const int64_t d = spec.encoder.output_size();
  for (size_t i = 0; i < spec.attention.size(); ++i) {
    const AttentionSpec& block = spec.attention[i];
    const std::string prefix = absl::StrCat("attention.", i, ".");
    switch (block.kind) {
      case AttentionKind::kFeedForward:
        out->push_back({prefix + "score.weight", {1, d}});
        out->push_back({prefix + "score.bias", {1}});
        break;
      case AttentionKind::kAdditive:
        out->push_back({prefix + "score.weight", {1, block.units}});
        out->push_back({prefix + "score.bias", {1}});
        out->push_back({prefix + "proj.weight", {block.units, d}});
        out->push_back({prefix + "proj.bias", {block.units}});
        break;
      case AttentionKind::kGeneral:
        out->push_back({prefix + "proj.weight", {d, d}});
        break;
      case AttentionKind::kGeneralTanh:
        out->push_back({prefix + "proj.weight", {d, d}});
        out->push_back({prefix + "proj.bias", {d}});
        break;
      case AttentionKind::kBahdanau: {
        const int64_t a = block.attention_size > 0 ? block.attention_size : d;
        out->push_back({prefix + "query_proj.weight", {a, d}});
        out->push_back({prefix + "proj.weight", {a, d}});
        out->push_back({prefix + "score.weight", {1, a}});
        break;
      }
      case AttentionKind::kDot:
      case AttentionKind::kCosine:
        break;
      case AttentionKind::kTimeDense:
        out->push_back({prefix + "score.weight", {block.window, block.window}});
        out->push_back({prefix + "score.bias", {block.window}});
        break;
      case AttentionKind::kFeature:
        out->push_back({prefix + "score.weight", {spec.input_size, spec.input_size}});
        out->push_back({prefix + "score.bias", {spec.input_size}});
        break;
    }
    if (block.score_mix) {
      out->push_back({prefix + "mix.weight", {block.window, block.window}});
      out->push_back({prefix + "mix.bias", {block.window}});
    }
    if (IsQueryBased(block.kind) && block.output == QueryOutput::kLuong) {
      out->push_back({prefix + "combine.weight", {block.units, 2 * d}});
    }
  }
}

}  // namespace attnserve::engine
