#include "resource_models/operators.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "resource_models/strings_internal.h"

namespace unas::rm {
namespace {

absl::Status Invalid(std::string_view what, std::string_view name, std::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(internal::Sv(what), " '", internal::Sv(name), "': ", internal::Sv(message)));
}

absl::Status CheckNhwc(std::string_view what, std::string_view name, const Shape& input) {
  if (input.size() != 4) {
    return Invalid(what, name,
                   absl::StrCat("needs an NHWC input of rank 4, got ", ShapeToString(input)));
  }
  return absl::OkStatus();
}

// Valid (unpadded) sliding windows: floor((size - window) / stride) + 1, or the ceil variant.
int64_t NumWindows(int64_t size, int64_t window, int64_t stride, PoolRounding rounding) {
  const int64_t span = size - window;
  if (rounding == PoolRounding::kCeil) return (span + stride - 1) / stride + 1;
  return span / stride + 1;
}

absl::StatusOr<Shape> ConvLikeShape(std::string_view what, std::string_view name,
                                    const Shape& input, int64_t kernel, int64_t stride,
                                    int64_t out_channels) {
  if (absl::Status s = CheckNhwc(what, name, input); !s.ok()) return s;
  if (kernel <= 0) return Invalid(what, name, absl::StrCat("kernel ", kernel, " must be > 0"));
  if (stride <= 0) return Invalid(what, name, absl::StrCat("stride ", stride, " must be > 0"));
  if (kernel > input[1] || kernel > input[2]) {
    return Invalid(what, name,
                   absl::StrCat("kernel ", kernel, " larger than input ", input[1], "x", input[2]));
  }
  return Shape{input[0], NumWindows(input[1], kernel, stride, PoolRounding::kFloor),
               NumWindows(input[2], kernel, stride, PoolRounding::kFloor), out_channels};
}

}  // namespace

absl::StatusOr<Shape> Conv2DOutputShape(std::string_view name, const Shape& input,
                                        const Conv2DParams& params) {
  if (params.filters <= 0) {
    return Invalid("conv", name, absl::StrCat("filters ", params.filters, " must be > 0"));
  }
  return ConvLikeShape("conv", name, input, params.kernel, params.stride, params.filters);
}

absl::StatusOr<Shape> DepthwiseConv2DOutputShape(std::string_view name, const Shape& input,
                                                 const DepthwiseConv2DParams& params) {
  if (absl::Status s = CheckNhwc("depthwise conv", name, input); !s.ok()) return s;
  return ConvLikeShape("depthwise conv", name, input, params.kernel, params.stride, input[3]);
}

absl::StatusOr<Shape> PoolOutputShape(std::string_view name, const Shape& input,
                                      const PoolParams& params) {
  if (absl::Status s = CheckNhwc("pool", name, input); !s.ok()) return s;
  const int64_t sh = params.stride_h == 0 ? params.pool_h : params.stride_h;
  const int64_t sw = params.stride_w == 0 ? params.pool_w : params.stride_w;
  if (params.pool_h <= 0 || params.pool_w <= 0) {
    return Invalid("pool", name,
                   absl::StrCat("window ", params.pool_h, "x", params.pool_w, " must be > 0"));
  }
  if (sh < 0 || sw < 0) {
    return Invalid("pool", name, absl::StrCat("stride ", sh, "x", sw, " must be > 0"));
  }
  if (params.pool_h > input[1] || params.pool_w > input[2]) {
    return Invalid("pool", name,
                   absl::StrCat("window ", params.pool_h, "x", params.pool_w, " larger than input ",
                                input[1], "x", input[2]));
  }
  return Shape{input[0], NumWindows(input[1], params.pool_h, sh, params.rounding),
               NumWindows(input[2], params.pool_w, sw, params.rounding), input[3]};
}

absl::StatusOr<Shape> DenseOutputShape(std::string_view name, const Shape& input,
                                       const DenseParams& params) {
  if (input.size() < 2) {
    return Invalid("dense", name,
                   absl::StrCat("needs an input with a batch and at least one more dimension, got ",
                                ShapeToString(input)));
  }
  if (params.units <= 0) {
    return Invalid("dense", name, absl::StrCat("units ", params.units, " must be > 0"));
  }
  return Shape{input[0], params.units};
}

absl::StatusOr<Shape> AddOutputShape(std::string_view name, std::span<const Shape> inputs,
                                     AddMode mode) {
  if (inputs.empty()) return Invalid("add", name, "needs at least one input");
  Shape out = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) {
    const Shape& s = inputs[i];
    if (s.size() != out.size()) {
      return Invalid("add", name,
                     absl::StrCat("inputs of different ranks: ", ShapeToString(inputs[0]), " and ",
                                  ShapeToString(s)));
    }
    if (mode == AddMode::kEqualShapes && s != inputs[0]) {
      return Invalid("add", name,
                     absl::StrCat("inputs of different shapes: ", ShapeToString(inputs[0]), " and ",
                                  ShapeToString(s)));
    }
    if (!s.empty() && s[0] != out[0]) {
      return Invalid("add", name,
                     absl::StrCat("inputs of different batch sizes: ", ShapeToString(inputs[0]),
                                  " and ", ShapeToString(s)));
    }
    for (size_t d = 0; d < s.size(); ++d) out[d] = std::max(out[d], s[d]);
  }
  return out;
}

OpCost ComputeOpCost(const Graph& graph, OpId id) {
  const Operator& op = graph.op(id);
  const Shape& out = graph.tensor(op.output).shape;
  const int64_t out_elems = NumElements(out);
  OpCost cost;
  switch (op.kind) {
    case OpKind::kInput:
      break;
    case OpKind::kConv2D:
    case OpKind::kDepthwiseConv2D:
    case OpKind::kDense: {
      // Every output element takes one MAC per kernel element feeding it: the kernel's size
      // divided by the number of output channels (k*k*C for conv, k*k for depthwise, D for
      // dense), times the batch and spatial positions, i.e. out_elems * kernel / channels.
      const Tensor& kernel = graph.tensor(op.kernel);
      const int64_t per_output = op.kind == OpKind::kDepthwiseConv2D
                                     ? kernel.shape[0] * kernel.shape[1]
                                     : kernel.num_elements() / kernel.shape.back();
      cost.macs = out_elems * per_output;
      cost.compute = cost.macs;
      // Two loads per MAC (input and weight) plus one per output element (its bias).
      cost.loads = 2 * cost.macs + out_elems;
      cost.params =
          kernel.num_elements() + (op.bias == kNone ? 0 : graph.tensor(op.bias).num_elements());
      break;
    }
    case OpKind::kPool: {
      const auto& p = std::get<PoolParams>(op.params);
      cost.compute = out_elems * p.pool_h * p.pool_w;
      cost.loads = cost.compute;
      break;
    }
    case OpKind::kAdd: {
      const int64_t n = static_cast<int64_t>(op.inputs.size());
      cost.compute = (n - 1) * out_elems;
      cost.loads = n * out_elems;
      break;
    }
  }
  return cost;
}

}  // namespace unas::rm
