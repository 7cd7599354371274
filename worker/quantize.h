// Post-training int8 quantisation of a trained UnasNet (docs/training.md,
// "int8 quantisation"): the LibTorch half. It reads the float weights (batch
// normalisation folded), calibrates activation ranges on training examples
// and hands both to int8/converter.h; the int8 accuracy comes from
// the integer-only interpreter (int8/interpreter.h).
#ifndef UNAS_WORKER_QUANTIZE_H_
#define UNAS_WORKER_QUANTIZE_H_

#include <c10/core/Device.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "int8/converter.h"
#include "unas/v1/evaluation.pb.h"
#include "worker/data/dataset.h"
#include "worker/model.h"

namespace unas::worker {

struct QuantizeOptions {
  // Calibration examples, taken evenly spaced from the training set (or the
  // validation set when the training inputs are computed per batch).
  int calibration_examples = 500;
  int batch_size = 100;  // calibration forward passes
  int threads = 1;       // interpreter threads for the int8 evaluation
};

// The float network as the converter wants it (CPU copies; the net is not
// changed): kernels in the QuantizedModel layouts, batch normalisation
// folded into the preceding convolution.
int8::FloatNetwork ExtractFloatNetwork(UnasNetImpl& net);

// Min / max of every op's output (indexed like plan().ops) over the first
// `count` examples of `set` (evenly spaced), in evaluation mode, plus the
// range of the network's (preprocessed) input. `set` holds pixels or real
// features.
absl::StatusOr<std::vector<int8::ValueRange>> CalibrateRanges(UnasNet& net, const ImageSet& set,
                                                              const Preprocessing& preprocessing,
                                                              const QuantizeOptions& options,
                                                              c10::Device device,
                                                              int8::ValueRange* input_range);

// Extract + calibrate + convert.
absl::StatusOr<v1::QuantizedModel> QuantizeNetwork(UnasNet& net, const Dataset& data,
                                                   const QuantizeOptions& options,
                                                   c10::Device device,
                                                   int8::ConversionInfo* info = nullptr);

// Accuracy of the integer-only interpreter on `set`: uint8 images go in as
// raw bytes (the preprocessing is folded into the model); real features are
// normalised with `preprocessing` and quantised to the model's input.
absl::StatusOr<double> Int8Accuracy(const v1::QuantizedModel& model, const ImageSet& set,
                                    const Preprocessing& preprocessing, int threads = 1);

// What TrainCandidate runs after training: quantises `net` and fills
// result->quantized_model and result->int8_test_error (on data.test).
absl::Status QuantizeAndEvaluate(UnasNet& net, const Dataset& data, const QuantizeOptions& options,
                                 c10::Device device, v1::EvaluationResult* result);

}  // namespace unas::worker

#endif  // UNAS_WORKER_QUANTIZE_H_
