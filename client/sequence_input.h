// Sequences for attnctl to classify: read from a JSON or CSV file, or drawn at
// random. Pure functions (no gRPC, no I/O beyond reading the named file);
// every failure is an InvalidArgument/NotFound status whose message names the
// source and the place (sequence, step, CSV line) that is wrong.
//
// JSON: either {"sequences": [SEQ, ...]} or a bare [SEQ, ...], where SEQ is a
// 2-D array [steps][features] or an object {"values": [[...], ...]} whose
// optional string "label" is kept as the expected answer; other keys are
// ignored. Every step of a sequence has the same number of values.
//
// CSV: one sequence per line, its values flattened row-major
// (step 0 features, step 1 features, ...); the feature count comes from the
// caller. Blank lines and lines starting with '#' are skipped.
//
// Token ids (a model that reads them, `token_ids`): a JSON SEQ is a flat
// array of integers [id, ...] or {"ids": [...], "label": ...}; a CSV line is
// one sequence's ids. Ids must be integers in int64 range (the server checks
// the vocabulary).
#ifndef ATTNSERVE_CLIENT_SEQUENCE_INPUT_H_
#define ATTNSERVE_CLIENT_SEQUENCE_INPUT_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attnserve::client {

// One sequence, row-major [steps][features]; or, for a model that reads
// token ids, one id per step in `ids` (values empty, features 0).
struct InputSequence {
  std::vector<float> values;
  int64_t steps = 0;
  int64_t features = 0;
  // The answer the input file says to expect ("label"), empty when unknown.
  std::string expected;
  std::vector<int64_t> ids;
};

enum class InputFormat { kJson, kCsv };

// The format of `path`: by extension (.json / .csv), else by its first
// non-blank character ('{' or '[' is JSON).
InputFormat DetectInputFormat(const std::string& path, absl::string_view text);

// Parses JSON text. `features` > 0 requires every step to have that many
// values; 0 accepts any width. `source` prefixes error messages.
// `token_ids`: the sequences are token ids (`features` is ignored).
absl::StatusOr<std::vector<InputSequence>> ParseJsonSequences(absl::string_view text,
                                                              int64_t features,
                                                              absl::string_view source,
                                                              bool token_ids = false);

// Parses CSV text; `features` must be > 0 and divide every line's value count
// (`token_ids`: each line is one sequence's ids, `features` ignored).
absl::StatusOr<std::vector<InputSequence>> ParseCsvSequences(absl::string_view text,
                                                             int64_t features,
                                                             absl::string_view source,
                                                             bool token_ids = false);

// Reads `path` whole. NotFound when it cannot be opened.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

// `count` sequences of `steps` x `features` values drawn from N(0, 1).
std::vector<InputSequence> RandomSequences(int64_t count, int64_t steps, int64_t features,
                                           std::mt19937_64& rng);

// `count` sequences of `steps` token ids drawn uniformly from [0, vocab).
std::vector<InputSequence> RandomTokenSequences(int64_t count, int64_t steps, int64_t vocab,
                                                std::mt19937_64& rng);

}  // namespace attnserve::client

#endif  // ATTNSERVE_CLIENT_SEQUENCE_INPUT_H_
