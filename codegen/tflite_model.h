// A stored int8 model (v1::QuantizedModel) as a full-integer TensorFlow Lite
// flatbuffer (`model.tflite`, docs/deploy.md), for the tools embedded
// engineers already use: TensorFlow Lite Micro, STM32Cube.AI, Edge Impulse,
// Vela. Written with FlatBuffers from our own schema subset
// (codegen/tflite_schema.fbs).
//
// What it holds: int8 activations with the model's scale and zero point;
// int8 weights, symmetric per output channel (quantized dimension 0 for
// CONV_2D and FULLY_CONNECTED, 3 for DEPTHWISE_CONV_2D); int32 biases of
// scale input scale x weight scale; VALID padding; ReLU fused where the model
// clamps at the output zero point. The input is the raw-image tensor the
// interpreter reads (scale 1/255, zero point -128: q = byte - 128) or the
// model's real-valued input parameters. A smaller Add input is zero-padded by
// an explicit PAD (TFLite's ADD broadcasts, it does not pad), a dense layer
// reading an image is preceded by a RESHAPE to [1, units], and an Add of
// more than two inputs in an older model is computed as the chain of
// two-input Adds the converter now stores (int8/two_input_adds.h).
//
// TensorFlow Lite derives each requantisation multiplier from the tensors'
// float scales; the exporter recomputes them the way TFLite does and counts
// any that differ from the stored ones (none for models of our converter).
#ifndef UNAS_CODEGEN_TFLITE_MODEL_H_
#define UNAS_CODEGEN_TFLITE_MODEL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::codegen {

struct TfliteOptions {
  // Writes each dense layer as the CONV_2D with a 1x1 kernel it equals (on
  // an input reshaped to [1, 1, 1, units]), for runtimes that lack
  // FULLY_CONNECTED with per-channel weights (TFLite added it in 2023; Arm
  // NN 20.08 aborts on it). Same numbers, two more RESHAPEs per dense layer.
  bool dense_as_conv2d = false;
};

struct TfliteInfo {
  int operators = 0;
  int pads = 0;      // PAD operators in front of Adds
  int reshapes = 0;  // RESHAPE operators in front of dense layers
  // Adds of more than two inputs in the stored model, written as chains: the
  // .tflite then computes the chained model, not the stored one.
  int wide_adds_split = 0;
  // Requantisation multipliers TFLite would compute differently from the
  // stored ones (0 for every model our converter writes).
  int multiplier_mismatches = 0;
};

// The .tflite bytes of `model`; errors name the op or tensor (a model the
// interpreter refuses, or a clamp that is no TFLite fused activation).
absl::StatusOr<std::string> TfliteModel(const v1::QuantizedModel& model, TfliteInfo* info = nullptr,
                                        const TfliteOptions& options = {});

// What a user should know about an export with `info` (wide Adds computed as
// chains, multipliers TFLite computes differently); empty when nothing.
std::vector<std::string> TfliteWarnings(const TfliteInfo& info);

// The model `TfliteModel` writes, as a QuantizedModel: `model` with its wide
// Adds split (so the interpreter can compute what the .tflite computes).
absl::StatusOr<v1::QuantizedModel> TfliteEquivalentModel(const v1::QuantizedModel& model);

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_TFLITE_MODEL_H_
