// A trained network as a TorchScript module, e.g. to serve as a distillation
// teacher (unas-train --torchscript-out). The module's forward(x) computes
// what UnasNet::forward computes in evaluation mode (NCHW float input,
// logits) from copies of the weights, and loads with torch::jit::load in C++
// or torch.jit.load in Python. LibTorch C++ cannot trace a module, so the
// TorchScript source is written out op by op from the network's plan.
#ifndef UNAS_WORKER_DISTILL_TORCHSCRIPT_H_
#define UNAS_WORKER_DISTILL_TORCHSCRIPT_H_

#include <torch/csrc/jit/api/module.h>

#include <string>

#include "absl/status/statusor.h"
#include "worker/model.h"

namespace unas::worker {

absl::StatusOr<torch::jit::Module> ToTorchScript(UnasNetImpl& net);

// ToTorchScript, saved to `path` (torch::jit::Module::save).
absl::Status SaveTorchScript(UnasNetImpl& net, const std::string& path);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DISTILL_TORCHSCRIPT_H_
