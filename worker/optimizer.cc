#include "worker/optimizer.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <utility>

namespace unas::worker {

Optimizer::Optimizer(std::vector<at::Tensor> parameters, const v1::OptimizerSpec& spec)
    : parameters_(std::move(parameters)),
      kind_(spec.kind() == v1::OPTIMIZER_KIND_UNSPECIFIED ? v1::OPTIMIZER_KIND_SGD : spec.kind()),
      momentum_(spec.momentum()),
      weight_decay_(spec.weight_decay()) {
  first_.resize(parameters_.size());
  second_.resize(parameters_.size());
}

void Optimizer::ZeroGrad() {
  for (at::Tensor& p : parameters_) {
    if (p.grad().defined()) p.mutable_grad().reset();
  }
}

void Optimizer::Step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const bool adam = kind_ == v1::OPTIMIZER_KIND_ADAM || kind_ == v1::OPTIMIZER_KIND_ADAMW;
  const bool decoupled = kind_ == v1::OPTIMIZER_KIND_SGDW || kind_ == v1::OPTIMIZER_KIND_ADAMW;
  const double t = static_cast<double>(steps_);
  const double adam_lr =
      lr * std::sqrt(1.0 - std::pow(kAdamBeta2, t)) / (1.0 - std::pow(kAdamBeta1, t));
  for (size_t i = 0; i < parameters_.size(); ++i) {
    at::Tensor& w = parameters_[i];
    at::Tensor g = w.grad();
    if (!g.defined()) continue;
    if (weight_decay_ != 0) {
      if (decoupled) {
        w.mul_(1.0 - weight_decay_);  // the gradient was taken before the decay
      } else {
        g = g.add(w, weight_decay_);
      }
    }
    if (adam) {
      if (!first_[i].defined()) {
        first_[i] = at::zeros_like(w);
        second_[i] = at::zeros_like(w);
      }
      first_[i].mul_(kAdamBeta1).add_(g, 1.0 - kAdamBeta1);
      second_[i].mul_(kAdamBeta2).addcmul_(g, g, 1.0 - kAdamBeta2);
      w.addcdiv_(first_[i], second_[i].sqrt().add_(kAdamEpsilon), -adam_lr);
    } else if (momentum_ != 0) {
      if (!first_[i].defined()) first_[i] = at::zeros_like(w);
      first_[i].mul_(momentum_).add_(g, -lr);
      w.add_(first_[i]);
    } else {
      w.add_(g, -lr);
    }
  }
}

}  // namespace unas::worker
