// The resource graph (resource_models/graph.h) of a stored int8 model, so the
// PMU and the memory plan see exactly the tensors the generated code holds.
#ifndef UNAS_CODEGEN_MODEL_GRAPH_H_
#define UNAS_CODEGEN_MODEL_GRAPH_H_

#include <vector>

#include "absl/status/statusor.h"
#include "resource_models/graph.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::codegen {

struct ModelGraph {
  rm::Graph graph;
  std::vector<rm::OpId> op_of;          // per model op: its graph op
  std::vector<int> model_op_of;         // per graph op: the model op, -1 for the input
  std::vector<rm::TensorId> tensor_of;  // per model tensor: its graph tensor, -1 for weights
  std::vector<int> model_tensor_of;     // per graph tensor: the model tensor, -1 for kernels
};

// `model` must have passed int8::Interpreter::Create (names resolve, shapes
// agree). Fails, naming the op, on what the resource model cannot describe
// (a non-square convolution kernel or stride).
absl::StatusOr<ModelGraph> BuildModelGraph(const v1::QuantizedModel& model);

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_MODEL_GRAPH_H_
