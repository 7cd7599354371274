#include "worker/pruning/compact.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace unas::worker {
namespace {

std::shared_ptr<torch::nn::Module> Child(torch::nn::Module& net, const std::string& name) {
  const auto* child = net.named_children().find(name);
  return child == nullptr ? nullptr : *child;
}

at::Tensor Indices(const std::vector<int64_t>& kept, const at::Device& device) {
  return at::tensor(kept, at::kLong).to(device);
}

// Copies `from` into `to` after checking the shapes.
absl::Status Assign(const at::Tensor& to, const at::Tensor& from, const std::string& what) {
  if (to.sizes() != from.sizes()) {
    return absl::InternalError(absl::StrCat("compacting ", what, ": the pruned plan has shape ",
                                            c10::str(to.sizes()), ", the kept channels ",
                                            c10::str(from.sizes())));
  }
  to.copy_(from);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UnasNet> CompactNetwork(UnasNetImpl& masked, const NetworkPlan& compact_plan,
                                       const std::vector<std::vector<int64_t>>& kept) {
  const NetworkPlan& plan = masked.plan();
  if (compact_plan.ops.size() != plan.ops.size() || kept.size() != plan.ops.size()) {
    return absl::InternalError(absl::StrCat("compacting: the pruned plan has ",
                                            compact_plan.ops.size(), " ops, the network ",
                                            plan.ops.size()));
  }
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const PlannedOp& a = plan.ops[i];
    const PlannedOp& b = compact_plan.ops[i];
    if (a.name != b.name || a.kind != b.kind ||
        b.output.channels != static_cast<int64_t>(kept[i].size())) {
      return absl::InternalError(absl::StrCat("compacting: op ", i, " (", a.name,
                                              ") does not match the pruned plan's ", b.name,
                                              " with ", b.output.channels, " channels"));
    }
  }
  at::Device device =
      masked.parameters().empty() ? at::Device(at::kCPU) : masked.parameters().front().device();
  UnasNet compact(compact_plan);
  compact->to(device);
  compact->eval();
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const PlannedOp& op = plan.ops[i];
    const std::string name = ModuleName(op.name);
    const int input = op.inputs.at(0);
    const Shape& in_shape = plan.shape_of(input);
    std::vector<int64_t> all_inputs(static_cast<size_t>(in_shape.channels));
    for (int64_t c = 0; c < in_shape.channels; ++c) all_inputs[static_cast<size_t>(c)] = c;
    const std::vector<int64_t>& kept_in = input == kNetworkInput ? all_inputs : kept[input];
    const at::Tensor out = Indices(kept[i], device);
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kDepthwiseConv2D: {
        auto from = Child(masked, name);
        auto to = Child(*compact, name);
        auto* src = from ? from->as<torch::nn::Conv2dImpl>() : nullptr;
        auto* dst = to ? to->as<torch::nn::Conv2dImpl>() : nullptr;
        if (src == nullptr || dst == nullptr) {
          return absl::InternalError(absl::StrCat("compacting: no convolution ", name));
        }
        at::Tensor w = src->weight.index_select(0, out);
        // A depthwise kernel (C, 1, kh, kw) has no input-channel dimension to slice.
        if (op.kind == OpKind::kConv2D) w = w.index_select(1, Indices(kept_in, device));
        absl::Status s = Assign(dst->weight, w, op.name + " kernel");
        if (s.ok()) s = Assign(dst->bias, src->bias.index_select(0, out), op.name + " bias");
        if (!s.ok()) return s;
        if (op.batch_norm) {
          auto* bn_src = Child(masked, name + "_bn")->as<torch::nn::BatchNorm2dImpl>();
          auto* bn_dst = Child(*compact, name + "_bn")->as<torch::nn::BatchNorm2dImpl>();
          for (auto [d, f] :
               {std::pair{bn_dst->weight, bn_src->weight}, std::pair{bn_dst->bias, bn_src->bias},
                std::pair{bn_dst->running_mean, bn_src->running_mean},
                std::pair{bn_dst->running_var, bn_src->running_var}}) {
            if (s = Assign(d, f.index_select(0, out), op.name + " batch normalisation"); !s.ok()) {
              return s;
            }
          }
          bn_dst->num_batches_tracked.copy_(bn_src->num_batches_tracked);
        }
        break;
      }
      case OpKind::kDense: {
        auto* src = Child(masked, name)->as<torch::nn::LinearImpl>();
        auto* dst = Child(*compact, name)->as<torch::nn::LinearImpl>();
        // NHWC flattening: input feature (h * W + w) * C + c.
        std::vector<int64_t> columns;
        columns.reserve(static_cast<size_t>(in_shape.height * in_shape.width) * kept_in.size());
        for (int64_t hw = 0; hw < in_shape.height * in_shape.width; ++hw) {
          for (int64_t c : kept_in) columns.push_back(hw * in_shape.channels + c);
        }
        at::Tensor w = src->weight.index_select(0, out).index_select(1, Indices(columns, device));
        absl::Status s = Assign(dst->weight, w, op.name + " kernel");
        if (s.ok()) s = Assign(dst->bias, src->bias.index_select(0, out), op.name + " bias");
        if (!s.ok()) return s;
        break;
      }
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
      case OpKind::kAdd:
        break;
    }
  }
  return compact;
}

}  // namespace unas::worker
