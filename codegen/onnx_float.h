// The float network (trained weights, batch normalisation folded) as ONNX,
// opset 13: what LibTorch computes, for tools that want the float model.
// Input "input": float [1, H, W, C], NHWC as the search sees it, already
// normalised ((byte / 255 - mean[c]) / stddev[c] for images; a Transpose to
// NCHW follows); output "logits": float [1, classes].
#ifndef UNAS_CODEGEN_ONNX_FLOAT_H_
#define UNAS_CODEGEN_ONNX_FLOAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "int8/converter.h"

namespace unas::codegen {

// The serialised onnx.ModelProto of `network` (its plan and float layers;
// mean and stddev are not applied: the input is normalised).
absl::StatusOr<std::string> FloatOnnxModel(const int8::FloatNetwork& network);

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_ONNX_FLOAT_H_
