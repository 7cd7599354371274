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

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Evaluates one task. `stop` becomes true when the coordinator withdraws
  // the task (job cancelled, lease lost) or the worker shuts down; an
  // evaluator should then return soon (any status: the result is dropped).
  // An INVALID_ARGUMENT or FAILED_PRECONDITION error means the candidate
  // itself cannot be trained (it will not be retried elsewhere); any other
  // error is the worker's and the candidate is retried.
  virtual absl::StatusOr<v1::EvaluationResult> Evaluate(const v1::Task& task,
                                                        const EpochObserver& progress,
                                                        const std::atomic<bool>& stop) = 0;
};

}  // namespace unas::worker

#endif  // UNAS_WORKER_DAEMON_EVALUATOR_H_
