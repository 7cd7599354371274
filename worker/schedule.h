// Per-epoch training control with Keras semantics (docs/unas_original.md §7.1):
// the learning-rate schedules, early stopping and class weights. No LibTorch.
#ifndef UNAS_WORKER_SCHEDULE_H_
#define UNAS_WORKER_SCHEDULE_H_

#include <cstdint>
#include <vector>

#include "unas/v1/job_spec.pb.h"

namespace unas::worker {

// Tracks the best value of a monitored quantity (Keras's "improvement" test:
// loss must drop below best - min_delta, accuracy rise above best + min_delta).
class ImprovementTracker {
 public:
  ImprovementTracker(v1::MonitoredQuantity monitor, double min_delta);
  // Records this epoch's value; true when it improved on the best so far.
  bool Observe(double value);
  double best() const { return best_; }

 private:
  bool maximise_;
  double min_delta_;
  double best_;
};

// Picks the learning rate of each epoch (set at its start, as Keras's
// LearningRateScheduler does) and updates reduce-on-plateau after it.
class LearningRateSchedule {
 public:
  explicit LearningRateSchedule(const v1::TrainingSpec& training);
  // The rate for 0-based `epoch`; call once per epoch, in order.
  double RateForEpoch(int epoch);
  // Reports the epoch's validation loss and accuracy (reduce-on-plateau).
  void EndEpoch(double validation_loss, double validation_accuracy);
  double current() const { return current_; }

 private:
  v1::LearningRateSchedule spec_;
  double current_;
  // Reduce on plateau.
  ImprovementTracker tracker_;
  int wait_ = 0;
};

// Keras's EarlyStopping without restoring the best weights.
class EarlyStopping {
 public:
  // Never stops when the spec is absent (training.has_early_stopping()).
  explicit EarlyStopping(const v1::TrainingSpec& training);
  // Reports an epoch; true when training should stop after it.
  bool ShouldStop(double validation_loss, double validation_accuracy);

 private:
  bool enabled_;
  v1::MonitoredQuantity monitor_;
  int patience_;
  ImprovementTracker tracker_;
  int wait_ = 0;
};

// sklearn's "balanced" class weights n / (K * n_c) from the given labels
// (the training labels; the original also counted the test labels, §13.18).
// A class with no example gets weight 1.
std::vector<double> BalancedClassWeights(const std::vector<int32_t>& labels, int num_classes);

}  // namespace unas::worker

#endif  // UNAS_WORKER_SCHEDULE_H_
