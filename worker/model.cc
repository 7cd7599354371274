#include "worker/model.h"

#include <torch/nn/functional/padding.h>
#include <torch/nn/init.h>

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace unas::worker {
namespace {

// Glorot uniform with explicit fans: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)).
void GlorotUniform(torch::Tensor& w, double fan_in, double fan_out) {
  const double limit = std::sqrt(6.0 / (fan_in + fan_out));
  torch::nn::init::uniform_(w, -limit, limit);
}

}  // namespace

Shape PlanShapeOf(const torch::Tensor& t) {
  if (t.dim() == 4) return Shape{t.size(2), t.size(3), t.size(1)};
  return Shape{1, 1, t.size(1)};
}

std::string ModuleName(const std::string& plan_name) {
  std::string out;
  out.reserve(plan_name.size());
  for (char c : plan_name) {
    if (c == '.' || c == '[') {
      out.push_back('_');
    } else if (c != ']') {
      out.push_back(c);
    }
  }
  return out;
}

UnasNetImpl::UnasNetImpl(NetworkPlan plan) : plan_(std::move(plan)) {
  const int n = static_cast<int>(plan_.ops.size());
  layers_.resize(n);
  std::vector<int> last_reader(n, -1);
  for (int i = 0; i < n; ++i) {
    const PlannedOp& op = plan_.ops[i];
    for (int in : op.inputs) {
      if (in != kNetworkInput) last_reader[in] = i;
    }
    const Shape& in_shape = plan_.shape_of(op.inputs.at(0));
    const std::string name = ModuleName(op.name);
    Layer& layer = layers_[i];
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kDepthwiseConv2D: {
        const bool depthwise = op.kind == OpKind::kDepthwiseConv2D;
        auto options = torch::nn::Conv2dOptions(in_shape.channels, op.output.channels,
                                                {op.kernel_height, op.kernel_width})
                           .stride({op.stride_height, op.stride_width})
                           .padding(0)
                           .bias(true)
                           .groups(depthwise ? in_shape.channels : 1);
        layer.conv = register_module(name, torch::nn::Conv2d(options));
        if (op.batch_norm) {
          layer.bn = register_module(
              name + "_bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(op.output.channels)
                                                       .eps(kBatchNormEpsilon)
                                                       .momentum(kBatchNormMomentum)));
        }
        break;
      }
      case OpKind::kDense:
        layer.linear =
            register_module(name, torch::nn::Linear(in_shape.elements(), op.output.channels));
        break;
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
      case OpKind::kAdd:
        break;
    }
  }
  release_after_.resize(n);
  for (int t = 0; t < n - 1; ++t) {
    if (last_reader[t] >= 0) release_after_[last_reader[t]].push_back(t);
  }
  ResetParameters();
}

void UnasNetImpl::ResetParameters() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const PlannedOp& op = plan_.ops[i];
    Layer& layer = layers_[i];
    const Shape& in = plan_.shape_of(op.inputs.at(0));
    if (layer.conv) {
      const double receptive = static_cast<double>(op.kernel_height) * op.kernel_width;
      const bool depthwise = op.kind == OpKind::kDepthwiseConv2D;
      // Keras: kernel (kh, kw, in, out) or (kh, kw, in, 1) for depthwise.
      const double fan_in = receptive * static_cast<double>(in.channels);
      const double fan_out =
          receptive * (depthwise ? 1.0 : static_cast<double>(op.output.channels));
      GlorotUniform(layer.conv->weight, fan_in, fan_out);
      layer.conv->bias.zero_();
    }
    if (layer.bn) {
      layer.bn->weight.fill_(1.0);
      layer.bn->bias.zero_();
      layer.bn->running_mean.zero_();
      layer.bn->running_var.fill_(1.0);
      layer.bn->num_batches_tracked.zero_();
    }
    if (layer.linear) {
      GlorotUniform(layer.linear->weight, static_cast<double>(in.elements()),
                    static_cast<double>(op.output.channels));
      layer.linear->bias.zero_();
    }
  }
}

void UnasNetImpl::SetMemoryFormat(at::MemoryFormat format) {
  torch::NoGradGuard no_grad;
  for (Layer& layer : layers_) {
    if (!layer.conv) continue;
    torch::Tensor& w = layer.conv->weight;
    if (!w.is_contiguous(format)) w.set_data(w.contiguous(format));
  }
}

torch::Tensor UnasNetImpl::forward(torch::Tensor input) { return Run(std::move(input), nullptr); }

torch::Tensor UnasNetImpl::ForwardKeepingOutputs(torch::Tensor input,
                                                 std::vector<torch::Tensor>* outputs) {
  torch::Tensor y = Run(std::move(input), outputs);
  return y;
}

torch::Tensor UnasNetImpl::Run(torch::Tensor input, std::vector<torch::Tensor>* keep) {
  const int n = static_cast<int>(plan_.ops.size());
  std::vector<torch::Tensor> out(n);
  auto tensor = [&](int index) -> const torch::Tensor& {
    return index == kNetworkInput ? input : out[index];
  };
  for (int i = 0; i < n; ++i) {
    const PlannedOp& op = plan_.ops[i];
    Layer& layer = layers_[i];
    torch::Tensor y;
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kDepthwiseConv2D:
        y = layer.conv->forward(tensor(op.inputs[0]));
        if (layer.bn) y = layer.bn->forward(y);
        if (op.relu) y = torch::relu(y);
        break;
      case OpKind::kMaxPool:
        y = torch::max_pool2d(tensor(op.inputs[0]), {op.kernel_height, op.kernel_width},
                              {op.stride_height, op.stride_width});
        break;
      case OpKind::kAvgPool:
        y = torch::avg_pool2d(tensor(op.inputs[0]), {op.kernel_height, op.kernel_width},
                              {op.stride_height, op.stride_width});
        break;
      case OpKind::kAdd: {
        for (int in : op.inputs) {
          torch::Tensor x = tensor(in);
          const int64_t dc = op.output.channels - x.size(1);
          const int64_t dh = op.output.height - x.size(2);
          const int64_t dw = op.output.width - x.size(3);
          if (dc != 0 || dh != 0 || dw != 0) {
            // Zero padding at the bottom / right / after the last channel.
            x = torch::constant_pad_nd(x, {0, dw, 0, dh, 0, dc}, 0);
          }
          y = y.defined() ? y + x : x;
        }
        break;
      }
      case OpKind::kDense: {
        torch::Tensor x = tensor(op.inputs[0]);
        // NHWC flattening, as Keras and TFLite lay a dense kernel out.
        if (x.dim() == 4) x = x.permute({0, 2, 3, 1}).flatten(1);
        if (op.dropout > 0) x = torch::dropout(x, op.dropout, is_training());
        y = layer.linear->forward(x);
        if (op.relu) y = torch::relu(y);
        break;
      }
    }
    out[i] = std::move(y);
    if (keep == nullptr) {
      for (int t : release_after_[i]) out[t].reset();
    }
  }
  if (keep != nullptr) {
    *keep = out;
  }
  return out[n - 1];
}

std::vector<PrunableLayer> UnasNetImpl::prunable_layers() const {
  std::vector<PrunableLayer> result;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const PlannedOp& op = plan_.ops[i];
    if (!op.prunable) continue;
    const Layer& layer = layers_[i];
    PrunableLayer p;
    p.name = op.name;
    p.plan_index = static_cast<int>(i);
    p.kind = op.kind;
    p.weight = layer.conv ? layer.conv->weight : layer.linear->weight;
    p.bias = layer.conv ? layer.conv->bias : layer.linear->bias;
    p.channel_dim = 0;
    p.reads_network_input = op.inputs.at(0) == kNetworkInput;
    result.push_back(std::move(p));
  }
  return result;
}

std::vector<torch::nn::BatchNorm2d> UnasNetImpl::batch_norms() const {
  std::vector<torch::nn::BatchNorm2d> result;
  for (const Layer& layer : layers_) {
    if (layer.bn) result.push_back(layer.bn);
  }
  return result;
}

std::vector<torch::Tensor> UnasNetImpl::kernels() const {
  std::vector<torch::Tensor> result;
  for (const Layer& layer : layers_) {
    if (layer.conv) result.push_back(layer.conv->weight);
    if (layer.linear) result.push_back(layer.linear->weight);
  }
  return result;
}

int64_t UnasNetImpl::weight_count() const {
  int64_t total = 0;
  for (const Layer& layer : layers_) {
    if (layer.conv) total += layer.conv->weight.numel() + layer.conv->bias.numel();
    if (layer.linear) total += layer.linear->weight.numel() + layer.linear->bias.numel();
  }
  return total;
}

absl::StatusOr<UnasNet> BuildNetwork(const v1::Architecture& arch, const DataShape& data,
                                     const PlanOptions& options) {
  UNAS_ASSIGN_OR_RETURN(NetworkPlan plan, PlanNetwork(arch, data, options));
  try {
    return UnasNet(std::move(plan));
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("building the network failed: ", e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("building the network: out of memory");
  }
}

}  // namespace unas::worker
