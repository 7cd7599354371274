// DPF mask computation (docs/unas_original.md §8): one global threshold, the
// s-quantile of the saliencies of every pruned layer together.
#ifndef UNAS_WORKER_PRUNING_MASKS_H_
#define UNAS_WORKER_PRUNING_MASKS_H_

#include <ATen/core/Tensor.h>

#include <vector>

namespace unas::worker {

// numpy.quantile(concatenation of `values`, q) with linear interpolation:
// the sorted values v, position q * (N - 1), interpolated between its two
// neighbours. `values` are on one device; q in [0, 1].
double GlobalQuantile(const std::vector<at::Tensor>& values, double q);

// Unstructured: |w| >= the global sparsity-quantile of |w| over all `kernels`.
// Float masks shaped like each kernel.
std::vector<at::Tensor> MagnitudeMasks(const std::vector<at::Tensor>& kernels, double sparsity);

// Structured: the L2 norm of each output channel's slice (dimension 0 of a
// LibTorch weight; Keras reshapes its kernel to (-1, C_out) for the same
// slices) >= the global sparsity-quantile of all channel norms. Float masks
// of shape (out channels). A layer whose channels all fall below the
// threshold keeps its strongest one: the original let the whole layer go,
// which leaves a network computing a constant, while the pruned resource
// view counts one channel for it anyway.
std::vector<at::Tensor> ChannelNormMasks(const std::vector<at::Tensor>& kernels, double sparsity);

}  // namespace unas::worker

#endif  // UNAS_WORKER_PRUNING_MASKS_H_
