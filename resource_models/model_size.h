// Model size: the bytes of weights and biases, in two accountings (docs/resource_models.md).

#ifndef UNAS_RESOURCE_MODELS_MODEL_SIZE_H_
#define UNAS_RESOURCE_MODELS_MODEL_SIZE_H_

#include <cstdint>

#include "resource_models/graph.h"

namespace unas::rm {

struct ModelSizeOptions {
  // Use the non-zero count of kernels that have a sparse size (unstructured pruning).
  bool use_sparse_sizes = true;
  // The original counts a kernel whose sparse size is 0 as dense (a Python falsy test). We count
  // it as 0 non-zeros; set this to reproduce the original's numbers.
  bool legacy_zero_sparse_as_dense = false;
};

// `unas` accounting, comparable with the paper: one byte per weight element (or per non-zero
// weight of a sparse kernel) and one byte per bias element.
int64_t ModelSizeUnas(const Graph& graph, const ModelSizeOptions& options = {});

// `deployed` accounting, what an int8 deployment stores per layer with weights:
//   kernel: 1 byte per element (int8); a sparse kernel costs
//           min(dense bytes, non-zeros + ceil(elements / 8)) — values plus a 1-bit-per-element
//           occupancy bitmap, stored only when that is smaller than the dense kernel;
//   bias:   4 bytes per element (int32);
//   quantisation parameters: 8 bytes per output channel (float32 scale + int32 zero point).
int64_t ModelSizeDeployed(const Graph& graph, const ModelSizeOptions& options = {});

// Dense number of weight and bias elements.
int64_t ParameterCount(const Graph& graph);

}  // namespace unas::rm

#endif  // UNAS_RESOURCE_MODELS_MODEL_SIZE_H_
