#include "coordinator/core/job_state.h"

#include <algorithm>

namespace unas::coordinator {
namespace {

constexpr int kFeasibleWindow = 25;  // "bounds satisfied in the last 25" (§5.3)

}  // namespace

v1::JobProgress JobEntry::Progress() const {
  v1::JobProgress p;
  p.set_rounds(rounds());
  p.set_evaluations_done(done);
  p.set_evaluations_in_flight(leased);
  p.set_evaluations_queued(static_cast<int32_t>(queue.size()) + duplicates_waiting);
  p.set_evaluations_failed(failed);
  p.set_candidates_skipped(skipped);
  p.set_lease_expiries(lease_expiries);
  if (best_feasible_error) p.set_best_feasible_error(*best_feasible_error);
  int feasible = 0;
  const size_t window = kFeasibleWindow;
  const size_t from = history.size() > window ? history.size() - window : 0;
  for (size_t i = from; i < history.size(); ++i) {
    feasible += candidates[static_cast<size_t>(history[i] - 1)].candidate.feasible();
  }
  p.set_feasible_in_last_25(feasible);
  if (proposals.model_status()) *p.mutable_bayesian_optimization() = *proposals.model_status();
  return p;
}

}  // namespace unas::coordinator
