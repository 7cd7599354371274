// The four optimizers of the job spec with the update rules of Keras and
// TensorFlow Addons (docs/unas_original.md §7.1), written out rather than taken
// from torch::optim, whose SGD momentum and decoupled decay differ:
//
//   SGD    g' = g + wd * w                       (weight decay as L2 in the gradient)
//          v  = momentum * v - lr * g';  w = w + v
//   SGDW   w  = w - wd * w                       (decoupled, not scaled by lr)
//          v  = momentum * v - lr * g;   w = w + v
//   ADAM   g' = g + wd * w
//          t  = t + 1
//          m  = b1 * m + (1 - b1) * g';  s = b2 * s + (1 - b2) * g'^2
//          w  = w - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(s) + eps)
//   ADAMW  w  = w - wd * w, then the ADAM step with g' = g
//
// with Keras's b1 = 0.9, b2 = 0.999, eps = 1e-7. g is the gradient computed
// at the weights before the step. Every trainable parameter is updated and
// decayed (biases and batch-norm scales included, as TFA does).
#ifndef UNAS_WORKER_OPTIMIZER_H_
#define UNAS_WORKER_OPTIMIZER_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "unas/v1/job_spec.pb.h"

namespace unas::worker {

inline constexpr double kAdamBeta1 = 0.9;
inline constexpr double kAdamBeta2 = 0.999;
inline constexpr double kAdamEpsilon = 1e-7;

class Optimizer {
 public:
  // `parameters` are updated in place; their .grad() is read by Step().
  Optimizer(std::vector<at::Tensor> parameters, const v1::OptimizerSpec& spec);

  // Clears the gradients (sets them to undefined).
  void ZeroGrad();
  // One update with learning rate `learning_rate`; parameters without a
  // gradient are left alone (and not decayed).
  void Step(double learning_rate);

  int64_t steps() const { return steps_; }

 private:
  std::vector<at::Tensor> parameters_;
  v1::OptimizerKind kind_;
  double momentum_;
  double weight_decay_;
  std::vector<at::Tensor> first_;   // SGD velocity / Adam m
  std::vector<at::Tensor> second_;  // Adam s
  int64_t steps_ = 0;
};

}  // namespace unas::worker

#endif  // UNAS_WORKER_OPTIMIZER_H_
