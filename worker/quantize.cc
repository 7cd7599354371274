#include "worker/quantize.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/utils.h>

#include <algorithm>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "int8/interpreter.h"
#include "worker/batch.h"

namespace unas::worker {
namespace {

std::vector<float> ToVector(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

bool HasInputs(const ImageSet& set) { return set.has_pixels() || set.has_features(); }

// Real-valued features as the network reads them: (value - mean[c]) / stddev[c].
std::vector<float> NormalisedFeatures(const ImageSet& set, const Preprocessing& preprocessing) {
  std::vector<float> out = set.features;
  const int64_t c_count = std::max(set.channels, 1);
  for (size_t k = 0; k < out.size(); ++k) {
    const size_t c = k % c_count;
    const float mean = c < preprocessing.mean.size() ? preprocessing.mean[c] : 0.0f;
    const float sd = c < preprocessing.stddev.size() ? preprocessing.stddev[c] : 1.0f;
    out[k] = (out[k] - mean) / sd;
  }
  return out;
}

// Float inputs of the given examples, exactly as the network reads them in training
// (worker/batch.h).
torch::Tensor ExamplesTensor(const ImageSet& set, std::span<const int64_t> indices,
                             const Preprocessing& preprocessing) {
  return SetToTensor(set.Subset(indices), 0, static_cast<int64_t>(indices.size()), preprocessing);
}

}  // namespace

int8::FloatNetwork ExtractFloatNetwork(UnasNetImpl& net) {
  int8::FloatNetwork out;
  out.plan = net.plan();
  out.layers.resize(out.plan.ops.size());
  const auto params = net.named_parameters(/*recurse=*/true);
  const auto buffers = net.named_buffers(/*recurse=*/true);
  auto param = [&](const std::string& name) { return params[name]; };
  for (size_t i = 0; i < out.plan.ops.size(); ++i) {
    const PlannedOp& op = out.plan.ops[i];
    const std::string name = ModuleName(op.name);
    int8::FloatLayer& layer = out.layers[i];
    switch (op.kind) {
      case OpKind::kConv2D:  // (out, in, kh, kw) -> (out, kh, kw, in)
        layer.weights = ToVector(param(name + ".weight").permute({0, 2, 3, 1}));
        break;
      case OpKind::kDepthwiseConv2D:  // (C, 1, kh, kw) -> (1, kh, kw, C)
        layer.weights = ToVector(param(name + ".weight").permute({1, 2, 3, 0}));
        break;
      case OpKind::kDense:  // (out, in); the module already flattens NHWC
        layer.weights = ToVector(param(name + ".weight"));
        break;
      default:
        continue;
    }
    layer.bias = ToVector(param(name + ".bias"));
    if (op.batch_norm) {
      int8::FoldBatchNorm(op.kind, ToVector(param(name + "_bn.weight")),
                          ToVector(param(name + "_bn.bias")),
                          ToVector(buffers[name + "_bn.running_mean"]),
                          ToVector(buffers[name + "_bn.running_var"]), kBatchNormEpsilon, &layer);
    }
  }
  return out;
}

absl::StatusOr<std::vector<int8::ValueRange>> CalibrateRanges(UnasNet& net, const ImageSet& set,
                                                              const Preprocessing& preprocessing,
                                                              const QuantizeOptions& options,
                                                              c10::Device device,
                                                              int8::ValueRange* input_range) {
  if (!HasInputs(set) || set.size() == 0) {
    return absl::FailedPreconditionError("calibration: the set holds no examples");
  }
  const int64_t count = std::min<int64_t>(std::max(options.calibration_examples, 1), set.size());
  std::vector<int64_t> indices(count);
  for (int64_t k = 0; k < count; ++k) indices[k] = k * set.size() / count;  // evenly spaced
  const size_t n = net->plan().ops.size();
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<int8::ValueRange> ranges(n, int8::ValueRange{kInf, -kInf});
  int8::ValueRange in_range{kInf, -kInf};
  auto widen = [](int8::ValueRange& r, const torch::Tensor& t) {
    r.min = std::min(r.min, t.min().item<float>());
    r.max = std::max(r.max, t.max().item<float>());
  };
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  const int64_t batch = std::max(options.batch_size, 1);
  for (int64_t start = 0; start < count; start += batch) {
    const int64_t m = std::min(batch, count - start);
    torch::Tensor x =
        ExamplesTensor(set, std::span<const int64_t>(indices).subspan(start, m), preprocessing)
            .to(device);
    widen(in_range, x);
    std::vector<torch::Tensor> outputs;
    net->ForwardKeepingOutputs(x, &outputs);
    for (size_t i = 0; i < n; ++i) widen(ranges[i], outputs[i]);
  }
  net->train(was_training);
  if (input_range != nullptr) *input_range = in_range;
  return ranges;
}

absl::StatusOr<v1::QuantizedModel> QuantizeNetwork(UnasNet& net, const Dataset& data,
                                                   const QuantizeOptions& options,
                                                   c10::Device device, int8::ConversionInfo* info) {
  const ImageSet& calibration = HasInputs(data.train) ? data.train : data.validation;
  int8::ValueRange input_range;
  UNAS_ASSIGN_OR_RETURN(
      std::vector<int8::ValueRange> ranges,
      CalibrateRanges(net, calibration, data.preprocessing, options, device, &input_range));
  int8::FloatNetwork network = ExtractFloatNetwork(*net);
  if (calibration.has_pixels()) {
    network.mean = data.preprocessing.mean;
    network.stddev = data.preprocessing.stddev;
  } else {
    network.input_range = input_range;
  }
  return int8::Convert(network, ranges, info);
}

absl::StatusOr<double> Int8Accuracy(const v1::QuantizedModel& model, const ImageSet& set,
                                    const Preprocessing& preprocessing, int threads) {
  UNAS_ASSIGN_OR_RETURN(int8::Interpreter interpreter, int8::Interpreter::Create(model));
  if (set.size() == 0) return 0.0;
  if (interpreter.input_size() != set.image_bytes()) {
    return absl::InvalidArgumentError(absl::StrCat("the model reads ", interpreter.input_size(),
                                                   " values per example, the set holds ",
                                                   set.image_bytes()));
  }
  std::vector<int8_t> inputs;
  if (set.has_pixels()) {
    UNAS_ASSIGN_OR_RETURN(inputs, interpreter.QuantizeBytes(set.pixels));
  } else if (set.has_features()) {
    inputs = interpreter.QuantizeReals(NormalisedFeatures(set, preprocessing));
  } else {
    return absl::FailedPreconditionError("int8 evaluation: the set holds no examples");
  }
  return interpreter.Accuracy(inputs.data(), set.labels, threads);
}

absl::Status QuantizeAndEvaluate(UnasNet& net, const Dataset& data, const QuantizeOptions& options,
                                 c10::Device device, v1::EvaluationResult* result) {
  UNAS_ASSIGN_OR_RETURN(v1::QuantizedModel model, QuantizeNetwork(net, data, options, device));
  UNAS_ASSIGN_OR_RETURN(double accuracy,
                        Int8Accuracy(model, data.test, data.preprocessing, options.threads));
  result->set_int8_test_error(1.0 - accuracy);
  *result->mutable_quantized_model() = std::move(model);
  return absl::OkStatus();
}

}  // namespace unas::worker
