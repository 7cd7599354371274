#include "resource_models/dot_export.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "resource_models/operators.h"
#include "resource_models/strings_internal.h"

namespace unas::rm {
namespace {

// Quotes a label. Backslashes are left alone: labels use DOT's own "\n" line breaks, and our
// names and numbers contain no other backslash sequences.
std::string Quote(std::string_view s) {
  return absl::StrCat("\"", absl::StrReplaceAll(internal::Sv(s), {{"\"", "\\\""}}), "\"");
}

std::string Params(const Operator& op) {
  switch (op.kind) {
    case OpKind::kConv2D: {
      const auto& p = std::get<Conv2DParams>(op.params);
      return absl::StrCat(p.filters, " filters, ", p.kernel, "x", p.kernel, ", stride ", p.stride);
    }
    case OpKind::kDepthwiseConv2D: {
      const auto& p = std::get<DepthwiseConv2DParams>(op.params);
      return absl::StrCat(p.kernel, "x", p.kernel, ", stride ", p.stride);
    }
    case OpKind::kPool: {
      const auto& p = std::get<PoolParams>(op.params);
      return absl::StrCat(p.type == PoolType::kMax ? "max " : "avg ", p.pool_h, "x", p.pool_w,
                          ", stride ", p.stride_h, "x", p.stride_w,
                          p.rounding == PoolRounding::kCeil ? ", ceil" : "");
    }
    case OpKind::kDense:
      return absl::StrCat(std::get<DenseParams>(op.params).units, " units");
    case OpKind::kAdd:
      return std::get<AddMode>(op.params) == AddMode::kZeroPadToMax ? "zero-pad to max" : "";
    case OpKind::kInput:
      return "";
  }
  return "";
}

}  // namespace

std::string ToDot(const Graph& graph, const DotOptions& options) {
  std::vector<int> step_of(graph.num_ops(), -1);
  if (options.schedule != nullptr) {
    for (size_t i = 0; i < options.schedule->order.size(); ++i) {
      const OpId id = options.schedule->order[i];
      if (id >= 0 && id < graph.num_ops()) step_of[id] = static_cast<int>(i);
    }
  }
  std::string out = "digraph resource_graph {\n  rankdir=TB;\n  node [fontsize=10];\n";
  for (TensorId t = 0; t < graph.num_tensors(); ++t) {
    const Tensor& tensor = graph.tensor(t);
    if (tensor.is_constant && !options.show_weights) continue;
    std::string label =
        absl::StrCat(tensor.name, "\\n", ShapeToString(tensor.shape), "\\n", tensor.bytes(), " B");
    if (tensor.sparse_size.has_value()) {
      absl::StrAppend(&label, "\\nnon-zeros ", *tensor.sparse_size);
    }
    absl::StrAppend(&out, "  t", t, " [shape=", tensor.is_constant ? "note" : "ellipse",
                    graph.is_output(t) ? ", peripheries=2" : "", ", label=", Quote(label), "];\n");
  }
  for (OpId id = 0; id < graph.num_ops(); ++id) {
    const Operator& op = graph.op(id);
    if (op.kind == OpKind::kInput) {
      absl::StrAppend(&out, "  op", id,
                      " [shape=box, style=rounded, label=", Quote(absl::StrCat("Input ", op.name)),
                      "];\n  op", id, " -> t", op.output, ";\n");
      continue;
    }
    const OpCost cost = ComputeOpCost(graph, id);
    std::string label = absl::StrCat(internal::Sv(OpKindName(op.kind)), " ", op.name);
    const std::string params = Params(op);
    if (!params.empty()) absl::StrAppend(&label, "\\n", params);
    if (cost.params > 0) absl::StrAppend(&label, "\\nparams ", cost.params);
    if (op.kernel != kNone && graph.tensor(op.kernel).sparse_size.has_value()) {
      absl::StrAppend(&label, "\\nsparse ", *graph.tensor(op.kernel).sparse_size);
    }
    absl::StrAppend(&label, "\\nMACs ", cost.macs);
    if (step_of[id] >= 0) {
      absl::StrAppend(&label, "\\nstep ", step_of[id], ": ",
                      options.schedule->step_bytes[step_of[id]], " B live");
    }
    absl::StrAppend(&out, "  op", id, " [shape=box, label=", Quote(label), "];\n");
    for (TensorId in : op.inputs) absl::StrAppend(&out, "  t", in, " -> op", id, ";\n");
    if (options.show_weights) {
      if (op.kernel != kNone) {
        absl::StrAppend(&out, "  t", op.kernel, " -> op", id, " [style=dashed];\n");
      }
      if (op.bias != kNone) {
        absl::StrAppend(&out, "  t", op.bias, " -> op", id, " [style=dashed];\n");
      }
    }
    absl::StrAppend(&out, "  op", id, " -> t", op.output, ";\n");
  }
  absl::StrAppend(&out, "}\n");
  return out;
}

}  // namespace unas::rm
