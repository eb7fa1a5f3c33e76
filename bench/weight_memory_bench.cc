// weight_memory_bench: what an LSTM encoder's weights cost over many batch
// shapes, with per-plan weight copies (the baseline) and with weights shared
// by layout (the engine), and what a whole Session holds.
//
// The model: 2 bidirectional LSTM layers of 128 (input 32; additive
// attention and 4 classes for --mode=session). The shapes: 80 requested
// (sequences, longest steps) pairs, 8 batch sizes x 10 lengths
// (tests/engine/shape_sweep.h), steps bucketed by PaddedSteps.
//
//   --mode=per_plan  the baseline: per shape (rows exact) one LSTM primitive
//                    per layer and direction; a primitive that prefers
//                    another weight layout than the one prepared at load
//                    reorders its own copy and keeps it; each runs once
//   --mode=shared    the engine's LSTM primitive plans for the same shapes (rows
//                    exact), weights shared by layout; each runs once
//   --mode=session   a whole engine Session warming the 80 shapes (rows
//                    bucketed): plans, their estimated bytes, weights
//   --mode=layouts   the price of plain weights: one LSTM layer (H 128, T 50,
//                    input 32 and 256, batch 1 to 64) timed with the weight
//                    layout oneDNN prefers (format_tag::any) and with plain
//                    ldigo, alternating, best of 7 rounds; prints one JSON
//                    line per shape with both times and their ratio
// Prints one JSON line: mode, ISA, plans, reorders, weight bytes at load and
// after, RSS growth over the shapes, seconds. Run each mode in its own process
// (RSS is per process), natively and with ONEDNN_MAX_CPU_ISA=AVX2:
// bench/weight_memory.sh runs all of them side by side.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "engine/cpu_info.h"
#include "engine/dnnl_util.h"
#include "engine/lstm_encoder.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/shape_policy.h"
#include "engine/workspace.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "tests/engine/random_model.h"
#include "tests/engine/shape_sweep.h"

ABSL_FLAG(std::string, mode, "shared", "per_plan (the baseline), shared, session or layouts");

namespace {

using attnserve::engine::BatchShape;
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

constexpr int kInput = 32, kHidden = 128, kLayers = 2;

int64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

dnnl::lstm_forward::primitive_desc LayoutDesc(int64_t batch, int64_t steps, int64_t input,
                                              tag weights) {
  memory::desc src({steps, batch, input}, dt::f32, tag::tnc);
  memory::desc dst({steps, batch, kHidden}, dt::f32, tag::tnc);
  memory::desc wl({1, 1, input, 4, kHidden}, dt::f32, weights);
  memory::desc wi({1, 1, kHidden, 4, kHidden}, dt::f32, weights);
  memory::desc bias({1, 1, 4, kHidden}, dt::f32, tag::ldgo);
  dnnl::lstm_forward::desc desc(dnnl::prop_kind::forward_inference,
                                dnnl::rnn_direction::unidirectional_left2right, src, {}, {}, wl,
                                wi, bias, dst, {}, {});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return dnnl::lstm_forward::primitive_desc(desc, attr, attnserve::engine::CpuEngine());
}

dnnl::lstm_forward::primitive_desc AnyLayoutDesc(int64_t batch, int64_t steps, int64_t input) {
  return LayoutDesc(batch, steps, input, tag::any);
}

memory ReorderedCopy(const memory& plain, const memory::desc& to_desc) {
  memory to(to_desc, attnserve::engine::CpuEngine());
  dnnl::stream stream(attnserve::engine::CpuEngine());
  dnnl::reorder(plain, to).execute(stream, const_cast<memory&>(plain), to);
  stream.wait();
  return to;
}

memory ReorderedCopy(const memory& plain, const memory::desc& to_desc);

// One layer of the given weight layout, ready to run on zeros.
struct TimedLayer {
  dnnl::lstm_forward primitive;
  std::unordered_map<int, memory> args;
  std::string implementation;
};

TimedLayer MakeTimedLayer(int64_t batch, int64_t steps, int64_t input, tag weights) {
  const dnnl::engine& engine = attnserve::engine::CpuEngine();
  dnnl::lstm_forward::primitive_desc pd = LayoutDesc(batch, steps, input, weights);
  TimedLayer layer{dnnl::lstm_forward(pd), {}, pd.impl_info_str()};
  auto zeros = [&](const memory::desc& desc) {
    memory m(desc, engine);
    std::memset(m.get_data_handle(), 0, desc.get_size());
    return m;
  };
  auto values = [&](int64_t rows) {
    memory plain({{1, 1, rows, 4, kHidden}, dt::f32, tag::ldigo}, engine);
    float* v = static_cast<float*>(plain.get_data_handle());
    for (int64_t i = 0; i < rows * 4 * kHidden; ++i) v[i] = 0.01f * static_cast<float>(i % 13 - 6);
    return plain;
  };
  layer.args = {{DNNL_ARG_SRC_LAYER, zeros(pd.src_layer_desc())},
                {DNNL_ARG_WEIGHTS_LAYER, ReorderedCopy(values(input), pd.weights_layer_desc())},
                {DNNL_ARG_WEIGHTS_ITER, ReorderedCopy(values(kHidden), pd.weights_iter_desc())},
                {DNNL_ARG_BIAS, zeros(pd.bias_desc())},
                {DNNL_ARG_DST_LAYER, zeros(pd.dst_layer_desc())},
                {DNNL_ARG_SCRATCHPAD, zeros(pd.scratchpad_desc())}};
  return layer;
}

// Best time per run (microseconds) of each layer over 7 alternating rounds.
void TimeLayouts() {
  dnnl::stream stream(attnserve::engine::CpuEngine());
  for (int64_t input : {32, 256}) {
    for (int64_t batch : {1, 4, 8, 16, 32, 64}) {
      constexpr int64_t kSteps = 50;
      TimedLayer layers[2] = {MakeTimedLayer(batch, kSteps, input, tag::any),
                              MakeTimedLayer(batch, kSteps, input, tag::ldigo)};
      double best[2] = {1e30, 1e30};
      const int runs = static_cast<int>(200 / batch) + 5;
      for (int round = 0; round < 7; ++round) {
        for (int k = 0; k < 2; ++k) {
          layers[k].primitive.execute(stream, layers[k].args);
          stream.wait();
          const auto start = std::chrono::steady_clock::now();
          for (int r = 0; r < runs; ++r) layers[k].primitive.execute(stream, layers[k].args);
          stream.wait();
          const double us =
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                  .count() /
              runs;
          best[k] = std::min(best[k], us);
        }
      }
      std::printf(
          "{\"mode\": \"layouts\", \"isa\": \"%s\", \"input\": %lld, \"hidden\": %d, "
          "\"steps\": %lld, \"batch\": %lld, \"preferred_impl\": \"%s\", \"preferred_us\": %.1f, "
          "\"plain_impl\": \"%s\", \"plain_us\": %.1f, \"plain_over_preferred\": %.3f}\n",
          attnserve::engine::HostCpu().isa.c_str(), static_cast<long long>(input), kHidden,
          static_cast<long long>(kSteps), static_cast<long long>(batch),
          layers[0].implementation.c_str(), best[0], layers[1].implementation.c_str(), best[1],
          best[1] / best[0]);
    }
  }
}

struct Result {
  int64_t plans = 0;
  int64_t reorders = 0;
  int64_t weight_bytes_at_load = 0;
  int64_t weight_bytes = 0;
  int64_t plan_bytes = 0;  // session mode: the plan cache's estimate
};

// Distinct (rows, steps) the encoder-only modes build: rows exact, steps bucketed.
std::vector<std::pair<int64_t, int64_t>> ExactRowShapes(const std::vector<BatchShape>& shapes) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const BatchShape& shape : shapes) {
    const auto key = std::make_pair(shape.sequences, attnserve::engine::PaddedSteps(shape.steps));
    if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(key);
  }
  return out;
}

std::shared_ptr<const attnserve::engine::Model> BenchModel() {
  attnserve::engine::ModelSpec spec =
      attnserve::testing::MakeSpec(kInput, kHidden, kLayers, true, 4);
  // The weight layouts measured here are those of oneDNN's LSTM primitive.
  attnserve::engine::LoadOptions options;
  options.lstm_impl = attnserve::engine::LstmImpl::kRnnPrimitive;
  auto model =
      attnserve::engine::Model::Build(attnserve::testing::RandomModel(spec, 1, 0.1f), options);
  if (!model.ok()) {
    std::fprintf(stderr, "weight_memory_bench: %s\n", model.status().ToString().c_str());
    std::exit(1);
  }
  return *model;
}

// The baseline: the encoder's weights prepared once in the layout of a
// (1, 1) primitive; every shape's primitive that prefers another layout gets
// its own reordered copy.
Result PerPlan(const std::vector<BatchShape>& shapes) {
  Result result;
  struct Tensor {
    memory plain;
    memory loaded;
  };
  std::vector<Tensor> tensors;  // [layer][direction][layer weights, iter weights]
  for (int k = 0; k < kLayers; ++k) {
    const int64_t input = k == 0 ? kInput : 2 * kHidden;
    dnnl::lstm_forward::primitive_desc pd = AnyLayoutDesc(1, 1, input);
    for (int dir = 0; dir < 2; ++dir) {
      for (int which = 0; which < 2; ++which) {
        const int64_t rows = which == 0 ? input : kHidden;
        memory plain({{1, 1, rows, 4, kHidden}, dt::f32, tag::ldigo},
                     attnserve::engine::CpuEngine());
        float* v = static_cast<float*>(plain.get_data_handle());
        for (int64_t i = 0; i < rows * 4 * kHidden; ++i) v[i] = 0.01f * static_cast<float>(i % 13);
        memory loaded =
            ReorderedCopy(plain, which == 0 ? pd.weights_layer_desc() : pd.weights_iter_desc());
        result.weight_bytes_at_load += static_cast<int64_t>(plain.get_desc().get_size() +
                                                            loaded.get_desc().get_size());
        tensors.push_back({plain, loaded});
      }
    }
  }
  result.weight_bytes = result.weight_bytes_at_load;
  struct Plan {
    std::vector<dnnl::lstm_forward> primitives;
    std::vector<memory> own_weights;
  };
  std::vector<Plan> plans;
  attnserve::engine::Workspace ws;  // the buffers an engine plan of the shape uses
  memory bias({{1, 1, 4, kHidden}, dt::f32, tag::ldgo}, attnserve::engine::CpuEngine());
  std::memset(bias.get_data_handle(), 0, bias.get_desc().get_size());
  dnnl::stream stream(attnserve::engine::CpuEngine());
  for (const auto& [rows, steps] : ExactRowShapes(shapes)) {
    Plan& plan = plans.emplace_back();
    size_t t = 0;
    for (int k = 0; k < kLayers; ++k) {
      const int64_t input = k == 0 ? kInput : 2 * kHidden;
      for (int dir = 0; dir < 2; ++dir) {
        dnnl::lstm_forward::primitive_desc pd = AnyLayoutDesc(rows, steps, input);
        plan.primitives.emplace_back(pd);
        memory weights[2];
        int w = 0;
        for (const memory::desc& want : {pd.weights_layer_desc(), pd.weights_iter_desc()}) {
          const Tensor& tensor = tensors[t++];
          weights[w] = tensor.loaded;
          if (want != tensor.loaded.get_desc()) {
            weights[w] = ReorderedCopy(tensor.plain, want);
            plan.own_weights.push_back(weights[w]);
            result.weight_bytes += static_cast<int64_t>(want.get_size());
            ++result.reorders;
          }
          ++w;
        }
        // Run it once, as a session does, on zeros, in the buffers the
        // engine's plan of this shape uses.
        const size_t cells = static_cast<size_t>(steps * rows);
        float* src = (k == 0 ? ws.input : ws.layer[(k + 1) % 2]).Reserve(cells * input);
        std::fill(src, src + cells * input, 0.0f);
        // Touched as the engine touches them (reversal copies, concatenation).
        std::fill_n(ws.layer[k % 2].Reserve(cells * 2 * kHidden), cells * 2 * kHidden, 0.0f);
        std::fill_n(ws.reversed.Reserve(cells * input), cells * input, 0.0f);
        float* dst = (dir == 0 ? ws.forward : ws.backward).Reserve(cells * kHidden);
        const auto engine = attnserve::engine::CpuEngine();
        plan.primitives.back().execute(
            stream, {{DNNL_ARG_SRC_LAYER, memory(pd.src_layer_desc(), engine, src)},
                     {DNNL_ARG_WEIGHTS_LAYER, weights[0]},
                     {DNNL_ARG_WEIGHTS_ITER, weights[1]},
                     {DNNL_ARG_BIAS, bias},
                     {DNNL_ARG_DST_LAYER, memory(pd.dst_layer_desc(), engine, dst)},
                     {DNNL_ARG_SCRATCHPAD, ws.Scratchpad(pd.scratchpad_desc().get_size())}});
        stream.wait();
      }
    }
  }
  result.plans = static_cast<int64_t>(plans.size());
  return result;
}

// The engine's encoder plans for the baseline's shapes, each run once.
Result Shared(const std::shared_ptr<const attnserve::engine::Model>& model,
              const std::vector<BatchShape>& shapes) {
  Result result;
  const attnserve::engine::WeightStats at_load = model->weight_stats();
  result.weight_bytes_at_load = at_load.bytes;
  std::vector<std::unique_ptr<attnserve::engine::EncoderPlan>> plans;
  attnserve::engine::Workspace ws;
  dnnl::stream stream(attnserve::engine::CpuEngine());
  std::vector<int> lengths;
  for (const auto& [rows, steps] : ExactRowShapes(shapes)) {
    plans.push_back(model->encoder().Plan(rows, steps));
    lengths.assign(static_cast<size_t>(rows), static_cast<int>(steps));
    float* input = ws.input.Reserve(static_cast<size_t>(steps * rows * kInput));
    std::fill(input, input + steps * rows * kInput, 0.0f);
    plans.back()->Run(stream, lengths, ws);
    stream.wait();
  }
  result.plans = static_cast<int64_t>(plans.size());
  result.reorders = model->weight_stats().reorders - at_load.reorders;
  result.weight_bytes = model->weight_stats().bytes;
  return result;
}

// A whole Session (attention and head too, rows bucketed) warming the shapes.
Result WholeSession(const std::shared_ptr<const attnserve::engine::Model>& model,
                    const std::vector<BatchShape>& shapes) {
  Result result;
  const attnserve::engine::WeightStats at_load = model->weight_stats();
  result.weight_bytes_at_load = at_load.bytes;
  attnserve::engine::SessionOptions options;
  options.max_cached_plans = 1024;
  options.max_plan_bytes = size_t{1} << 40;
  attnserve::engine::Session session(model, options);
  absl::Status status = session.Warm(shapes);
  if (!status.ok()) {
    std::fprintf(stderr, "weight_memory_bench: %s\n", status.ToString().c_str());
    std::exit(1);
  }
  result.plans = session.stats().plans_built;
  result.plan_bytes = session.stats().plan_bytes;
  result.reorders = model->weight_stats().reorders - at_load.reorders;
  result.weight_bytes = model->weight_stats().bytes;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "layouts") {
    TimeLayouts();
    return 0;
  }
  if (mode != "shared" && mode != "per_plan" && mode != "session") {
    std::fprintf(stderr,
                 "weight_memory_bench: --mode must be per_plan, shared, session or layouts\n");
    return 2;
  }
  const std::vector<BatchShape> shapes = attnserve::testing::EightyShapes(100);
  const std::string isa = attnserve::engine::HostCpu().isa;
  std::shared_ptr<const attnserve::engine::Model> model;
  if (mode != "per_plan") model = BenchModel();
  const int64_t rss_start = RssBytes();
  const auto start = std::chrono::steady_clock::now();
  const Result r = mode == "per_plan" ? PerPlan(shapes)
                   : mode == "shared" ? Shared(model, shapes)
                                      : WholeSession(model, shapes);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t rss_end = RssBytes();
  std::printf(
      "{\"mode\": \"%s\", \"isa\": \"%s\", \"shapes\": %zu, \"plans\": %lld, \"reorders\": %lld, "
      "\"weight_bytes_at_load\": %lld, \"weight_bytes\": %lld, \"plan_bytes\": %lld, "
      "\"rss_growth_bytes\": %lld, \"seconds\": %.3f}\n",
      mode.c_str(), isa.c_str(), shapes.size(), static_cast<long long>(r.plans),
      static_cast<long long>(r.reorders), static_cast<long long>(r.weight_bytes_at_load),
      static_cast<long long>(r.weight_bytes), static_cast<long long>(r.plan_bytes),
      static_cast<long long>(rss_end - rss_start),
      seconds);
  return 0;
}
