// Rewrites every Add of more than two inputs in a v1::QuantizedModel into a
// chain of two-input Adds, so that the model computes what TensorFlow Lite's
// ADD (two inputs) and any format built from it compute: the converter emits
// only such models, and the .tflite export (codegen/tflite_model.h) applies
// it to models stored before that.
//
// x1 + x2 + ... + xn becomes p1 = x1 + x2, p2 = p1 + x3, ..., out = p(n-2) +
// xn. Each partial sum p gets a new activation tensor whose real range is the
// sum of its two inputs' representable ranges (scale * (-128 - zero point) to
// scale * (127 - zero point)): it can never clip, and it needs no calibration
// data. Only the last Add has the stored output and its clamp (fused ReLU).
// Inputs with the output's extent come first, so that every partial sum has
// the output's extent and may be written in place (the peak memory of the
// chain is then at most the n-input Add's).
#ifndef UNAS_INT8_TWO_INPUT_ADDS_H_
#define UNAS_INT8_TWO_INPUT_ADDS_H_

#include "absl/status/statusor.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::int8 {

// The number of Adds of `model` with more than two inputs.
int WideAddCount(const v1::QuantizedModel& model);

// `model` with every Add of n > 2 inputs replaced by n - 1 two-input Adds
// (partial sums named "<output>/partial<k>"); the model unchanged when it
// has none. Multipliers follow TensorFlow Lite's ADD from the tensors'
// scales. Errors name the op (a model the interpreter would refuse).
absl::StatusOr<v1::QuantizedModel> SplitWideAdds(const v1::QuantizedModel& model);

}  // namespace unas::int8

#endif  // UNAS_INT8_TWO_INPUT_ADDS_H_
