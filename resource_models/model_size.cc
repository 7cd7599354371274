#include "resource_models/model_size.h"

#include <algorithm>

namespace unas::rm {
namespace {

// Non-zero count of a kernel under `options`, or its dense element count.
int64_t KernelElements(const Tensor& kernel, const ModelSizeOptions& options) {
  if (!options.use_sparse_sizes || !kernel.sparse_size.has_value()) return kernel.num_elements();
  if (*kernel.sparse_size == 0 && options.legacy_zero_sparse_as_dense) {
    return kernel.num_elements();
  }
  return *kernel.sparse_size;
}

}  // namespace

int64_t ModelSizeUnas(const Graph& graph, const ModelSizeOptions& options) {
  int64_t bytes = 0;
  for (const Operator& op : graph.ops()) {
    if (op.kernel != kNone) bytes += KernelElements(graph.tensor(op.kernel), options);
    if (op.bias != kNone) bytes += graph.tensor(op.bias).num_elements();
  }
  return bytes * graph.element_size();
}

int64_t ModelSizeDeployed(const Graph& graph, const ModelSizeOptions& options) {
  constexpr int64_t kBiasBytes = 4;                  // int32 bias
  constexpr int64_t kQuantParamBytesPerChannel = 8;  // float32 scale + int32 zero point
  int64_t bytes = 0;
  for (const Operator& op : graph.ops()) {
    if (op.kernel == kNone) continue;
    const Tensor& kernel = graph.tensor(op.kernel);
    const int64_t dense = kernel.num_elements();
    const int64_t nonzeros = KernelElements(kernel, options);
    // A sparse kernel is stored as its non-zero values plus a one-bit-per-element occupancy
    // bitmap, but only when that beats the dense layout (a converter would pick the smaller).
    bytes += nonzeros < dense ? std::min(dense, nonzeros + (dense + 7) / 8) : dense;
    if (op.bias != kNone) bytes += kBiasBytes * graph.tensor(op.bias).num_elements();
    const int64_t out_channels = graph.tensor(op.output).shape.back();
    bytes += kQuantParamBytesPerChannel * out_channels;
  }
  return bytes;
}

int64_t ParameterCount(const Graph& graph) {
  int64_t n = 0;
  for (const Operator& op : graph.ops()) {
    if (op.kernel != kNone) n += graph.tensor(op.kernel).num_elements();
    if (op.bias != kNone) n += graph.tensor(op.bias).num_elements();
  }
  return n;
}

}  // namespace unas::rm
