// Per-operator shape inference and costs (docs/unas_original.md §4.2).

#ifndef UNAS_RESOURCE_MODELS_OPERATORS_H_
#define UNAS_RESOURCE_MODELS_OPERATORS_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "resource_models/graph.h"
#include "resource_models/ops.h"

namespace unas::rm {

// Output shapes. `name` only goes into error messages ("conv 'c1': kernel 5 larger than input
// 3x3"). Inputs must be NHWC (rank 4) for the spatial ops.
absl::StatusOr<Shape> Conv2DOutputShape(std::string_view name, const Shape& input,
                                        const Conv2DParams& params);
absl::StatusOr<Shape> DepthwiseConv2DOutputShape(std::string_view name, const Shape& input,
                                                 const DepthwiseConv2DParams& params);
absl::StatusOr<Shape> PoolOutputShape(std::string_view name, const Shape& input,
                                      const PoolParams& params);
absl::StatusOr<Shape> DenseOutputShape(std::string_view name, const Shape& input,
                                       const DenseParams& params);
absl::StatusOr<Shape> AddOutputShape(std::string_view name, std::span<const Shape> inputs,
                                     AddMode mode);

// Work of one operator, as the original's latency model counts it.
struct OpCost {
  int64_t macs = 0;     // multiply-accumulates of Conv2D, DepthwiseConv2D and Dense only
  int64_t compute = 0;  // the original's "compute": macs, pooling window ops, Add element ops
  int64_t loads = 0;    // the original's memory accesses
  int64_t params = 0;   // dense weight + bias element count
};

OpCost ComputeOpCost(const Graph& graph, OpId op);

}  // namespace unas::rm

#endif  // UNAS_RESOURCE_MODELS_OPERATORS_H_
