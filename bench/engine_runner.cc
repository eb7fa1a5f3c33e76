// engine_runner: times the attnserve engine on one model version directory, so
// that bench/compare_torch.py can run the very same files in PyTorch and here.
//
//   engine_runner --model_dir=DIR --batch=B --steps=T [--threads=1]
//                 [--min_time_s=1] [--input=FILE] [--lstm_impl=auto|rnn_primitive|matmul]
//                 [--recurrent_gemm=auto|packed|row_matmul]
// Loads DIR with Model::Load, runs one warm-up batch (builds the plan), then
// runs the same batch of B sequences of T steps until --min_time_s has passed.
// The input is FILE (raw little-endian f32, B x T x input_size, row-major) or
// N(0, 1) noise. Prints one JSON object on stdout: seq_per_s, batches,
// seconds, and the outputs of the batch ([B][C], after the head's activation)
// so the caller can check both sides computed the same thing. Exit 1 on any
// failure, with the reason on stderr.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "engine/model.h"
#include "engine/session.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, model_dir, "", "model version directory (model.json + weights)");
ABSL_FLAG(int, batch, 1, "sequences per batch");
ABSL_FLAG(int, steps, 50, "timesteps per sequence");
ABSL_FLAG(int, threads, 1, "OpenMP threads of the session");
ABSL_FLAG(double, min_time_s, 1.0, "seconds to keep running the batch");
ABSL_FLAG(std::string, input, "", "raw f32 input file (B x T x input_size); noise if empty");
ABSL_FLAG(std::string, lstm_impl, "auto", "LSTM implementation: auto, rnn_primitive or matmul");
ABSL_FLAG(std::string, recurrent_gemm, "auto",
          "the matmul LSTM's recurrent GEMM: auto, packed or row_matmul");

namespace {

using attnserve::engine::BatchOutput;
using attnserve::engine::Model;
using attnserve::engine::SequenceView;
using attnserve::engine::Session;
using Clock = std::chrono::steady_clock;

int Fail(const std::string& why) {
  std::cerr << "engine_runner: " << why << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int batch = absl::GetFlag(FLAGS_batch);
  const int steps = absl::GetFlag(FLAGS_steps);
  if (batch < 1 || steps < 1) return Fail("--batch and --steps must be at least 1");
  absl::StatusOr<attnserve::engine::LstmImpl> impl =
      attnserve::engine::ParseLstmImpl(absl::GetFlag(FLAGS_lstm_impl));
  if (!impl.ok()) return Fail(std::string(impl.status().message()));
  absl::StatusOr<attnserve::engine::RecurrentGemm> gemm =
      attnserve::engine::ParseRecurrentGemm(absl::GetFlag(FLAGS_recurrent_gemm));
  if (!gemm.ok()) return Fail(std::string(gemm.status().message()));
  attnserve::engine::LoadOptions options;
  options.lstm_impl = *impl;
  options.recurrent_gemm = *gemm;
  options.warmup_max_batch_size = batch;
  options.warmup_lengths = {steps};
  auto model = Model::Load(absl::GetFlag(FLAGS_model_dir), options);
  if (!model.ok()) return Fail(std::string(model.status().message()));
  const int features = (*model)->spec().input_size;
  const size_t per_sequence = static_cast<size_t>(steps) * features;
  std::vector<float> values(per_sequence * batch);
  const std::string input = absl::GetFlag(FLAGS_input);
  if (input.empty()) {
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    for (float& v : values) v = noise(rng);
  } else {
    std::ifstream file(input, std::ios::binary);
    file.read(reinterpret_cast<char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(float)));
    if (!file || file.gcount() != static_cast<std::streamsize>(values.size() * sizeof(float))) {
      return Fail("cannot read " + std::to_string(values.size()) + " floats from " + input);
    }
  }
  std::vector<SequenceView> views;
  for (int b = 0; b < batch; ++b) views.push_back({values.data() + b * per_sequence, steps});

  Session session(*model, {absl::GetFlag(FLAGS_threads), 8});
  BatchOutput out;
  absl::Status status = session.Run(views, &out);  // warm-up: builds the plan
  if (!status.ok()) return Fail(std::string(status.message()));
  const double min_time = absl::GetFlag(FLAGS_min_time_s);
  int64_t batches = 0;
  const Clock::time_point start = Clock::now();
  double seconds = 0;
  while (seconds < min_time || batches < 3) {
    status = session.Run(views, &out);
    if (!status.ok()) return Fail(std::string(status.message()));
    ++batches;
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }
  nlohmann::json outputs = nlohmann::json::array();
  for (int b = 0; b < batch; ++b) {
    outputs.push_back(std::vector<float>(out.outputs.begin() + b * out.num_outputs,
                                         out.outputs.begin() + (b + 1) * out.num_outputs));
  }
  const nlohmann::json result = {{"seq_per_s", static_cast<double>(batches) * batch / seconds},
                                 {"batches", batches},
                                 {"seconds", seconds},
                                 {"batch", batch},
                                 {"steps", steps},
                                 {"threads", absl::GetFlag(FLAGS_threads)},
                                 {"lstm_impl", attnserve::engine::LstmImplName(
                                                   (*model)->lstm_impl())},
                                 {"lstm_impl_note", (*model)->lstm_impl_note()},
                                 {"outputs", outputs}};
  std::cout << result.dump() << "\n";
  return 0;
}
