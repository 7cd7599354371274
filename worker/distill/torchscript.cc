#include "worker/distill/torchscript.h"

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace unas::worker {
namespace {

std::shared_ptr<torch::nn::Module> Child(torch::nn::Module& net, const std::string& name) {
  const auto* child = net.named_children().find(name);
  return child == nullptr ? nullptr : *child;
}

std::string Tensor(int index) {
  return index == kNetworkInput ? std::string("x") : absl::StrCat("t", index);
}

}  // namespace

absl::StatusOr<torch::jit::Module> ToTorchScript(UnasNetImpl& net) {
  const NetworkPlan& plan = net.plan();
  torch::jit::Module module("__torch__.unas.UnasNet");
  std::string src = "def forward(self, x: Tensor) -> Tensor:\n";
  auto add_weight = [&](const std::string& name, const at::Tensor& value, bool buffer) {
    module.register_parameter(name, value.detach().clone(), buffer);
  };
  try {
    for (size_t i = 0; i < plan.ops.size(); ++i) {
      const PlannedOp& op = plan.ops[i];
      const std::string out = Tensor(static_cast<int>(i));
      const std::string in = Tensor(op.inputs.at(0));
      const std::string p = absl::StrCat("p", i, "_");
      switch (op.kind) {
        case OpKind::kConv2D:
        case OpKind::kDepthwiseConv2D: {
          auto* conv = Child(net, ModuleName(op.name))->as<torch::nn::Conv2dImpl>();
          add_weight(p + "w", conv->weight, false);
          add_weight(p + "b", conv->bias, false);
          const int64_t groups =
              op.kind == OpKind::kDepthwiseConv2D ? plan.shape_of(op.inputs[0]).channels : 1;
          absl::StrAppend(&src, "    ", out, " = torch.conv2d(", in, ", self.", p, "w, self.", p,
                          "b, [", op.stride_height, ", ", op.stride_width, "], [0, 0], [1, 1], ",
                          groups, ")\n");
          if (op.batch_norm) {
            auto* bn = Child(net, ModuleName(op.name) + "_bn")->as<torch::nn::BatchNorm2dImpl>();
            add_weight(p + "gamma", bn->weight, false);
            add_weight(p + "beta", bn->bias, false);
            add_weight(p + "mean", bn->running_mean, true);
            add_weight(p + "var", bn->running_var, true);
            absl::StrAppend(&src, "    ", out, " = torch.batch_norm(", out, ", self.", p,
                            "gamma, self.", p, "beta, self.", p, "mean, self.", p,
                            "var, False, 0.0, ", kBatchNormEpsilon, ", False)\n");
          }
          if (op.relu) absl::StrAppend(&src, "    ", out, " = torch.relu(", out, ")\n");
          break;
        }
        case OpKind::kMaxPool:
        case OpKind::kAvgPool:
          absl::StrAppend(&src, "    ", out, " = torch.",
                          op.kind == OpKind::kMaxPool ? "max_pool2d" : "avg_pool2d", "(", in, ", [",
                          op.kernel_height, ", ", op.kernel_width, "], [", op.stride_height, ", ",
                          op.stride_width, "])\n");
          break;
        case OpKind::kAdd: {
          std::vector<std::string> terms;
          for (int input : op.inputs) {
            const Shape& s = plan.shape_of(input);
            const int64_t dc = op.output.channels - s.channels;
            const int64_t dh = op.output.height - s.height;
            const int64_t dw = op.output.width - s.width;
            terms.push_back(dc == 0 && dh == 0 && dw == 0
                                ? Tensor(input)
                                : absl::StrCat("torch.constant_pad_nd(", Tensor(input), ", [0, ",
                                               dw, ", 0, ", dh, ", 0, ", dc, "], 0.0)"));
          }
          absl::StrAppend(&src, "    ", out, " = ", absl::StrJoin(terms, " + "), "\n");
          break;
        }
        case OpKind::kDense: {
          auto* linear = Child(net, ModuleName(op.name))->as<torch::nn::LinearImpl>();
          add_weight(p + "w", linear->weight, false);
          add_weight(p + "b", linear->bias, false);
          // A convolutional input is flattened in NHWC order, as UnasNet does.
          const bool spatial = op.inputs[0] == kNetworkInput ||
                               plan.ops[static_cast<size_t>(op.inputs[0])].kind != OpKind::kDense;
          const std::string flat =
              spatial ? absl::StrCat("torch.flatten(", in, ".permute([0, 2, 3, 1]), 1)") : in;
          absl::StrAppend(&src, "    ", out, " = torch.linear(", flat, ", self.", p, "w, self.", p,
                          "b)\n");
          if (op.relu) absl::StrAppend(&src, "    ", out, " = torch.relu(", out, ")\n");
          break;
        }
      }
    }
    absl::StrAppend(&src, "    return ", Tensor(static_cast<int>(plan.ops.size()) - 1), "\n");
    module.define(src);
    module.eval();
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("writing the network as TorchScript: ", e.what_without_backtrace()));
  }
  return module;
}

absl::Status SaveTorchScript(UnasNetImpl& net, const std::string& path) {
  absl::StatusOr<torch::jit::Module> module = ToTorchScript(net);
  if (!module.ok()) return module.status();
  try {
    module->save(path);
  } catch (const c10::Error& e) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": cannot write the TorchScript module: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

}  // namespace unas::worker
