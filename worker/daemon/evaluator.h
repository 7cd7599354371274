// What a worker does with a task: train and evaluate the candidate (the
// LibTorch trainer), or, for tests and benchmarks of the distributed system,
// compute a synthetic result. The worker loop does not know which.
#ifndef UNAS_WORKER_DAEMON_EVALUATOR_H_
#define UNAS_WORKER_DAEMON_EVALUATOR_H_

#include <atomic>
#include <functional>

#include "absl/status/statusor.h"
#include "unas/v1/evaluation.pb.h"
#include "unas/v1/worker_service.pb.h"

namespace unas::worker {

// Called after each epoch; the worker forwards it with its next heartbeat.
using EpochObserver = std::function<void(const v1::EpochRecord&)>;

// Called for each learning-curve point as it is measured (only when the
// task's training asks for a curve, TrainingSpec.learning_curve); the worker
// sends the whole curve so far in a heartbeat at once, so that the
// coordinator's automated stopping rule sees every point without waiting for
// the heartbeat timer.
using CurveObserver = std::function<void(const v1::CurvePoint&)>;

// What an evaluation reports while it runs; either may be empty.
struct EvaluationObservers {
  EpochObserver epoch;
  CurveObserver curve;
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Evaluates one task. `stop` becomes true when the coordinator withdraws
  // the task (job cancelled, lease lost, stopped by the automated stopping
  // rule) or the worker shuts down; an evaluator should then return soon
  // (any status: the result is dropped).
  // An INVALID_ARGUMENT or FAILED_PRECONDITION error means the candidate
  // itself cannot be trained (it will not be retried elsewhere); any other
  // error is the worker's and the candidate is retried. A successful result
  // holds the same curve points, in order, that were sent to `observers.curve`.
  virtual absl::StatusOr<v1::EvaluationResult> Evaluate(const v1::Task& task,
                                                        const EvaluationObservers& observers,
                                                        const std::atomic<bool>& stop) = 0;
};

}  // namespace unas::worker

#endif  // UNAS_WORKER_DAEMON_EVALUATOR_H_
