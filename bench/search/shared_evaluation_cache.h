// An evaluator for algorithm comparisons with real training: it makes the
// error a fixed function of the candidate, like a tabular NAS benchmark, and
// trains each distinct candidate once across every run and process.
//
// A candidate (architecture and target sparsity) is trained on one data split
// (`data_seed` instead of the job's seed) with a training seed derived from
// its fingerprint, so every algorithm and search seed that proposes the same
// network sees the same result, and the comparison measures the search, not
// the luck of a training run. Results live as files in a directory shared by
// several processes (two comparisons side by side, one per core): a process
// that finds another training a candidate waits for its result instead of
// training it again. A rerun reuses every stored result.
#ifndef UNAS_BENCH_SEARCH_SHARED_EVALUATION_CACHE_H_
#define UNAS_BENCH_SEARCH_SHARED_EVALUATION_CACHE_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "worker/daemon/evaluator.h"

namespace unas::bench {

class SharedEvaluationCache : public worker::Evaluator {
 public:
  // `inner` trains; `directory` is created if missing.
  SharedEvaluationCache(worker::Evaluator& inner, std::string directory, uint64_t data_seed);

  absl::StatusOr<v1::EvaluationResult> Evaluate(const v1::Task& task,
                                                const worker::EvaluationObservers& observers,
                                                const std::atomic<bool>& stop) override;

  int trained() const { return trained_; }
  int reused() const { return reused_; }

 private:
  worker::Evaluator& inner_;
  std::string directory_;
  uint64_t data_seed_;
  int trained_ = 0;
  int reused_ = 0;
};

}  // namespace unas::bench

#endif  // UNAS_BENCH_SEARCH_SHARED_EVALUATION_CACHE_H_
