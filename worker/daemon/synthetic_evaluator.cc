#include "worker/daemon/synthetic_evaluator.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "common/search_space/fingerprint.h"
#include "common/search_space/network_plan.h"

namespace unas::worker {
namespace {

// LearningCurveSpec.points_per_epoch when unset.
constexpr int kDefaultPointsPerEpoch = 4;

// Sleeps until `until`, polling `stop` every 10 ms; false when stopped.
bool WaitUntil(absl::Time until, const std::atomic<bool>& stop) {
  while (absl::Now() < until) {
    if (stop.load()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::min<int64_t>(10, absl::ToInt64Milliseconds(until - absl::Now()) + 1)));
  }
  return !stop.load();
}

}  // namespace

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

absl::StatusOr<std::vector<v1::CurvePoint>> SyntheticCurve(const v1::Task& task, int epochs,
                                                           absl::Duration delay) {
  std::vector<v1::CurvePoint> curve;
  if (!task.training().has_learning_curve()) return curve;
  absl::StatusOr<double> final_error = SyntheticError(task);
  if (!final_error.ok()) return final_error.status();
  const v1::LearningCurveSpec& spec = task.training().learning_curve();
  const int per_epoch = spec.has_points_per_epoch() && spec.points_per_epoch() > 0
                            ? spec.points_per_epoch()
                            : kDefaultPointsPerEpoch;
  epochs = std::max(1, epochs);
  const uint64_t fp =
      Fingerprint(task.architecture(), MakeDataShape(task.input_shape(), task.num_classes()));
  // Two further draws from the fingerprint, independent of the wobble above.
  const double u1 = static_cast<double>((fp / 10007) % 9973) / 9973.0;
  const double u2 = static_cast<double>((fp / (10007ULL * 9973)) % 9967) / 9967.0;
  const double start = std::max(*final_error, 0.7 + 0.2 * u1);
  const double rate = 2.0 + 4.0 * u2;  // per whole run: fast and slow learners
  // err(t) = final + (start − final)·(e^(−rate·t) − e^(−rate)) / (1 − e^(−rate)),
  // t ∈ (0, 1] the share of training done: start at t = 0, exactly final at 1.
  const double floor = std::exp(-rate);
  const int points = per_epoch * epochs;
  curve.reserve(static_cast<size_t>(points));
  for (int i = 1; i <= points; ++i) {
    const double t = static_cast<double>(i) / points;
    const double decay = i == points ? 0.0 : (std::exp(-rate * t) - floor) / (1.0 - floor);
    v1::CurvePoint point;
    point.set_epoch_fraction(static_cast<double>(i) / per_epoch);
    point.set_validation_error(*final_error + (start - *final_error) * decay);
    point.set_training_seconds(absl::ToDoubleSeconds(delay) * t);
    curve.push_back(point);
  }
  return curve;
}

absl::StatusOr<v1::EvaluationResult> SyntheticEvaluator::Evaluate(
    const v1::Task& task, const EvaluationObservers& observers, const std::atomic<bool>& stop) {
  absl::StatusOr<double> error = SyntheticError(task);
  if (!error.ok()) return absl::InvalidArgumentError(error.status().message());
  const int epochs = std::max(1, options_.epochs);
  absl::StatusOr<std::vector<v1::CurvePoint>> curve = SyntheticCurve(task, epochs, options_.delay);
  if (!curve.ok()) return absl::InvalidArgumentError(curve.status().message());
  const size_t per_epoch = curve->size() / static_cast<size_t>(epochs);
  absl::Time start = absl::Now();
  v1::EvaluationResult result;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    // The epoch's curve points, each at its share of the delay.
    for (size_t p = 1; p <= per_epoch; ++p) {
      const size_t index = static_cast<size_t>(epoch - 1) * per_epoch + p - 1;
      if (!WaitUntil(start + options_.delay * static_cast<double>(index + 1) /
                                 static_cast<double>(curve->size()),
                     stop)) {
        return absl::CancelledError("stopped");
      }
      *result.add_curve() = (*curve)[index];
      if (observers.curve) observers.curve((*curve)[index]);
    }
    if (!WaitUntil(start + options_.delay * epoch / epochs, stop)) {
      return absl::CancelledError("stopped");
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
    if (observers.epoch) observers.epoch(record);
  }
  result.set_validation_error(*error);
  result.set_test_error(std::min(0.999, *error + 0.005));
  result.set_training_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  result.set_device("synthetic");
  return result;
}

}  // namespace unas::worker
