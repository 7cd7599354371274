// Post-training int8 quantisation of a trained float network into a
// v1::QuantizedModel (docs/training.md, "int8 quantisation"), without
// LibTorch: worker/quantize.h extracts the float weights and calibrates the
// activation ranges with LibTorch, this file does the arithmetic.
//
// Scheme (TFLite's int8 specification): per-output-channel symmetric int8
// weights, int32 biases with scale input_scale * weight_scale[c], per-tensor
// asymmetric int8 activations from the calibrated ranges, ReLU fused into the
// output clamp, pools keeping their input's parameters, fixed-point
// requantisation multipliers computed here once. An Add of more than two
// inputs becomes a chain of two-input Adds (two_input_adds.h), as TFLite's
// ADD takes two.
#ifndef UNAS_INT8_CONVERTER_H_
#define UNAS_INT8_CONVERTER_H_

#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/network_plan.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::int8 {

// The float kernel and bias of one op, in the QuantizedModel layouts:
// conv2d [out, kh, kw, in], depthwise [1, kh, kw, C], dense [out, in] with
// the NHWC-flattened input index. Empty for pools and adds.
struct FloatLayer {
  std::vector<float> weights;
  std::vector<float> bias;  // one per output channel
};

// The real value range an op's output took on the calibration images.
struct ValueRange {
  float min = 0.0f;
  float max = 0.0f;
};

struct FloatNetwork {
  NetworkPlan plan;
  std::vector<FloatLayer> layers;  // one per plan op
  // Image inputs: the dataset's preprocessing x = (byte / 255 - mean[c]) /
  // stddev[c] (empty vectors mean 0 and 1), folded into the layers reading
  // the input, which then reads raw bytes (scale 1/255, zero point -128).
  std::vector<float> mean;
  std::vector<float> stddev;
  // Real-valued inputs (e.g. MFCC features) instead: the calibrated range of
  // the values the network reads (already normalised; mean and stddev then
  // stay empty), giving the input's scale and zero point.
  std::optional<ValueRange> input_range;
};

// Folds inference-mode batch normalisation y = gamma (x - mean) / sqrt(var
// + eps) + beta into the preceding convolution's kernel and bias (`kind`
// tells which dimension of the weights is the output channel).
void FoldBatchNorm(OpKind kind, std::span<const float> gamma, std::span<const float> beta,
                   std::span<const float> mean, std::span<const float> variance, double epsilon,
                   FloatLayer* layer);

struct ConversionInfo {
  // True when ops follow the peak-memory-optimal order of resource_models;
  // false when the PMU search stopped at its limit (the order is then its
  // best known one, an upper bound) or failed (plan order).
  bool memory_optimal_order = false;
};

// Quantises `network` with one calibrated range per plan op (indexed like
// plan.ops; the ranges of pools are not used). The preprocessing is folded
// into the layers reading the network input so the model reads raw bytes.
absl::StatusOr<v1::QuantizedModel> Convert(const FloatNetwork& network,
                                           std::span<const ValueRange> ranges,
                                           ConversionInfo* info = nullptr);

// The plan op indices in the order with the smallest peak memory (rm PMU; the
// best known order when the exact search stops at its limit), or plan order
// when none can be computed.
std::vector<int> ExecutionOrder(const NetworkPlan& plan, bool* memory_optimal = nullptr);

// Names used in the QuantizedModel: the plan op's name for its output
// tensor, "input" for the network input, "<op>/weights" and "<op>/bias".
inline constexpr char kInputTensorName[] = "input";

}  // namespace unas::int8

#endif  // UNAS_INT8_CONVERTER_H_
