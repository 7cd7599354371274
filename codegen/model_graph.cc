#include "codegen/model_graph.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status/status_macros.h"

namespace unas::codegen {
namespace {

absl::Status OpError(int index, const v1::QuantizedOp& op, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("quantized_model.ops[", index, "] (", op.output(), "): ", message));
}

}  // namespace

absl::StatusOr<ModelGraph> BuildModelGraph(const v1::QuantizedModel& model) {
  ModelGraph mg;
  absl::flat_hash_map<std::string, int> by_name;
  for (int i = 0; i < model.tensors_size(); ++i) by_name[model.tensors(i).name()] = i;
  mg.tensor_of.assign(model.tensors_size(), rm::kNone);
  auto shape_of = [&](int tensor) {
    rm::Shape shape(model.tensors(tensor).shape().begin(), model.tensors(tensor).shape().end());
    return shape;
  };
  auto input = by_name.find(model.input());
  if (input == by_name.end()) return absl::InvalidArgumentError("quantized_model.input: missing");
  UNAS_ASSIGN_OR_RETURN(mg.tensor_of[input->second],
                        mg.graph.AddInput(model.input(), shape_of(input->second)));
  for (int i = 0; i < model.ops_size(); ++i) {
    const v1::QuantizedOp& op = model.ops(i);
    std::vector<rm::TensorId> inputs;
    for (const std::string& name : op.inputs()) {
      auto it = by_name.find(name);
      if (it == by_name.end()) return OpError(i, op, absl::StrCat("no tensor \"", name, "\""));
      if (mg.tensor_of[it->second] != rm::kNone) inputs.push_back(mg.tensor_of[it->second]);
    }
    if (inputs.empty()) return OpError(i, op, "reads no activation");
    const bool square =
        op.kernel_height() == op.kernel_width() && op.stride_height() == op.stride_width();
    absl::StatusOr<rm::TensorId> out;
    switch (op.type()) {
      case v1::QUANTIZED_OP_TYPE_CONV2D:
      case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D: {
        if (!square) return OpError(i, op, "a non-square kernel or stride is not supported");
        auto it = by_name.find(op.output());
        if (it == by_name.end()) return OpError(i, op, "its output tensor does not exist");
        const int64_t filters = model.tensors(it->second).shape().empty()
                                    ? 0
                                    : model.tensors(it->second).shape().rbegin()[0];
        out = op.type() == v1::QUANTIZED_OP_TYPE_CONV2D
                  ? mg.graph.AddConv2D(op.output(), inputs[0],
                                       {.filters = filters,
                                        .kernel = op.kernel_height(),
                                        .stride = op.stride_height()})
                  : mg.graph.AddDepthwiseConv2D(
                        op.output(), inputs[0],
                        {.kernel = op.kernel_height(), .stride = op.stride_height()});
        break;
      }
      case v1::QUANTIZED_OP_TYPE_MAX_POOL:
      case v1::QUANTIZED_OP_TYPE_AVG_POOL:
        out = mg.graph.AddPool(
            op.output(), inputs[0],
            {.type = op.type() == v1::QUANTIZED_OP_TYPE_MAX_POOL ? rm::PoolType::kMax
                                                                 : rm::PoolType::kAvg,
             .pool_h = op.kernel_height(),
             .pool_w = op.kernel_width(),
             .stride_h = op.stride_height(),
             .stride_w = op.stride_width()});
        break;
      case v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED: {
        auto it = by_name.find(op.output());
        if (it == by_name.end()) return OpError(i, op, "its output tensor does not exist");
        out = mg.graph.AddDense(op.output(), inputs[0],
                                {.units = model.tensors(it->second).shape().rbegin()[0]});
        break;
      }
      case v1::QUANTIZED_OP_TYPE_ADD:
        out = mg.graph.AddAdd(op.output(), inputs, rm::AddMode::kZeroPadToMax);
        break;
      default:
        return OpError(i, op, absl::StrCat("unsupported op type ", op.type()));
    }
    if (!out.ok()) return OpError(i, op, out.status().message());
    const int model_out = by_name.at(op.output());
    if (mg.graph.tensor(*out).shape != shape_of(model_out)) {
      return OpError(i, op, "its output shape does not follow from its inputs");
    }
    mg.tensor_of[model_out] = *out;
  }
  auto output = by_name.find(model.output());
  if (output == by_name.end() || mg.tensor_of[output->second] == rm::kNone) {
    return absl::InvalidArgumentError("quantized_model.output: no op writes it");
  }
  UNAS_RETURN_IF_ERROR(mg.graph.MarkOutput(mg.tensor_of[output->second]));
  UNAS_RETURN_IF_ERROR(mg.graph.Validate());
  mg.op_of.assign(model.ops_size(), rm::kNone);
  mg.model_op_of.assign(mg.graph.num_ops(), -1);
  mg.model_tensor_of.assign(mg.graph.num_tensors(), -1);
  for (int t = 0; t < model.tensors_size(); ++t) {
    if (mg.tensor_of[t] != rm::kNone) mg.model_tensor_of[mg.tensor_of[t]] = t;
  }
  for (int i = 0; i < model.ops_size(); ++i) {
    mg.op_of[i] = mg.graph.tensor(mg.tensor_of[by_name.at(model.ops(i).output())]).producer;
    mg.model_op_of[mg.op_of[i]] = i;
  }
  return mg;
}

}  // namespace unas::codegen
