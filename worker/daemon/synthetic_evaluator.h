// A synthetic evaluator: no training, an error that is a fixed, smooth
// function of the network (bigger networks err less, with a small
// per-architecture wobble), and, when the task's training asks for one, a
// learning curve that converges to it. It makes the whole distributed system
// testable and benchmarkable in seconds: `unas-worker --synthetic`.
#ifndef UNAS_WORKER_DAEMON_SYNTHETIC_EVALUATOR_H_
#define UNAS_WORKER_DAEMON_SYNTHETIC_EVALUATOR_H_

#include <vector>

#include "absl/time/time.h"
#include "worker/daemon/evaluator.h"

namespace unas::worker {

struct SyntheticOptions {
  // Pretend training takes this long (checked against `stop` every 10 ms).
  absl::Duration delay = absl::ZeroDuration();
  // Report this many epochs of progress during the delay.
  int epochs = 1;
};

class SyntheticEvaluator : public Evaluator {
 public:
  explicit SyntheticEvaluator(SyntheticOptions options = {}) : options_(options) {}
  absl::StatusOr<v1::EvaluationResult> Evaluate(const v1::Task& task,
                                                const EvaluationObservers& observers,
                                                const std::atomic<bool>& stop) override;

 private:
  SyntheticOptions options_;
};

// The synthetic validation error of an architecture for the task's data:
// deterministic, in (0, 1).
absl::StatusOr<double> SyntheticError(const v1::Task& task);

// The synthetic learning curve of a task whose training has learning_curve:
// points_per_epoch (default 4) points per epoch over `epochs` epochs, at
// epoch fractions 1/points_per_epoch, 2/points_per_epoch, ..., epochs. The
// error starts near a per-architecture a in [0.7, 0.9) and decays
// exponentially, at a per-architecture rate, to SyntheticError at the last
// point; a and the rate come from the architecture's fingerprint, so curves
// cross, as real ones do. training_seconds is the point's share of `delay`
// (nominal, so the curve is a function of the task alone). Empty when the
// training has no learning_curve.
absl::StatusOr<std::vector<v1::CurvePoint>> SyntheticCurve(const v1::Task& task, int epochs,
                                                           absl::Duration delay);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DAEMON_SYNTHETIC_EVALUATOR_H_
