// A stored int8 model as ONNX in QDQ form (opset 13), for tools that read
// ONNX (ONNX Runtime, Netron, vendor converters): every weight tensor int8
// with our per-channel scales behind a DequantizeLinear, every activation
// through QuantizeLinear / DequantizeLinear with our scale and zero point,
// the float operators in between (docs/deploy.md, "ONNX").
//
// Graph input "input": int8 [1, H, W, C] (NHWC as the search sees it; a
// Transpose to ONNX's NCHW follows) or [1, units]; output "logits": int8
// [1, classes]. A runtime computes the operators in float, so its logits may
// differ from the interpreter's by a rounding step; the classes agree on
// nearly every input (the test states how many).
#ifndef UNAS_CODEGEN_ONNX_INT8_H_
#define UNAS_CODEGEN_ONNX_INT8_H_

#include <string>

#include "absl/status/statusor.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::codegen {

// The serialised onnx.ModelProto; the model is validated first (errors name
// the op or tensor).
absl::StatusOr<std::string> Int8OnnxModel(const v1::QuantizedModel& model);

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_ONNX_INT8_H_
