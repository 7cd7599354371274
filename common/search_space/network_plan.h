// The concrete network an architecture describes for given data: every
// operator with its resolved kernel, window, stride, channels and output
// shape (docs/unas_original.md §1.4, with floor pooling, see docs/search_space.md).
//
// This is the single place where the assembly rules live. The resource graph
// (resource_graph.h) and the trainable LibTorch module are both built from a
// NetworkPlan, so the two views of one network cannot disagree on a shape or
// a parameter count.
#ifndef UNAS_COMMON_SEARCH_SPACE_NETWORK_PLAN_H_
#define UNAS_COMMON_SEARCH_SPACE_NETWORK_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/space.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "unas/v1/architecture.pb.h"
#include "unas/v1/evaluation.pb.h"

namespace unas {

// Height x width x channels; a dense layer's output is 1 x 1 x units.
struct Shape {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  int64_t elements() const { return height * width * channels; }
  friend bool operator==(const Shape&, const Shape&) = default;
};

enum class OpKind {
  kConv2D,           // also the 1x1 layers (kernel 1, stride 1)
  kDepthwiseConv2D,  // depth multiplier 1
  kMaxPool,
  kAvgPool,
  kAdd,    // sums its inputs after zero-padding each (bottom/right/channels) to the max shape
  kDense,  // flattens a 3-D input first
};

const char* OpKindName(OpKind kind);

// Index of the network input in PlannedOp::inputs.
inline constexpr int kNetworkInput = -1;

// The largest tensor or kernel (in elements) a plan accepts.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 31;

struct PlannedOp {
  OpKind kind = OpKind::kConv2D;
  // Unique. Layers of the architecture are named by their path in it
  // ("conv_blocks[2].layers[0]", "conv_blocks[2].branch_projection",
  // "dense_blocks[1]", "layers[3]"; these are the names LayerPruning uses),
  // the others by where they sit ("conv_blocks[2].layers[0].prepool",
  // "conv_blocks[3].input_pool[1]", "conv_blocks[3].input_add",
  // "conv_output_add", "pooling", "output").
  std::string name;
  std::vector<int> inputs;  // kNetworkInput or indices of earlier ops
  Shape output;
  // Convolutions and pools: window and stride (valid padding).
  int kernel_height = 0;
  int kernel_width = 0;
  int stride_height = 0;
  int stride_width = 0;
  bool batch_norm = false;  // after the convolution
  bool relu = false;        // after the batch normalisation
  double dropout = 0.0;     // dense: dropout rate applied to its input while training
  // Weights of the op (0 for pools and adds). Biases are always present.
  int64_t kernel_elements = 0;
  int64_t bias_elements = 0;
  // Pruned view: non-zero kernel elements reported by the worker.
  std::optional<int64_t> nonzero_kernel_elements;
  // Whether LayerPruning may name this op.
  bool prunable = false;
};

struct NetworkPlan {
  Shape input;
  int num_classes = 0;
  // In a valid execution order; the last op is the output layer.
  std::vector<PlannedOp> ops;

  const Shape& shape_of(int tensor) const {
    return tensor == kNetworkInput ? input : ops[tensor].output;
  }
  int64_t parameter_count() const;
};

struct PlanOptions {
  // Dropout rate before each hidden dense layer of a CNN (the search space's).
  double dropout = 0.0;
  // The pruned view (docs/unas_original.md §4.6); null: the dense network. Each
  // entry's surviving_channels replaces the output channels of a convolution
  // (0 counts as 1) or the units of a hidden dense layer; nonzero_weights
  // becomes the op's nonzero_kernel_elements (capped at the compacted kernel
  // size). A depthwise layer keeps its channels. total_weights, when set, must
  // equal the dense kernel size: it is how a worker's network is checked
  // against ours.
  const google::protobuf::RepeatedPtrField<v1::LayerPruning>* pruning = nullptr;
};

// Builds the plan, or explains (naming the element) why the architecture
// cannot be built for this data. Checks structure (known layer types,
// positive sizes, first block not a branch), not space bounds.
absl::StatusOr<NetworkPlan> PlanNetwork(const v1::Architecture& arch, const DataShape& data,
                                        const PlanOptions& options = {});

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_NETWORK_PLAN_H_
