// The integer-only reference interpreter of a v1::QuantizedModel
// (proto/unas/v1/evaluation.proto): int8 inputs (uint8 images minus 128, or
// quantised real features) in, int8 logits and classes out, with TFLite's
// int8 kernel semantics (int32 accumulation, per-channel
// fixed-point requantisation, avg-pool rounding, ADD with rescaled inputs).
// It is the definition of what the model computes: the int8 test error of an
// evaluation is this interpreter's, and generated C code must reproduce it
// bit for bit. No LibTorch, no floating point at run time.
#ifndef UNAS_INT8_INTERPRETER_H_
#define UNAS_INT8_INTERPRETER_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::int8 {

class Interpreter {
 public:
  // Checks the whole model before anything runs (it may come from an
  // untrusted worker): names resolve, ops run after their inputs exist,
  // shapes, parameter counts and fixed-point ranges agree, and no int32
  // accumulator can overflow for any input. Errors name the op or tensor.
  static absl::StatusOr<Interpreter> Create(v1::QuantizedModel model);

  // Values of one input (H * W * C, NHWC) and logits per input.
  int64_t input_size() const { return tensors_[input_].elements; }
  int64_t output_size() const { return tensors_[output_].elements; }

  // uint8 images -> the int8 input: q = byte - 128. Only for a model whose
  // input has zero point -128 (real = scale * byte: raw images).
  absl::StatusOr<std::vector<int8_t>> QuantizeBytes(std::span<const uint8_t> bytes) const;
  // Real values -> the int8 input: q = round(x / scale) + zero point, clamped.
  std::vector<int8_t> QuantizeReals(std::span<const float> values) const;

  // One input: `input` holds input_size() values, `logits` output_size().
  void Run(const int8_t* input, int8_t* logits) const;

  // Every tensor's int8 values for one input, indexed like model().tensors()
  // (empty for weights and biases). For tests and debugging.
  std::vector<std::vector<int8_t>> RunKeepingTensors(const int8_t* input) const;

  // The class of one image's logits: the arg-max (the first of equal
  // values), or for a single logit 1 when it is above its zero point (real
  // logit > 0), else 0.
  int32_t Predict(const int8_t* logits) const;

  // The classes of `count` inputs stored one after another; `threads` > 1
  // splits them between threads (results do not depend on it).
  std::vector<int32_t> Classify(const int8_t* inputs, int64_t count, int threads = 1) const;

  // Fraction of the inputs whose class equals their label.
  double Accuracy(const int8_t* inputs, std::span<const int32_t> labels, int threads = 1) const;

  const v1::QuantizedModel& model() const { return model_; }
  // Index into model().tensors(), or -1. A hash lookup: validating a model
  // from an untrusted worker stays linear in its size.
  int FindTensor(const std::string& name) const;

 private:
  struct TensorInfo {
    bool activation = false;
    int64_t height = 1, width = 1, channels = 1;  // activations
    int64_t elements = 0;
    int32_t zero_point = 0;
  };
  struct Step {
    v1::QuantizedOpType type = v1::QUANTIZED_OP_TYPE_UNSPECIFIED;
    std::vector<int> inputs;  // activation tensors
    int output = 0;
    const int8_t* weights = nullptr;
    const int32_t* bias = nullptr;
    int kernel_height = 1, kernel_width = 1, stride_height = 1, stride_width = 1;
    std::vector<int32_t> multiplier, shift;              // per output channel (one for Add)
    std::vector<int32_t> input_multiplier, input_shift;  // Add
    int left_shift = 0;                                  // Add
    int32_t activation_min = -128, activation_max = 127;
  };
  using Buffers = std::vector<std::vector<int8_t>>;

  Interpreter() = default;
  absl::Status Compile();
  absl::Status CompileOp(int index, std::vector<bool>& produced);
  void Execute(const int8_t* input, Buffers& buffers) const;
  void RunStep(const Step& step, Buffers& buffers) const;

  v1::QuantizedModel model_;
  absl::flat_hash_map<std::string, int> tensor_index_;  // name -> index into model_.tensors()
  std::vector<TensorInfo> tensors_;
  std::vector<Step> steps_;
  int input_ = 0;
  int output_ = 0;
};

}  // namespace unas::int8

#endif  // UNAS_INT8_INTERPRETER_H_
