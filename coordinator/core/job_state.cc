#include "coordinator/core/job_state.h"

#include <algorithm>

namespace unas::coordinator {
namespace {

constexpr size_t kFeasibleWindow = 25;  // "bounds satisfied in the last 25" (§5.3)

}  // namespace

v1::JobProgress JobEntry::Progress() const {
  v1::JobProgress progress;
  progress.set_rounds(rounds());
  progress.set_evaluations_done(done - stopped);
  progress.set_candidates_stopped(stopped);
  progress.set_evaluations_in_flight(leased);
  progress.set_evaluations_queued(static_cast<int32_t>(queue.size()) + duplicates_waiting);
  progress.set_evaluations_failed(failed);
  progress.set_candidates_skipped(skipped);
  progress.set_lease_expiries(lease_expiries);
  if (best_feasible_error) progress.set_best_feasible_error(*best_feasible_error);
  progress.set_feasible_in_last_25(
      static_cast<int32_t>(std::count(recent_feasible.begin(), recent_feasible.end(), true)));
  if (proposals.model_status()) {
    *progress.mutable_bayesian_optimization() = *proposals.model_status();
  }
  return progress;
}

void JobEntry::AddToHistory(int64_t candidate_id, bool feasible) {
  history.push_back(candidate_id);
  recent_feasible.push_back(feasible);
  if (recent_feasible.size() > kFeasibleWindow) recent_feasible.pop_front();
}

const CandidateRow* JobEntry::FindRow(int64_t id) const {
  if (auto it = active.find(id); it != active.end()) return &it->second;
  if (auto it = finishing.find(id); it != finishing.end()) return &it->second;
  return nullptr;
}

void JobEntry::Put(CandidateRow row, uint64_t ticket) {
  const int64_t id = row.candidate.candidate_id();
  const v1::CandidateState new_state = row.candidate.state();
  if (id > candidate_count()) states.resize(static_cast<size_t>(id), 0);
  states[static_cast<size_t>(id - 1)] = static_cast<uint8_t>(new_state);
  if (new_state == v1::CANDIDATE_STATE_QUEUED || new_state == v1::CANDIDATE_STATE_LEASED) {
    active[id] = std::move(row);
    return;
  }
  active.erase(id);
  if (ticket == 0) return;  // stored durably already (a restart's replay)
  finishing[id] = std::move(row);
  finishing_tickets.emplace_back(ticket, id);
}

void JobEntry::ForgetDurableRows(uint64_t durable_ticket) {
  while (!finishing_tickets.empty() && finishing_tickets.front().first <= durable_ticket) {
    finishing.erase(finishing_tickets.front().second);
    finishing_tickets.pop_front();
  }
}

void JobEntry::Compact() {
  if (compacted) return;
  compacted = true;
  while (events.size() > 1) {
    events.pop_front();
    ++events_base;
  }
  events.shrink_to_fit();
  absl::flat_hash_map<uint64_t, int64_t>().swap(done_by_fingerprint);
  absl::flat_hash_map<uint64_t, int64_t>().swap(in_flight_by_fingerprint);
  absl::flat_hash_map<uint64_t, int64_t>().swap(failed_by_fingerprint);
  proposals.Release();
  std::vector<search::CompletedCurve>().swap(completed_curves);
}

}  // namespace unas::coordinator
