// The real evaluator: trains the candidate with LibTorch (worker/train_candidate.h)
// and, for a quantised candidate, measures its generated C's Cortex-M4
// instructions per inference on QEMU when the tools are installed.
#ifndef UNAS_WORKER_DAEMON_TRAINING_EVALUATOR_H_
#define UNAS_WORKER_DAEMON_TRAINING_EVALUATOR_H_

#include <memory>
#include <mutex>
#include <string>

#include "worker/daemon/evaluator.h"

namespace unas::worker {

struct Dataset;

class TrainingEvaluator : public Evaluator {
 public:
  // `threads`: LibTorch intra-op threads for this process (0 = leave as is).
  // `measure_cortex_m4`: time each int8 model on QEMU (about a second or
  // two per candidate) when arm-none-eabi-gcc and qemu-system-arm exist.
  explicit TrainingEvaluator(int threads, bool measure_cortex_m4 = true);
  ~TrainingEvaluator() override;

  absl::StatusOr<v1::EvaluationResult> Evaluate(const v1::Task& task,
                                                const EvaluationObservers& observers,
                                                const std::atomic<bool>& stop) override;

 private:
  // The dataset of the last job seen: a job's candidates all train on the
  // same split, so it is loaded once per job, not once per candidate.
  absl::StatusOr<std::shared_ptr<const Dataset>> DatasetFor(const v1::JobSpec& spec);

  int threads_;
  bool measure_cortex_m4_;
  std::mutex mu_;
  std::string cached_key_;
  std::shared_ptr<const Dataset> cached_;
};

// The job spec a task implies (dataset, recipe, space, shapes, job seed).
v1::JobSpec SpecFromTask(const v1::Task& task);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DAEMON_TRAINING_EVALUATOR_H_
