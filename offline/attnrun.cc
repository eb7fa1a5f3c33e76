// attnrun: runs one model version directory locally (no server) on sequences
// from a JSON file and prints each prediction with its attention heat bar.
//
//   attnrun --model models/demo/1 --input client/samples/demo.json [--json]
//
// Input: {"sequences": [{"values": [[f, ...], ...]}, ...]}; other keys of a
// sequence (e.g. "label") are echoed as the expected answer.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "client/heat_bar.h"
#include "engine/model.h"
#include "engine/session.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, model, "models/demo/1", "model version directory");
ABSL_FLAG(std::string, input, "", "JSON file with the sequences to classify");
ABSL_FLAG(bool, json, false, "print machine-readable JSON");
ABSL_FLAG(int, threads, 1, "oneDNN threads");

namespace {

using attnserve::engine::BatchOutput;
using attnserve::engine::SequenceView;

struct Sequence {
  std::vector<float> values;
  int length = 0;
  std::string expected;
};

bool ReadSequences(const std::string& path, int features, std::vector<Sequence>* out,
                   std::string* error) {
  std::ifstream file(path);
  if (!file) {
    *error = "cannot open " + path;
    return false;
  }
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("sequences") ||
      !doc["sequences"].is_array()) {
    *error = path + ": expected an object with a \"sequences\" array";
    return false;
  }
  for (size_t i = 0; i < doc["sequences"].size(); ++i) {
    const nlohmann::json& item = doc["sequences"][i];
    const nlohmann::json& rows = item.is_object() ? item["values"] : item;
    Sequence seq;
    if (!rows.is_array() || rows.empty()) {
      *error = absl::StrFormat("%s: sequences[%d]: \"values\" must be a non-empty array of rows",
                               path, i);
      return false;
    }
    for (const nlohmann::json& row : rows) {
      if (!row.is_array() || static_cast<int>(row.size()) != features) {
        *error = absl::StrFormat("%s: sequences[%d]: every row needs %d numbers", path, i,
                                 features);
        return false;
      }
      for (const nlohmann::json& v : row) {
        if (!v.is_number()) {
          *error = absl::StrFormat("%s: sequences[%d]: non-numeric value", path, i);
          return false;
        }
        seq.values.push_back(v.get<float>());
      }
      ++seq.length;
    }
    if (item.is_object() && item.contains("label")) seq.expected = item["label"].dump();
    out->push_back(std::move(seq));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("attnrun --model DIR --input FILE [--json]");
  absl::ParseCommandLine(argc, argv);
  auto model = attnserve::engine::Model::Load(absl::GetFlag(FLAGS_model));
  if (!model.ok()) {
    std::cerr << "attnrun: " << model.status() << "\n";
    return 1;
  }
  const auto& spec = (*model)->spec();
  std::vector<Sequence> sequences;
  std::string error;
  if (absl::GetFlag(FLAGS_input).empty()) {
    std::cerr << "attnrun: --input is required\n";
    return 2;
  }
  if (!ReadSequences(absl::GetFlag(FLAGS_input), spec.input_size, &sequences, &error)) {
    std::cerr << "attnrun: " << error << "\n";
    return 1;
  }
  std::vector<SequenceView> views;
  for (const Sequence& s : sequences) views.push_back({s.values.data(), s.length});
  attnserve::engine::Session session(*model, {absl::GetFlag(FLAGS_threads), 8});
  BatchOutput out;
  if (absl::Status status = session.Run(views, &out); !status.ok()) {
    std::cerr << "attnrun: " << status << "\n";
    return 1;
  }

  nlohmann::json results = nlohmann::json::array();
  for (size_t b = 0; b < sequences.size(); ++b) {
    const float* probs = out.outputs.data() + b * out.num_outputs;
    int best = 0;
    for (int c = 1; c < out.num_outputs; ++c) {
      if (probs[c] > probs[best]) best = c;
    }
    nlohmann::json r;
    r["label"] = spec.labels[best];
    r["probabilities"] = std::vector<float>(probs, probs + out.num_outputs);
    for (const auto& map : out.attention) {
      const float* w = map.values.data() + b * map.stride;
      r["attention"][map.name] = std::vector<float>(w, w + map.shapes[b].size());
    }
    results.push_back(r);
    if (absl::GetFlag(FLAGS_json)) continue;
    std::cout << absl::StrFormat("sequence %d  length %d  -> %s (p=%.3f)", b,
                                 sequences[b].length, spec.labels[best], probs[best]);
    if (!sequences[b].expected.empty()) std::cout << "  expected " << sequences[b].expected;
    std::cout << "\n";
    for (const auto& map : out.attention) {
      absl::Span<const float> w(map.values.data() + b * map.stride, map.shapes[b].size());
      int peak = 0;
      for (size_t t = 1; t < w.size(); ++t) {
        if (w[t] > w[peak]) peak = static_cast<int>(t);
      }
      std::cout << absl::StrFormat("  %s attention |%s| peak at step %d (%.2f)\n", map.name,
                                   attnserve::client::RenderHeatBar(w), peak, w[peak]);
    }
  }
  if (absl::GetFlag(FLAGS_json)) std::cout << results.dump(2) << "\n";
  return 0;
}
