#include "coordinator/core/result_validation.h"

#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/search_space/network_plan.h"
#include "coordinator/core/worker_input_limits.h"
#include "worker/int8/interpreter.h"

namespace unas::coordinator {
namespace {

bool InUnitInterval(double x) { return std::isfinite(x) && x >= 0.0 && x <= 1.0; }

absl::Status Invalid(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("result.", field, " ", rule));
}

}  // namespace

absl::Status ValidateEvaluationResult(const v1::EvaluationResult& r,
                                      const v1::Architecture& architecture, const DataShape& data) {
  if (!InUnitInterval(r.validation_error())) {
    return Invalid("validation_error",
                   absl::StrCat("(", r.validation_error(), ") must be in [0, 1]"));
  }
  if (!InUnitInterval(r.test_error())) {
    return Invalid("test_error", absl::StrCat("(", r.test_error(), ") must be in [0, 1]"));
  }
  if (r.has_int8_test_error() && !InUnitInterval(r.int8_test_error())) {
    return Invalid("int8_test_error",
                   absl::StrCat("(", r.int8_test_error(), ") must be in [0, 1]"));
  }
  if (r.has_achieved_sparsity() && !InUnitInterval(r.achieved_sparsity())) {
    return Invalid("achieved_sparsity",
                   absl::StrCat("(", r.achieved_sparsity(), ") must be in [0, 1]"));
  }
  if (!std::isfinite(r.training_seconds()) || r.training_seconds() < 0) {
    return Invalid("training_seconds",
                   absl::StrCat("(", r.training_seconds(), ") must be finite and >= 0"));
  }
  if (r.trained_weights().size() > kMaxTrainedWeightsBytes) {
    return Invalid("trained_weights", absl::StrCat("(", r.trained_weights().size(),
                                                   " bytes) exceeds ", kMaxTrainedWeightsBytes));
  }
  for (int i = 0; i < r.epochs_size(); ++i) {
    const v1::EpochRecord& e = r.epochs(i);
    for (double v :
         {e.train_loss(), e.train_accuracy(), e.validation_loss(), e.validation_accuracy(),
          e.learning_rate(), e.sparsity(), e.images_per_second()}) {
      if (!std::isfinite(v))
        return Invalid(absl::StrCat("epochs[", i, "]"), "has a non-finite value");
    }
  }
  if (r.pruning().empty()) return absl::OkStatus();

  absl::StatusOr<NetworkPlan> plan = PlanNetwork(architecture, data);
  if (!plan.ok()) return plan.status();
  absl::flat_hash_map<std::string, const PlannedOp*> prunable;
  for (const PlannedOp& op : plan->ops) {
    if (op.prunable) prunable[op.name] = &op;
  }
  absl::flat_hash_map<std::string, int> seen;
  for (int i = 0; i < r.pruning_size(); ++i) {
    const v1::LayerPruning& p = r.pruning(i);
    std::string field = absl::StrCat("pruning[", i, "]");
    auto it = prunable.find(p.layer());
    if (it == prunable.end()) {
      return Invalid(field, absl::StrCat("names \"", p.layer(),
                                         "\", which is not a prunable layer of the architecture"));
    }
    if (seen[p.layer()]++ > 0) return Invalid(field, absl::StrCat("repeats \"", p.layer(), "\""));
    const PlannedOp& op = *it->second;
    int64_t channels = op.output.channels;
    if (p.surviving_channels() < 0 || p.surviving_channels() > channels) {
      return Invalid(field, absl::StrCat(".surviving_channels (", p.surviving_channels(),
                                         ") must be in [0, ", channels, "]"));
    }
    if (p.nonzero_weights() < 0 || p.nonzero_weights() > op.kernel_elements) {
      return Invalid(field, absl::StrCat(".nonzero_weights (", p.nonzero_weights(),
                                         ") must be in [0, ", op.kernel_elements, "]"));
    }
    if (p.total_weights() != 0 && p.total_weights() != op.kernel_elements) {
      return Invalid(field, absl::StrCat(".total_weights (", p.total_weights(),
                                         ") does not match the layer's ", op.kernel_elements));
    }
  }
  // The pruned view must itself be buildable.
  PlanOptions options;
  options.pruning = &r.pruning();
  absl::StatusOr<NetworkPlan> pruned = PlanNetwork(architecture, data, options);
  if (!pruned.ok())
    return absl::InvalidArgumentError(absl::StrCat("result.pruning: ", pruned.status().message()));
  return absl::OkStatus();
}

absl::Status ValidateResultContents(const v1::EvaluationResult& r) {
  if (absl::Status s =
          CheckSize("result.trained_weights", r.trained_weights().size(), kMaxTrainedWeightsBytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckSize("result.device", r.device().size(), kMaxDeviceBytes); !s.ok()) {
    return s;
  }
  if (r.epochs_size() > kMaxEpochRecords) {
    return Invalid("epochs", absl::StrCat("has ", r.epochs_size(), " records; the limit is ",
                                          kMaxEpochRecords));
  }
  for (int i = 0; i < r.pruning_size(); ++i) {
    if (absl::Status s = CheckSize(absl::StrCat("result.pruning[", i, "].layer"),
                                   r.pruning(i).layer().size(), kMaxIdBytes);
        !s.ok()) {
      return s;
    }
  }
  if (!r.has_quantized_model()) return absl::OkStatus();
  if (absl::Status s = CheckSize("result.quantized_model", r.quantized_model().ByteSizeLong(),
                                 kMaxQuantizedModelBytes);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(r.quantized_model());
  if (!interpreter.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "result.quantized_model is not a valid int8 model: ", interpreter.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace unas::coordinator
