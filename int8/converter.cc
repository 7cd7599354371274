#include "int8/converter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/search_space/resource_graph.h"
#include "common/status/status_macros.h"
#include "int8/fixed_point.h"
#include "int8/two_input_adds.h"
#include "resource_models/pmu.h"

namespace unas::int8 {
namespace {

// The output channel of weight element `index` of a layer with `out`
// channels, in the layouts of converter.h.
int64_t OutputChannelOf(OpKind kind, int64_t index, int64_t size, int64_t out) {
  if (kind == OpKind::kDepthwiseConv2D) return index % out;
  return index / (size / out);
}

const std::string& TensorName(const NetworkPlan& plan, int tensor) {
  static const std::string* const input = new std::string(kInputTensorName);
  return tensor == kNetworkInput ? *input : plan.ops[tensor].name;
}

bool IsLinear(OpKind kind) {
  return kind == OpKind::kConv2D || kind == OpKind::kDepthwiseConv2D || kind == OpKind::kDense;
}

// Folds x = (byte / 255 - mean[c]) / stddev[c] into the layers reading the
// raw input, directly or through pools (a pool commutes with a per-channel
// affine map of positive scale). Valid padding makes this exact: no kernel
// ever sees a padded border where the raw and normalised zeros would differ.
absl::Status FoldPreprocessing(FloatNetwork& net) {
  const int64_t channels = net.plan.input.channels;
  std::vector<double> mean(channels, 0.0), stddev(channels, 1.0);
  bool identity = true;
  for (int64_t c = 0; c < channels; ++c) {
    if (!net.mean.empty()) mean[c] = net.mean.at(c);
    if (!net.stddev.empty()) stddev[c] = net.stddev.at(c);
    if (!(stddev[c] > 0)) {
      return absl::InvalidArgumentError(absl::StrCat("preprocessing: stddev[", c, "] <= 0"));
    }
    identity = identity && mean[c] == 0.0 && stddev[c] == 1.0;
  }
  if (identity) return absl::OkStatus();
  const int n = static_cast<int>(net.plan.ops.size());
  std::vector<bool> raw(n, false);  // holds raw (unnormalised) values
  auto reads_raw = [&](const PlannedOp& op) {
    for (int in : op.inputs) {
      if (in == kNetworkInput || raw[in]) return true;
    }
    return false;
  };
  for (int i = 0; i < n; ++i) {
    const PlannedOp& op = net.plan.ops[i];
    if (!reads_raw(op)) continue;
    if (op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool) {
      raw[i] = true;
      continue;
    }
    if (!IsLinear(op.kind) || op.inputs.size() != 1) {
      return absl::UnimplementedError(absl::StrCat(
          op.name, ": the input preprocessing cannot be folded through a ", OpKindName(op.kind)));
    }
    FloatLayer& layer = net.layers[i];
    const int64_t out = static_cast<int64_t>(layer.bias.size());
    const int64_t size = static_cast<int64_t>(layer.weights.size());
    std::vector<double> shift(out, 0.0);
    for (int64_t k = 0; k < size; ++k) {
      // In every layout the input channel is the fastest-varying index.
      const int64_t c = k % channels;
      const double w = layer.weights[k] / stddev[c];
      shift[OutputChannelOf(op.kind, k, size, out)] += w * mean[c];
      layer.weights[k] = static_cast<float>(w);
    }
    for (int64_t o = 0; o < out; ++o) layer.bias[o] = static_cast<float>(layer.bias[o] - shift[o]);
  }
  return absl::OkStatus();
}

v1::QuantizedTensor* AddActivation(v1::QuantizedModel& model, const std::string& name,
                                   const Shape& shape, bool flat, const AffineParams& p) {
  v1::QuantizedTensor* t = model.add_tensors();
  t->set_name(name);
  if (flat) {
    t->add_shape(1);
    t->add_shape(static_cast<int32_t>(shape.elements()));
  } else {
    for (int64_t d : {int64_t{1}, shape.height, shape.width, shape.channels}) {
      t->add_shape(static_cast<int32_t>(d));
    }
  }
  t->add_scale(p.scale);
  t->add_zero_point(p.zero_point);
  return t;
}

void SetMultiplier(double real, v1::QuantizedOp* op) {
  const QuantizedMultiplier q = QuantizeMultiplier(real);
  op->add_output_multiplier(q.multiplier);
  op->add_output_shift(q.shift);
}

}  // namespace

void FoldBatchNorm(OpKind kind, std::span<const float> gamma, std::span<const float> beta,
                   std::span<const float> mean, std::span<const float> variance, double epsilon,
                   FloatLayer* layer) {
  const int64_t out = static_cast<int64_t>(layer->bias.size());
  std::vector<double> factor(out);
  for (int64_t c = 0; c < out; ++c) {
    factor[c] = gamma[c] / std::sqrt(static_cast<double>(variance[c]) + epsilon);
    layer->bias[c] = static_cast<float>((layer->bias[c] - mean[c]) * factor[c] + beta[c]);
  }
  const int64_t size = static_cast<int64_t>(layer->weights.size());
  for (int64_t k = 0; k < size; ++k) {
    layer->weights[k] =
        static_cast<float>(layer->weights[k] * factor[OutputChannelOf(kind, k, size, out)]);
  }
}

std::vector<int> ExecutionOrder(const NetworkPlan& plan, bool* memory_optimal) {
  const int n = static_cast<int>(plan.ops.size());
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  if (memory_optimal != nullptr) *memory_optimal = false;
  absl::StatusOr<rm::Graph> graph = BuildResourceGraph(plan);
  if (!graph.ok()) return order;
  // An order whose peak is only an upper bound (the exact search stopped at its limit) still
  // beats the plan order; memory_optimal tells which one this is.
  absl::StatusOr<rm::PmuResult> pmu =
      rm::ComputePmu(*graph, {.on_search_limit = rm::SearchLimitPolicy::kUpperBound});
  if (!pmu.ok()) return order;
  std::vector<int> best;
  std::vector<bool> seen(n, false);
  for (rm::OpId id : pmu->order) {
    const std::string& name = graph->op(id).name;
    auto it = std::find_if(plan.ops.begin(), plan.ops.end(),
                           [&](const PlannedOp& op) { return op.name == name; });
    if (it == plan.ops.end()) continue;
    const int index = static_cast<int>(it - plan.ops.begin());
    if (seen[index]) return order;
    seen[index] = true;
    best.push_back(index);
  }
  if (static_cast<int>(best.size()) != n) return order;
  if (memory_optimal != nullptr) *memory_optimal = pmu->optimal;
  return best;
}

absl::StatusOr<v1::QuantizedModel> Convert(const FloatNetwork& network,
                                           std::span<const ValueRange> ranges,
                                           ConversionInfo* info) {
  const NetworkPlan& plan = network.plan;
  const int n = static_cast<int>(plan.ops.size());
  if (n == 0) return absl::InvalidArgumentError("the network has no ops");
  if (static_cast<int>(ranges.size()) != n || static_cast<int>(network.layers.size()) != n) {
    return absl::InvalidArgumentError("need one calibrated range and one layer per plan op");
  }
  FloatNetwork net = network;
  AffineParams input_params{1.0f / 255.0f, -128};  // raw bytes: q = byte - 128
  if (net.input_range) {
    if (!net.mean.empty() || !net.stddev.empty()) {
      return absl::InvalidArgumentError("real-valued inputs take no image preprocessing");
    }
    input_params = ChooseActivationParams(net.input_range->min, net.input_range->max);
  } else {
    UNAS_RETURN_IF_ERROR(FoldPreprocessing(net));
  }

  // Activation parameters, in plan order (a topological order).
  std::vector<AffineParams> params(n);
  auto params_of = [&](int tensor) -> const AffineParams& {
    return tensor == kNetworkInput ? input_params : params[tensor];
  };
  for (int i = 0; i < n; ++i) {
    const PlannedOp& op = plan.ops[i];
    if (op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool) {
      params[i] = params_of(op.inputs[0]);  // TFLite: pools keep their input's parameters
    } else {
      if (!std::isfinite(ranges[i].min) || !std::isfinite(ranges[i].max)) {
        return absl::InvalidArgumentError(
            absl::StrCat(op.name, ": calibrated range is not finite (diverged training?)"));
      }
      params[i] = ChooseActivationParams(ranges[i].min, ranges[i].max);
    }
  }

  v1::QuantizedModel model;
  model.set_input(kInputTensorName);
  model.set_output(plan.ops.back().name);
  AddActivation(model, kInputTensorName, plan.input, false, input_params);
  for (int i = 0; i < n; ++i) {
    const PlannedOp& op = plan.ops[i];
    AddActivation(model, op.name, op.output, op.kind == OpKind::kDense, params[i]);
  }

  bool memory_optimal = false;
  for (int i : ExecutionOrder(plan, &memory_optimal)) {
    const PlannedOp& op = plan.ops[i];
    v1::QuantizedOp* q = model.add_ops();
    for (int in : op.inputs) q->add_inputs(TensorName(plan, in));
    q->set_output(op.name);
    q->set_kernel_height(op.kernel_height);
    q->set_kernel_width(op.kernel_width);
    q->set_stride_height(op.stride_height);
    q->set_stride_width(op.stride_width);
    const AffineParams& out = params[i];
    ActivationRange clamp;
    switch (op.kind) {
      case OpKind::kMaxPool:
        q->set_type(v1::QUANTIZED_OP_TYPE_MAX_POOL);
        break;
      case OpKind::kAvgPool:
        q->set_type(v1::QUANTIZED_OP_TYPE_AVG_POOL);
        break;
      case OpKind::kAdd: {
        q->set_type(v1::QUANTIZED_OP_TYPE_ADD);
        q->set_input_left_shift(kAddLeftShift);
        double max_scale = 0;
        for (int in : op.inputs) max_scale = std::max<double>(max_scale, params_of(in).scale);
        const double twice_max = 2 * max_scale;
        for (int in : op.inputs) {
          const QuantizedMultiplier m = QuantizeMultiplier(params_of(in).scale / twice_max);
          q->add_input_multiplier(m.multiplier);
          q->add_input_shift(m.shift);
        }
        SetMultiplier(twice_max / (std::ldexp(1.0, kAddLeftShift) * out.scale), q);
        clamp = FusedActivationRange(op.relu, out.zero_point);
        break;
      }
      case OpKind::kConv2D:
      case OpKind::kDepthwiseConv2D:
      case OpKind::kDense: {
        q->set_type(op.kind == OpKind::kConv2D            ? v1::QUANTIZED_OP_TYPE_CONV2D
                    : op.kind == OpKind::kDepthwiseConv2D ? v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D
                                                          : v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED);
        q->set_fused_relu(op.relu);
        const FloatLayer& layer = net.layers[i];
        const Shape& in_shape = plan.shape_of(op.inputs[0]);
        const int64_t channels = op.output.channels;
        std::vector<int64_t> shape;
        int dim = 0;
        switch (op.kind) {
          case OpKind::kConv2D:
            shape = {channels, op.kernel_height, op.kernel_width, in_shape.channels};
            break;
          case OpKind::kDepthwiseConv2D:
            shape = {1, op.kernel_height, op.kernel_width, channels};
            dim = 3;
            break;
          default:
            shape = {channels, in_shape.elements()};
            break;
        }
        int64_t size = 1;
        for (int64_t d : shape) size *= d;
        if (static_cast<int64_t>(layer.weights.size()) != size ||
            static_cast<int64_t>(layer.bias.size()) != channels) {
          return absl::InvalidArgumentError(
              absl::StrCat(op.name, ": weights have ", layer.weights.size(), " values, expected ",
                           size, "; bias ", layer.bias.size(), ", expected ", channels));
        }
        std::vector<float> max_abs(channels, 0.0f);
        for (int64_t k = 0; k < size; ++k) {
          float& m = max_abs[OutputChannelOf(op.kind, k, size, channels)];
          m = std::max(m, std::abs(layer.weights[k]));
        }
        v1::QuantizedTensor* w = model.add_tensors();
        w->set_name(op.name + "/weights");
        for (int64_t d : shape) w->add_shape(static_cast<int32_t>(d));
        w->set_quantized_dimension(dim);
        std::vector<float> scale(channels);
        for (int64_t c = 0; c < channels; ++c) {
          if (!std::isfinite(max_abs[c])) {
            return absl::InvalidArgumentError(absl::StrCat(op.name, ": non-finite weights"));
          }
          scale[c] = SymmetricWeightScale(max_abs[c]);
          w->add_scale(scale[c]);
          w->add_zero_point(0);
        }
        std::string data(size, '\0');
        for (int64_t k = 0; k < size; ++k) {
          data[k] = static_cast<char>(QuantizeValue(
              layer.weights[k], scale[OutputChannelOf(op.kind, k, size, channels)], 0, -127, 127));
        }
        w->set_int8_data(std::move(data));
        v1::QuantizedTensor* b = model.add_tensors();
        b->set_name(op.name + "/bias");
        b->add_shape(static_cast<int32_t>(channels));
        const double in_scale = params_of(op.inputs[0]).scale;
        for (int64_t c = 0; c < channels; ++c) {
          const double bias_scale = in_scale * static_cast<double>(scale[c]);
          b->add_scale(static_cast<float>(bias_scale));
          b->add_zero_point(0);
          b->add_int32_data(QuantizeValue(layer.bias[c], bias_scale, 0,
                                          std::numeric_limits<int32_t>::min(),
                                          std::numeric_limits<int32_t>::max()));
          SetMultiplier(bias_scale / out.scale, q);
        }
        q->add_inputs(w->name());
        q->add_inputs(b->name());
        clamp = FusedActivationRange(op.relu, out.zero_point);
        break;
      }
    }
    q->set_activation_min(clamp.min);
    q->set_activation_max(clamp.max);
  }
  if (info != nullptr) info->memory_optimal_order = memory_optimal;
  // TensorFlow Lite's ADD takes two inputs: a join of more is stored as a
  // chain, so that every export computes exactly these numbers.
  return SplitWideAdds(model);
}

}  // namespace unas::int8
