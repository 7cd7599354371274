// Real int8 models without LibTorch for the codegen tests and benchmark:
// random CNN-space (or MLP) architectures with random float weights and
// activation ranges, quantised by the project's converter.
#ifndef UNAS_TESTS_CODEGEN_RANDOM_MODELS_H_
#define UNAS_TESTS_CODEGEN_RANDOM_MODELS_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/network_plan.h"
#include "common/search_space/random_architecture.h"
#include "int8/converter.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::codegen::testing {

// Weights ~ N(0, 1 / fan-in), biases ~ N(0, 0.1), output ranges drawn so
// that activations neither vanish nor always saturate.
inline absl::StatusOr<v1::QuantizedModel> QuantizeRandomWeights(const NetworkPlan& plan,
                                                                uint32_t seed) {
  std::mt19937 rng(seed);
  int8::FloatNetwork net;
  net.plan = plan;
  std::vector<int8::ValueRange> ranges;
  std::uniform_real_distribution<float> low(0.0f, 3.0f), high(0.5f, 6.0f);
  for (const PlannedOp& op : plan.ops) {
    int8::FloatLayer& layer = net.layers.emplace_back();
    if (op.kernel_elements > 0) {
      const double fan_in = static_cast<double>(op.kernel_elements) / op.output.channels;
      std::normal_distribution<float> w(0.0f, static_cast<float>(1.0 / std::sqrt(fan_in)));
      std::normal_distribution<float> b(0.0f, 0.1f);
      layer.weights.resize(op.kernel_elements);
      for (float& v : layer.weights) v = w(rng);
      layer.bias.resize(op.output.channels);
      for (float& v : layer.bias) v = b(rng);
    }
    ranges.push_back({op.relu ? 0.0f : -low(rng), high(rng)});
  }
  return int8::Convert(net, ranges);
}

// A random architecture of the default space of `kind` for data of shape
// `data`, quantised with random weights.
inline absl::StatusOr<v1::QuantizedModel> RandomModel(SpaceKind kind, const DataShape& data,
                                                      Rng& rng, uint32_t seed) {
  absl::StatusOr<v1::Architecture> arch = RandomArchitecture(DefaultSearchSpace(kind), data, rng);
  if (!arch.ok()) return arch.status();
  absl::StatusOr<NetworkPlan> plan = PlanNetwork(*arch, data);
  if (!plan.ok()) return plan.status();
  return QuantizeRandomWeights(*plan, seed);
}

}  // namespace unas::codegen::testing

#endif  // UNAS_TESTS_CODEGEN_RANDOM_MODELS_H_
