#include "worker/pruning/masks.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace unas::worker {

double GlobalQuantile(const std::vector<at::Tensor>& values, double q) {
  std::vector<at::Tensor> flat;
  flat.reserve(values.size());
  for (const at::Tensor& v : values) flat.push_back(v.detach().flatten().to(at::kDouble));
  const at::Tensor sorted = std::get<0>(at::cat(flat).sort());
  const int64_t n = sorted.numel();
  if (n == 0) return 0;
  const double position = std::clamp(q, 0.0, 1.0) * static_cast<double>(n - 1);
  const int64_t lo = static_cast<int64_t>(std::floor(position));
  const int64_t hi = std::min<int64_t>(lo + 1, n - 1);
  const double low = sorted[lo].item<double>();
  const double high = sorted[hi].item<double>();
  return low + (high - low) * (position - static_cast<double>(lo));
}

std::vector<at::Tensor> MagnitudeMasks(const std::vector<at::Tensor>& kernels, double sparsity) {
  std::vector<at::Tensor> saliency;
  saliency.reserve(kernels.size());
  for (const at::Tensor& k : kernels) saliency.push_back(k.detach().abs());
  const double threshold = GlobalQuantile(saliency, sparsity);
  std::vector<at::Tensor> masks;
  masks.reserve(kernels.size());
  for (size_t i = 0; i < kernels.size(); ++i) {
    masks.push_back(saliency[i].to(at::kDouble).ge(threshold).to(kernels[i].scalar_type()));
  }
  return masks;
}

std::vector<at::Tensor> ChannelNormMasks(const std::vector<at::Tensor>& kernels, double sparsity) {
  std::vector<at::Tensor> norms;
  norms.reserve(kernels.size());
  for (const at::Tensor& k : kernels) {
    norms.push_back(k.detach().flatten(1).to(at::kDouble).pow(2).sum(1).sqrt());
  }
  const double threshold = GlobalQuantile(norms, sparsity);
  std::vector<at::Tensor> masks;
  masks.reserve(kernels.size());
  for (size_t i = 0; i < kernels.size(); ++i) {
    at::Tensor mask = norms[i].ge(threshold).to(kernels[i].scalar_type());
    // A layer keeps at least its strongest channel (see the header).
    if (mask.sum().item<double>() == 0) mask.index_put_({norms[i].argmax()}, 1);
    masks.push_back(mask);
  }
  return masks;
}

}  // namespace unas::worker
