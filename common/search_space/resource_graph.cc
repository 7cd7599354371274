#include "common/search_space/resource_graph.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace unas {
namespace {

rm::Shape ExpectedShape(const PlannedOp& op) {
  if (op.kind == OpKind::kDense) return {1, op.output.channels};
  return {1, op.output.height, op.output.width, op.output.channels};
}

absl::StatusOr<rm::TensorId> AddOp(rm::Graph& g, const PlannedOp& op,
                                   const std::vector<rm::TensorId>& inputs) {
  switch (op.kind) {
    case OpKind::kConv2D:
      return g.AddConv2D(op.name, inputs[0],
                         rm::Conv2DParams{.filters = op.output.channels,
                                          .kernel = op.kernel_height,
                                          .stride = op.stride_height});
    case OpKind::kDepthwiseConv2D:
      return g.AddDepthwiseConv2D(
          op.name, inputs[0],
          rm::DepthwiseConv2DParams{.kernel = op.kernel_height, .stride = op.stride_height});
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      return g.AddPool(op.name, inputs[0],
                       rm::PoolParams{.type = op.kind == OpKind::kMaxPool ? rm::PoolType::kMax
                                                                          : rm::PoolType::kAvg,
                                      .pool_h = op.kernel_height,
                                      .pool_w = op.kernel_width,
                                      .stride_h = op.stride_height,
                                      .stride_w = op.stride_width,
                                      .rounding = rm::PoolRounding::kFloor});
    case OpKind::kAdd:
      return g.AddAdd(op.name, std::span<const rm::TensorId>(inputs), rm::AddMode::kZeroPadToMax);
    case OpKind::kDense:
      return g.AddDense(op.name, inputs[0], rm::DenseParams{.units = op.output.channels});
  }
  return absl::InternalError(absl::StrCat(op.name, ": unknown op kind"));
}

}  // namespace

absl::StatusOr<rm::Graph> BuildResourceGraph(const NetworkPlan& plan) {
  rm::Graph g(/*element_size=*/1);
  UNAS_ASSIGN_OR_RETURN(
      rm::TensorId input,
      g.AddInput("input", {1, plan.input.height, plan.input.width, plan.input.channels}));
  std::vector<rm::TensorId> tensor_of_op;
  tensor_of_op.reserve(plan.ops.size());
  for (const PlannedOp& op : plan.ops) {
    std::vector<rm::TensorId> inputs;
    for (int i : op.inputs) inputs.push_back(i == kNetworkInput ? input : tensor_of_op[i]);
    UNAS_ASSIGN_OR_RETURN(rm::TensorId out, AddOp(g, op, inputs));
    const rm::Tensor& t = g.tensor(out);
    if (t.shape != ExpectedShape(op)) {
      return absl::InternalError(absl::StrCat(op.name, ": the resource graph computes ",
                                              rm::ShapeToString(t.shape), " but the network plan ",
                                              rm::ShapeToString(ExpectedShape(op))));
    }
    if (op.nonzero_kernel_elements) {
      UNAS_RETURN_IF_ERROR(g.SetKernelSparseSize(t.producer, *op.nonzero_kernel_elements));
    }
    tensor_of_op.push_back(out);
  }
  if (tensor_of_op.empty()) return absl::InvalidArgumentError("network plan has no operators");
  UNAS_RETURN_IF_ERROR(g.MarkOutput(tensor_of_op.back()));
  UNAS_RETURN_IF_ERROR(g.Validate());
  return g;
}

absl::StatusOr<rm::Graph> BuildResourceGraph(const v1::Architecture& arch, const DataShape& data,
                                             const PlanOptions& options) {
  UNAS_ASSIGN_OR_RETURN(NetworkPlan plan, PlanNetwork(arch, data, options));
  return BuildResourceGraph(plan);
}

absl::StatusOr<rm::ResourceReport> ComputeArchitectureResources(
    const v1::Architecture& arch, const DataShape& data, const PlanOptions& options,
    const rm::ResourceOptions& resource_options) {
  UNAS_ASSIGN_OR_RETURN(rm::Graph graph, BuildResourceGraph(arch, data, options));
  return rm::ComputeResources(graph, resource_options);
}

}  // namespace unas
