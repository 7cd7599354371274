#include "worker/schedule.h"

#include <algorithm>
#include <limits>

namespace unas::worker {
namespace {

double Monitored(v1::MonitoredQuantity monitor, double loss, double accuracy) {
  return monitor == v1::MONITORED_QUANTITY_VALIDATION_ACCURACY ? accuracy : loss;
}

}  // namespace

ImprovementTracker::ImprovementTracker(v1::MonitoredQuantity monitor, double min_delta)
    : maximise_(monitor == v1::MONITORED_QUANTITY_VALIDATION_ACCURACY),
      min_delta_(min_delta < 0 ? -min_delta : min_delta),
      best_(maximise_ ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity()) {}

bool ImprovementTracker::Observe(double value) {
  const bool better = maximise_ ? value > best_ + min_delta_ : value < best_ - min_delta_;
  if (better) best_ = value;
  return better;
}

LearningRateSchedule::LearningRateSchedule(const v1::TrainingSpec& training)
    : spec_(training.lr_schedule()),
      current_(training.optimizer().learning_rate()),
      tracker_(spec_.reduce_on_plateau().monitor(), spec_.reduce_on_plateau().min_delta()) {}

double LearningRateSchedule::RateForEpoch(int epoch) {
  if (spec_.has_piecewise_constant()) {
    const v1::PiecewiseConstantSchedule& pc = spec_.piecewise_constant();
    int i = 0;
    while (i < pc.boundaries_size() && epoch >= pc.boundaries(i)) ++i;
    if (i < pc.values_size()) current_ = pc.values(i);
  }
  return current_;
}

void LearningRateSchedule::EndEpoch(double validation_loss, double validation_accuracy) {
  if (!spec_.has_reduce_on_plateau()) return;
  const v1::ReduceOnPlateauSchedule& r = spec_.reduce_on_plateau();
  if (tracker_.Observe(Monitored(r.monitor(), validation_loss, validation_accuracy))) {
    wait_ = 0;
    return;
  }
  if (++wait_ >= r.patience()) {
    if (current_ > r.min_learning_rate()) {
      current_ = std::max(current_ * r.factor(), r.min_learning_rate());
      wait_ = 0;
    }
  }
}

EarlyStopping::EarlyStopping(const v1::TrainingSpec& training)
    : enabled_(training.has_early_stopping()),
      monitor_(training.early_stopping().monitor()),
      patience_(training.early_stopping().patience()),
      tracker_(monitor_, training.early_stopping().min_delta()) {}

bool EarlyStopping::ShouldStop(double validation_loss, double validation_accuracy) {
  if (!enabled_) return false;
  if (tracker_.Observe(Monitored(monitor_, validation_loss, validation_accuracy))) {
    wait_ = 0;
    return false;
  }
  return ++wait_ >= patience_;
}

std::vector<double> BalancedClassWeights(const std::vector<int32_t>& labels, int num_classes) {
  std::vector<int64_t> counts(num_classes, 0);
  int64_t n = 0;
  for (int32_t l : labels) {
    if (l >= 0 && l < num_classes) {
      ++counts[l];
      ++n;
    }
  }
  std::vector<double> weights(num_classes, 1.0);
  for (int c = 0; c < num_classes; ++c) {
    if (counts[c] > 0)
      weights[c] = static_cast<double>(n) / (num_classes * static_cast<double>(counts[c]));
  }
  return weights;
}

}  // namespace unas::worker
