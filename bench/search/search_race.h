// One search run for the algorithm comparison: a job on an in-process
// coordinator (the production proposal, skip, reuse and feasibility code)
// served by N emulated asynchronous workers. Each leased candidate is
// evaluated at once by an Evaluator (synthetic or real training, run one at
// a time) and "finishes" at its lease time plus its evaluation time on a
// virtual clock; results are reported in virtual finish order, so a worker
// that drew a quick candidate reports first, as on a real cluster.
#ifndef UNAS_BENCH_SEARCH_SEARCH_RACE_H_
#define UNAS_BENCH_SEARCH_SEARCH_RACE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "unas/v1/job_spec.pb.h"
#include "worker/daemon/evaluator.h"

namespace unas::bench {

struct RaceOptions {
  int workers = 4;
  std::string db_path;  // a fresh SQLite file for this run, removed afterwards
  // Virtual duration of an evaluation; unset: the result's training_seconds
  // (0 for the synthetic evaluator, which therefore sets it).
  std::function<double(const v1::Task&, const v1::EvaluationResult&)> duration_seconds;
};

// One evaluation, in history (finish) order.
struct RaceEvaluation {
  int64_t candidate_id = 0;
  double validation_error = 1;
  bool feasible = false;
};

struct RaceResult {
  std::vector<RaceEvaluation> history;
  int skipped = 0;  // proposals over every bound by the skip factor, not trained
  double wall_seconds = 0;
};

absl::StatusOr<RaceResult> RunRace(const v1::JobSpec& spec, worker::Evaluator& evaluator,
                                   const RaceOptions& options);

// Best feasible validation error after each evaluation (nullopt before the
// first feasible one).
std::vector<std::optional<double>> BestFeasibleCurve(const std::vector<RaceEvaluation>& history);

}  // namespace unas::bench

#endif  // UNAS_BENCH_SEARCH_SEARCH_RACE_H_
