#include "worker/daemon/synthetic_evaluator.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "common/search_space/fingerprint.h"
#include "common/search_space/network_plan.h"

namespace unas::worker {

absl::StatusOr<double> SyntheticError(const v1::Task& task) {
  DataShape data = MakeDataShape(task.input_shape(), task.num_classes());
  absl::StatusOr<NetworkPlan> plan = PlanNetwork(task.architecture(), data);
  if (!plan.ok()) return plan.status();
  double params = static_cast<double>(plan->parameter_count());
  // 0.08 + 0.6·e^(−params/8000): a 1 K-parameter net errs ~0.61, a 50 K one ~0.08.
  double base = 0.08 + 0.6 * std::exp(-params / 8000.0);
  uint64_t fp = Fingerprint(task.architecture(), data);
  double wobble = (static_cast<double>(fp % 10007) / 10007.0 - 0.5) * 0.04;
  return std::clamp(base + wobble, 0.001, 0.999);
}

absl::StatusOr<v1::EvaluationResult> SyntheticEvaluator::Evaluate(const v1::Task& task,
                                                                  const EpochObserver& progress,
                                                                  const std::atomic<bool>& stop) {
  absl::StatusOr<double> error = SyntheticError(task);
  if (!error.ok()) return absl::InvalidArgumentError(error.status().message());
  absl::Time start = absl::Now();
  int epochs = std::max(1, options_.epochs);
  v1::EvaluationResult result;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    absl::Time until = start + options_.delay * epoch / epochs;
    while (absl::Now() < until) {
      if (stop.load()) return absl::CancelledError("stopped");
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::min<int64_t>(10, absl::ToInt64Milliseconds(until - absl::Now()) + 1)));
    }
    // A learning curve that ends at the synthetic error, so that what shows
    // per-epoch records (status, the dashboard) has some to show.
    const double remaining = static_cast<double>(epochs - epoch) / epochs;
    const double epoch_error = std::min(0.95, *error + 0.3 * remaining * remaining);
    v1::EpochRecord record;
    record.set_epoch(epoch);
    record.set_validation_accuracy(1.0 - epoch_error);
    record.set_train_accuracy(std::min(1.0, 1.0 - epoch_error + 0.01));
    *result.add_epochs() = record;
    if (progress) progress(record);
  }
  result.set_validation_error(*error);
  result.set_test_error(std::min(0.999, *error + 0.005));
  result.set_training_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  result.set_device("synthetic");
  return result;
}

}  // namespace unas::worker
