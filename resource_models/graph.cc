#include "resource_models/graph.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "resource_models/operators.h"
#include "resource_models/strings_internal.h"

namespace unas::rm {

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kInput:
      return "Input";
    case OpKind::kConv2D:
      return "Conv2D";
    case OpKind::kDepthwiseConv2D:
      return "DepthwiseConv2D";
    case OpKind::kPool:
      return "Pool";
    case OpKind::kDense:
      return "Dense";
    case OpKind::kAdd:
      return "Add";
  }
  return "?";
}

std::string ShapeToString(const Shape& shape) { return absl::StrJoin(shape, "x"); }

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

absl::Status Graph::CheckNewOpName(std::string_view name) const {
  if (name.empty()) return absl::InvalidArgumentError("operator name must not be empty");
  if (op_by_name_.contains(internal::Sv(name)) || tensor_by_name_.contains(internal::Sv(name))) {
    return absl::AlreadyExistsError(
        absl::StrCat("internal::Sv(name) '", internal::Sv(name), "' is already used"));
  }
  return absl::OkStatus();
}

absl::Status Graph::CheckActivation(std::string_view op_name, TensorId id) const {
  if (id < 0 || id >= num_tensors()) {
    return absl::InvalidArgumentError(
        absl::StrCat("op '", internal::Sv(op_name), "': input tensor id ", id, " does not exist"));
  }
  if (tensors_[id].is_constant) {
    return absl::InvalidArgumentError(absl::StrCat("op '", internal::Sv(op_name), "': input '",
                                                   tensors_[id].name,
                                                   "' is a weight tensor, not an activation"));
  }
  return absl::OkStatus();
}

TensorId Graph::NewTensor(std::string name, Shape shape, bool is_constant, OpId producer) {
  const TensorId id = num_tensors();
  Tensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.element_size = element_size_;
  t.is_constant = is_constant;
  t.producer = producer;
  tensor_by_name_.emplace(t.name, id);
  tensors_.push_back(std::move(t));
  return id;
}

OpId Graph::NewOp(std::string_view name, OpKind kind, std::vector<TensorId> inputs) {
  const OpId id = num_ops();
  Operator op;
  op.name = std::string(name);
  op.kind = kind;
  op.inputs = std::move(inputs);
  for (TensorId in : op.inputs) {
    std::vector<OpId>& consumers = tensors_[in].consumers;
    // An op that reads a tensor twice (x + x) is still one consumer: liveness is per op.
    if (consumers.empty() || consumers.back() != id) consumers.push_back(id);
  }
  op_by_name_.emplace(op.name, id);
  ops_.push_back(std::move(op));
  return id;
}

absl::StatusOr<TensorId> Graph::AddInput(std::string_view name, const Shape& shape) {
  if (absl::Status s = CheckNewOpName(name); !s.ok()) return s;
  if (shape.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", internal::Sv(name), "': shape is empty"));
  }
  for (int64_t d : shape) {
    if (d <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("input '", internal::Sv(name), "': dimension ",
                                                     d, " must be > 0 in shape ",
                                                     ShapeToString(shape)));
    }
  }
  const OpId op = NewOp(name, OpKind::kInput, {});
  const TensorId t = NewTensor(std::string(name), shape, /*is_constant=*/false, op);
  ops_[op].output = t;
  inputs_.push_back(t);
  return t;
}

#define RM_RETURN_IF_ERROR(expr)                       \
  do {                                                 \
    if (absl::Status _s = (expr); !_s.ok()) return _s; \
  } while (0)

absl::StatusOr<TensorId> Graph::AddConv2D(std::string_view name, TensorId input,
                                          const Conv2DParams& params) {
  RM_RETURN_IF_ERROR(CheckNewOpName(name));
  RM_RETURN_IF_ERROR(CheckActivation(name, input));
  absl::StatusOr<Shape> out = Conv2DOutputShape(name, tensors_[input].shape, params);
  if (!out.ok()) return out.status();
  const int64_t c = tensors_[input].shape[3];
  const OpId op = NewOp(name, OpKind::kConv2D, {input});
  ops_[op].params = params;
  ops_[op].kernel = NewTensor(absl::StrCat(internal::Sv(name), "/kernel"),
                              {params.kernel, params.kernel, c, params.filters}, true, kNone);
  tensors_[ops_[op].kernel].consumers.push_back(op);
  if (params.use_bias) {
    ops_[op].bias =
        NewTensor(absl::StrCat(internal::Sv(name), "/bias"), {params.filters}, true, kNone);
    tensors_[ops_[op].bias].consumers.push_back(op);
  }
  ops_[op].output = NewTensor(std::string(name), *std::move(out), false, op);
  return ops_[op].output;
}

absl::StatusOr<TensorId> Graph::AddDepthwiseConv2D(std::string_view name, TensorId input,
                                                   const DepthwiseConv2DParams& params) {
  RM_RETURN_IF_ERROR(CheckNewOpName(name));
  RM_RETURN_IF_ERROR(CheckActivation(name, input));
  absl::StatusOr<Shape> out = DepthwiseConv2DOutputShape(name, tensors_[input].shape, params);
  if (!out.ok()) return out.status();
  const int64_t c = tensors_[input].shape[3];
  const OpId op = NewOp(name, OpKind::kDepthwiseConv2D, {input});
  ops_[op].params = params;
  ops_[op].kernel = NewTensor(absl::StrCat(internal::Sv(name), "/kernel"),
                              {params.kernel, params.kernel, c, 1}, true, kNone);
  tensors_[ops_[op].kernel].consumers.push_back(op);
  if (params.use_bias) {
    ops_[op].bias = NewTensor(absl::StrCat(internal::Sv(name), "/bias"), {c}, true, kNone);
    tensors_[ops_[op].bias].consumers.push_back(op);
  }
  ops_[op].output = NewTensor(std::string(name), *std::move(out), false, op);
  return ops_[op].output;
}

absl::StatusOr<TensorId> Graph::AddPool(std::string_view name, TensorId input,
                                        const PoolParams& params) {
  RM_RETURN_IF_ERROR(CheckNewOpName(name));
  RM_RETURN_IF_ERROR(CheckActivation(name, input));
  absl::StatusOr<Shape> out = PoolOutputShape(name, tensors_[input].shape, params);
  if (!out.ok()) return out.status();
  const OpId op = NewOp(name, OpKind::kPool, {input});
  PoolParams stored = params;
  if (stored.stride_h == 0) stored.stride_h = stored.pool_h;
  if (stored.stride_w == 0) stored.stride_w = stored.pool_w;
  ops_[op].params = stored;
  ops_[op].output = NewTensor(std::string(name), *std::move(out), false, op);
  return ops_[op].output;
}

absl::StatusOr<TensorId> Graph::AddDense(std::string_view name, TensorId input,
                                         const DenseParams& params) {
  RM_RETURN_IF_ERROR(CheckNewOpName(name));
  RM_RETURN_IF_ERROR(CheckActivation(name, input));
  absl::StatusOr<Shape> out = DenseOutputShape(name, tensors_[input].shape, params);
  if (!out.ok()) return out.status();
  const int64_t d = tensors_[input].num_elements() / tensors_[input].shape[0];
  const OpId op = NewOp(name, OpKind::kDense, {input});
  ops_[op].params = params;
  ops_[op].kernel =
      NewTensor(absl::StrCat(internal::Sv(name), "/kernel"), {d, params.units}, true, kNone);
  tensors_[ops_[op].kernel].consumers.push_back(op);
  if (params.use_bias) {
    ops_[op].bias =
        NewTensor(absl::StrCat(internal::Sv(name), "/bias"), {params.units}, true, kNone);
    tensors_[ops_[op].bias].consumers.push_back(op);
  }
  ops_[op].output = NewTensor(std::string(name), *std::move(out), false, op);
  return ops_[op].output;
}

absl::StatusOr<TensorId> Graph::AddAdd(std::string_view name, std::span<const TensorId> inputs,
                                       AddMode mode) {
  RM_RETURN_IF_ERROR(CheckNewOpName(name));
  std::vector<Shape> shapes;
  for (TensorId in : inputs) {
    RM_RETURN_IF_ERROR(CheckActivation(name, in));
    shapes.push_back(tensors_[in].shape);
  }
  absl::StatusOr<Shape> out = AddOutputShape(name, shapes, mode);
  if (!out.ok()) return out.status();
  const OpId op = NewOp(name, OpKind::kAdd, std::vector<TensorId>(inputs.begin(), inputs.end()));
  ops_[op].params = mode;
  ops_[op].output = NewTensor(std::string(name), *std::move(out), false, op);
  return ops_[op].output;
}

absl::Status Graph::MarkOutput(TensorId tensor) {
  if (tensor < 0 || tensor >= num_tensors()) {
    return absl::InvalidArgumentError(absl::StrCat("output tensor id ", tensor, " does not exist"));
  }
  if (tensors_[tensor].is_constant) {
    return absl::InvalidArgumentError(
        absl::StrCat("weight tensor '", tensors_[tensor].name, "' cannot be an output"));
  }
  if (!is_output(tensor)) outputs_.push_back(tensor);
  return absl::OkStatus();
}

bool Graph::is_output(TensorId id) const {
  return std::find(outputs_.begin(), outputs_.end(), id) != outputs_.end();
}

absl::Status Graph::SetSparseSize(TensorId kernel, int64_t nonzeros) {
  if (kernel < 0 || kernel >= num_tensors()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor id ", kernel, " does not exist"));
  }
  Tensor& t = tensors_[kernel];
  const bool is_kernel =
      t.is_constant && !t.consumers.empty() && ops_[t.consumers[0]].kernel == kernel;
  if (!is_kernel) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", t.name, "' is not a kernel; only kernels can be sparse"));
  }
  if (nonzeros < 0 || nonzeros > t.num_elements()) {
    return absl::InvalidArgumentError(absl::StrCat("kernel '", t.name, "': sparse size ", nonzeros,
                                                   " outside [0, ", t.num_elements(), "]"));
  }
  t.sparse_size = nonzeros;
  return absl::OkStatus();
}

absl::Status Graph::SetKernelSparseSize(OpId op, int64_t nonzeros) {
  if (op < 0 || op >= num_ops()) {
    return absl::InvalidArgumentError(absl::StrCat("op id ", op, " does not exist"));
  }
  if (ops_[op].kernel == kNone) {
    return absl::InvalidArgumentError(absl::StrCat(
        "op '", ops_[op].name, "' (", internal::Sv(OpKindName(ops_[op].kind)), ") has no kernel"));
  }
  return SetSparseSize(ops_[op].kernel, nonzeros);
}

absl::Status Graph::ClearSparseSize(TensorId kernel) {
  if (kernel < 0 || kernel >= num_tensors()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor id ", kernel, " does not exist"));
  }
  tensors_[kernel].sparse_size.reset();
  return absl::OkStatus();
}

absl::Status Graph::Validate() const {
  if (outputs_.empty()) {
    return absl::FailedPreconditionError("graph has no output: call MarkOutput");
  }
  for (const Operator& op : ops_) {
    const Tensor& out = tensors_[op.output];
    if (out.consumers.empty() && !is_output(op.output)) {
      return absl::FailedPreconditionError(
          absl::StrCat(internal::Sv(OpKindName(op.kind)), " '", op.name,
                       "': its output is neither consumed nor marked as an output"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TensorId> Graph::FindTensor(std::string_view name) const {
  auto it = tensor_by_name_.find(internal::Sv(name));
  if (it == tensor_by_name_.end()) {
    return absl::NotFoundError(absl::StrCat("no tensor named '", internal::Sv(name), "'"));
  }
  return it->second;
}

absl::StatusOr<OpId> Graph::FindOp(std::string_view name) const {
  auto it = op_by_name_.find(internal::Sv(name));
  if (it == op_by_name_.end()) {
    return absl::NotFoundError(absl::StrCat("no operator named '", internal::Sv(name), "'"));
  }
  return it->second;
}

#undef RM_RETURN_IF_ERROR

}  // namespace unas::rm
