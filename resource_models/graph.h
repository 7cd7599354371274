// A framework-independent DAG of tensors and operators: the input of every resource metric.
//
// Build it with the Add* methods, which infer and validate each output shape and return a clear
// error for an impossible one, then mark the outputs:
//
//   Graph g;
//   absl::StatusOr<TensorId> x = g.AddInput("input", {1, 28, 28, 1});
//   absl::StatusOr<TensorId> y = g.AddConv2D("conv0", *x, {.filters = 8, .kernel = 3});
//   ...
//   absl::Status s = g.MarkOutput(*y);
//
// Tensors are NHWC (or (N, D) after a Dense) with the batch as the first dimension. Every tensor
// records its producer and all of its consumers (activations included, unlike the original, whose
// Add-reuse rule therefore could not see whether an input was still needed). Cycles cannot be
// built: an operator may only read tensors that already exist.

#ifndef UNAS_RESOURCE_MODELS_GRAPH_H_
#define UNAS_RESOURCE_MODELS_GRAPH_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "resource_models/ops.h"

namespace unas::rm {

using TensorId = int32_t;
using OpId = int32_t;
inline constexpr int32_t kNone = -1;

using Shape = std::vector<int64_t>;

// "1x28x28x1".
std::string ShapeToString(const Shape& shape);
// Product of the dimensions (1 for a scalar shape).
int64_t NumElements(const Shape& shape);

struct Tensor {
  std::string name;
  Shape shape;
  int64_t element_size = 1;     // bytes per element
  bool is_constant = false;     // weights and biases (they live in flash)
  OpId producer = kNone;        // the Input op for a model input; kNone for constants
  std::vector<OpId> consumers;  // every op that reads it, once per op, in insertion order
  // Number of non-zero elements of a pruned kernel; unset for dense tensors.
  std::optional<int64_t> sparse_size;

  int64_t num_elements() const { return NumElements(shape); }
  int64_t bytes() const { return num_elements() * element_size; }
};

struct Operator {
  std::string name;
  OpKind kind = OpKind::kInput;
  std::vector<TensorId> inputs;  // activation inputs, in order
  TensorId kernel = kNone;       // weight tensor of Conv2D, DepthwiseConv2D and Dense
  TensorId bias = kNone;         // bias tensor, when the op has one
  TensorId output = kNone;
  std::variant<std::monostate, Conv2DParams, DepthwiseConv2DParams, PoolParams, DenseParams,
               AddMode>
      params;
};

class Graph {
 public:
  // element_size: bytes per activation/weight element (1 for the int8/uint8 models μNAS targets).
  explicit Graph(int64_t element_size = 1) : element_size_(element_size) {}

  // A model input with its full shape, batch included, e.g. {1, 28, 28, 1}.
  absl::StatusOr<TensorId> AddInput(std::string_view name, const Shape& shape);
  // Input (N, H, W, C) -> (N, floor((H - k) / s) + 1, ..., filters); kernel (k, k, C, filters).
  absl::StatusOr<TensorId> AddConv2D(std::string_view name, TensorId input,
                                     const Conv2DParams& params);
  // Input (N, H, W, C) -> (N, floor((H - k) / s) + 1, ..., C); kernel (k, k, C, 1).
  absl::StatusOr<TensorId> AddDepthwiseConv2D(std::string_view name, TensorId input,
                                              const DepthwiseConv2DParams& params);
  // Input (N, H, W, C) -> (N, windows along H, windows along W, C); see PoolRounding.
  absl::StatusOr<TensorId> AddPool(std::string_view name, TensorId input, const PoolParams& params);
  // Input (N, ...) -> (N, units); kernel (D, units) with D the product of the non-batch dims.
  absl::StatusOr<TensorId> AddDense(std::string_view name, TensorId input,
                                    const DenseParams& params);
  // Sum of inputs of equal rank; see AddMode. An input may appear more than once.
  absl::StatusOr<TensorId> AddAdd(std::string_view name, std::span<const TensorId> inputs,
                                  AddMode mode = AddMode::kZeroPadToMax);
  absl::StatusOr<TensorId> AddAdd(std::string_view name, std::initializer_list<TensorId> inputs,
                                  AddMode mode = AddMode::kZeroPadToMax) {
    return AddAdd(name, std::span<const TensorId>(inputs.begin(), inputs.size()), mode);
  }

  // Declares a model output. An output stays live until the end of the network.
  absl::Status MarkOutput(TensorId tensor);

  // Records the number of non-zero weights of a pruned kernel (0 <= nonzeros <= elements).
  absl::Status SetSparseSize(TensorId kernel, int64_t nonzeros);
  // Same, addressed by the op that owns the kernel (Conv2D, DepthwiseConv2D or Dense).
  absl::Status SetKernelSparseSize(OpId op, int64_t nonzeros);
  absl::Status ClearSparseSize(TensorId kernel);

  // Checks what the builder cannot check op by op: at least one output, and every operator's
  // output either consumed or marked as an output (a dangling op is almost always a bug in the
  // code that built the graph, and it would make the execution order ill-defined).
  absl::Status Validate() const;

  int64_t element_size() const { return element_size_; }
  int num_tensors() const { return static_cast<int>(tensors_.size()); }
  int num_ops() const { return static_cast<int>(ops_.size()); }
  const Tensor& tensor(TensorId id) const { return tensors_[id]; }
  const Operator& op(OpId id) const { return ops_[id]; }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  const std::vector<Operator>& ops() const { return ops_; }
  const std::vector<TensorId>& inputs() const { return inputs_; }
  const std::vector<TensorId>& outputs() const { return outputs_; }
  bool is_output(TensorId id) const;

  absl::StatusOr<TensorId> FindTensor(std::string_view name) const;
  absl::StatusOr<OpId> FindOp(std::string_view name) const;

 private:
  absl::Status CheckNewOpName(std::string_view name) const;
  absl::Status CheckActivation(std::string_view op_name, TensorId id) const;
  TensorId NewTensor(std::string name, Shape shape, bool is_constant, OpId producer);
  OpId NewOp(std::string_view name, OpKind kind, std::vector<TensorId> inputs);

  int64_t element_size_;
  std::vector<Tensor> tensors_;
  std::vector<Operator> ops_;
  std::vector<TensorId> inputs_;
  std::vector<TensorId> outputs_;
  absl::flat_hash_map<std::string, TensorId> tensor_by_name_;
  absl::flat_hash_map<std::string, OpId> op_by_name_;
};

}  // namespace unas::rm

#endif  // UNAS_RESOURCE_MODELS_GRAPH_H_
