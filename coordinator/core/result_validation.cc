#include "coordinator/core/result_validation.h"

#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/search_space/network_plan.h"
#include "coordinator/core/worker_input_limits.h"
#include "int8/interpreter.h"

namespace unas::coordinator {
namespace {

bool InUnitInterval(double value) { return std::isfinite(value) && value >= 0.0 && value <= 1.0; }

absl::Status Invalid(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("result.", field, " ", rule));
}

}  // namespace

absl::Status ValidateEvaluationResult(const v1::EvaluationResult& result,
                                      const v1::Architecture& architecture, const DataShape& data) {
  if (!InUnitInterval(result.validation_error())) {
    return Invalid("validation_error",
                   absl::StrCat("(", result.validation_error(), ") must be in [0, 1]"));
  }
  if (!InUnitInterval(result.test_error())) {
    return Invalid("test_error", absl::StrCat("(", result.test_error(), ") must be in [0, 1]"));
  }
  if (result.has_int8_test_error() && !InUnitInterval(result.int8_test_error())) {
    return Invalid("int8_test_error",
                   absl::StrCat("(", result.int8_test_error(), ") must be in [0, 1]"));
  }
  if (result.has_cortex_m4_instructions()) {
    // Measured from the int8 model, so it comes with one; 10^12 is far above
    // any network of the MCU sizes searched here (about 100 per MAC).
    constexpr int64_t kMaxInstructions = 1'000'000'000'000;
    if (!result.has_quantized_model()) {
      return Invalid("cortex_m4_instructions", "is set but the result has no quantized_model");
    }
    if (result.cortex_m4_instructions() <= 0 ||
        result.cortex_m4_instructions() > kMaxInstructions) {
      return Invalid("cortex_m4_instructions",
                     absl::StrCat("(", result.cortex_m4_instructions(), ") must be in [1, ",
                                  kMaxInstructions, "]"));
    }
  }
  if (result.has_achieved_sparsity() && !InUnitInterval(result.achieved_sparsity())) {
    return Invalid("achieved_sparsity",
                   absl::StrCat("(", result.achieved_sparsity(), ") must be in [0, 1]"));
  }
  if (!std::isfinite(result.training_seconds()) || result.training_seconds() < 0) {
    return Invalid("training_seconds",
                   absl::StrCat("(", result.training_seconds(), ") must be finite and >= 0"));
  }
  if (result.trained_weights().size() > kMaxTrainedWeightsBytes) {
    return Invalid("trained_weights", absl::StrCat("(", result.trained_weights().size(),
                                                   " bytes) exceeds ", kMaxTrainedWeightsBytes));
  }
  for (int i = 0; i < result.epochs_size(); ++i) {
    const v1::EpochRecord& epoch = result.epochs(i);
    for (double v : {epoch.train_loss(), epoch.train_accuracy(), epoch.validation_loss(),
                     epoch.validation_accuracy(), epoch.learning_rate(), epoch.sparsity(),
                     epoch.images_per_second()}) {
      if (!std::isfinite(v))
        return Invalid(absl::StrCat("epochs[", i, "]"), "has a non-finite value");
    }
  }
  if (result.pruning().empty()) return absl::OkStatus();

  absl::StatusOr<NetworkPlan> plan = PlanNetwork(architecture, data);
  if (!plan.ok()) return plan.status();
  absl::flat_hash_map<std::string, const PlannedOp*> prunable;
  for (const PlannedOp& op : plan->ops) {
    if (op.prunable) prunable[op.name] = &op;
  }
  absl::flat_hash_map<std::string, int> seen;
  for (int i = 0; i < result.pruning_size(); ++i) {
    const v1::LayerPruning& layer_pruning = result.pruning(i);
    std::string field = absl::StrCat("pruning[", i, "]");
    auto it = prunable.find(layer_pruning.layer());
    if (it == prunable.end()) {
      return Invalid(field, absl::StrCat("names \"", layer_pruning.layer(),
                                         "\", which is not a prunable layer of the architecture"));
    }
    if (seen[layer_pruning.layer()]++ > 0)
      return Invalid(field, absl::StrCat("repeats \"", layer_pruning.layer(), "\""));
    const PlannedOp& op = *it->second;
    int64_t channels = op.output.channels;
    if (layer_pruning.surviving_channels() < 0 || layer_pruning.surviving_channels() > channels) {
      return Invalid(field,
                     absl::StrCat(".surviving_channels (", layer_pruning.surviving_channels(),
                                  ") must be in [0, ", channels, "]"));
    }
    if (layer_pruning.nonzero_weights() < 0 ||
        layer_pruning.nonzero_weights() > op.kernel_elements) {
      return Invalid(field, absl::StrCat(".nonzero_weights (", layer_pruning.nonzero_weights(),
                                         ") must be in [0, ", op.kernel_elements, "]"));
    }
    if (layer_pruning.total_weights() != 0 && layer_pruning.total_weights() != op.kernel_elements) {
      return Invalid(field, absl::StrCat(".total_weights (", layer_pruning.total_weights(),
                                         ") does not match the layer's ", op.kernel_elements));
    }
  }
  // The pruned view must itself be buildable.
  PlanOptions options;
  options.pruning = &result.pruning();
  absl::StatusOr<NetworkPlan> pruned = PlanNetwork(architecture, data, options);
  if (!pruned.ok())
    return absl::InvalidArgumentError(absl::StrCat("result.pruning: ", pruned.status().message()));
  return absl::OkStatus();
}

absl::Status ValidateResultContents(const v1::EvaluationResult& result) {
  if (absl::Status status = CheckSize("result.trained_weights", result.trained_weights().size(),
                                      kMaxTrainedWeightsBytes);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = CheckSize("result.device", result.device().size(), kMaxDeviceBytes);
      !status.ok()) {
    return status;
  }
  if (result.epochs_size() > kMaxEpochRecords) {
    return Invalid("epochs", absl::StrCat("has ", result.epochs_size(), " records; the limit is ",
                                          kMaxEpochRecords));
  }
  for (int i = 0; i < result.pruning_size(); ++i) {
    if (absl::Status status = CheckSize(absl::StrCat("result.pruning[", i, "].layer"),
                                        result.pruning(i).layer().size(), kMaxIdBytes);
        !status.ok()) {
      return status;
    }
  }
  if (!result.has_quantized_model()) return absl::OkStatus();
  if (absl::Status status =
          CheckSize("result.quantized_model", result.quantized_model().ByteSizeLong(),
                    kMaxQuantizedModelBytes);
      !status.ok()) {
    return status;
  }
  absl::StatusOr<int8::Interpreter> interpreter =
      int8::Interpreter::Create(result.quantized_model());
  if (!interpreter.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "result.quantized_model is not a valid int8 model: ", interpreter.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace unas::coordinator
