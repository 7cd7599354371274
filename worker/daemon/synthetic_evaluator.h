// A synthetic evaluator: no training, an error that is a fixed, smooth
// function of the network (bigger networks err less, with a small
// per-architecture wobble). It makes the whole distributed system testable
// and benchmarkable in seconds: `unas-worker --synthetic`.
#ifndef UNAS_WORKER_DAEMON_SYNTHETIC_EVALUATOR_H_
#define UNAS_WORKER_DAEMON_SYNTHETIC_EVALUATOR_H_

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
  absl::StatusOr<v1::EvaluationResult> Evaluate(const v1::Task& task, const EpochObserver& progress,
                                                const std::atomic<bool>& stop) override;

 private:
  SyntheticOptions options_;
};

// The synthetic validation error of an architecture for the task's data:
// deterministic, in (0, 1).
absl::StatusOr<double> SyntheticError(const v1::Task& task);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DAEMON_SYNTHETIC_EVALUATOR_H_
