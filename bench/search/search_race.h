// One search run for the algorithm comparison: a job on an in-process
// coordinator (the production proposal, skip, reuse, feasibility and
// automated stopping code) served by N emulated asynchronous workers. Each
// leased candidate is evaluated at once by an Evaluator (synthetic or real
// training, run one at a time) and "finishes" at its lease time plus its
// evaluation time on a virtual clock; results are reported in virtual finish
// order, so a worker that drew a quick candidate reports first, as on a real
// cluster. When the job stops candidates early (automated_stopping), each
// learning-curve point is sent in a heartbeat at the virtual time it was
// measured, and a candidate the coordinator stops frees its worker then:
// its training time counts only up to that point.
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
  // Ends the run (the job is cancelled) once this much training time has
  // been spent, in-flight candidates' partial time included; 0: the job's
  // rounds alone end it.
  double cpu_budget_seconds = 0;
};

// One evaluation, in history (finish) order.
struct RaceEvaluation {
  int64_t candidate_id = 0;
  double validation_error = 1;  // a stopped candidate's: its best curve error
  bool feasible = false;
  bool stopped = false;                 // stopped early by the automated stopping rule
  bool within_resource_bounds = false;  // every resource bound holds (error aside)
  double seconds = 0;                   // training time spent on it (0: a reused result)
  // Training time spent by the whole run when this result came in: every
  // finished candidate's and the partial time of those still training.
  double spent_seconds = 0;
};

struct RaceResult {
  std::vector<RaceEvaluation> history;
  int skipped = 0;              // proposals over every bound by the skip factor, not trained
  int stopped = 0;              // stopped early by the automated stopping rule
  bool budget_reached = false;  // cpu_budget_seconds ended the run
  double wall_seconds = 0;
};

absl::StatusOr<RaceResult> RunRace(const v1::JobSpec& spec, worker::Evaluator& evaluator,
                                   const RaceOptions& options);

// Best feasible validation error after each evaluation (nullopt before the
// first feasible one).
std::vector<std::optional<double>> BestFeasibleCurve(const std::vector<RaceEvaluation>& history);

}  // namespace unas::bench

#endif  // UNAS_BENCH_SEARCH_SEARCH_RACE_H_
