// The coordinator's in-memory model of one job: what scheduling needs and
// no more. The rows of candidates in flight (QUEUED, LEASED), one byte of
// state per candidate, the DONE ids in history order, a fingerprint index
// for duplicates, the queue, leases that ended, counters and events.
// Finished candidates' rows (DONE, FAILED, SKIPPED) stay only until the
// store has them durably; queries then read them from the store, so memory
// grows by a few tens of bytes per finished candidate, not by its row.
// Plain data with small helpers; the coordinator's parts (coordinator_state.h)
// change it under its lock and write every change through to the store.
#ifndef UNAS_COORDINATOR_CORE_JOB_STATE_H_
#define UNAS_COORDINATOR_CORE_JOB_STATE_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "common/objectives/objectives.h"
#include "common/search_space/space.h"
#include "coordinator/core/proposal_pipeline.h"
#include "coordinator/search/median_stopping.h"
#include "coordinator/store/store.h"
#include "unas/v1/job.pb.h"
#include "unas/v1/job_service.pb.h"

namespace unas::coordinator {

using store::CandidateRow;

// A lease that ended (expired, failed, released) while its candidate is
// still waiting or training elsewhere: the worker that held it may still
// report a late result, and nobody else may.
struct EndedLease {
  int64_t candidate_id = 0;
  std::string worker_id;
};

struct JobEntry {
  v1::Job job;
  ProposalPipeline proposals;  // the search algorithm, run without the lock
  DataShape data;
  search::BoundVector bounds;
  bool sparse_size = false;  // unstructured pruning: size counts non-zero weights
  // candidate_id - 1 → its v1::CandidateState, for every candidate.
  std::vector<uint8_t> states;
  // QUEUED and LEASED rows (waiting duplicates included) by id. Node-based:
  // a reference stays valid while other rows come and go.
  absl::node_hash_map<int64_t, CandidateRow> active;
  // Finished rows whose store write may not be durable yet, by id, and
  // their write tickets in order (store/group_commit.h): the store's
  // read-only connection cannot see them before they are durable.
  absl::node_hash_map<int64_t, CandidateRow> finishing;
  std::deque<std::pair<uint64_t, int64_t>> finishing_tickets;
  std::deque<int64_t> queue;  // QUEUED ids, next first
  absl::flat_hash_map<uint64_t, int64_t> done_by_fingerprint;
  // Identity -> the QUEUED or LEASED candidate being evaluated for it.
  absl::flat_hash_map<uint64_t, int64_t> in_flight_by_fingerprint;
  // Candidate id -> QUEUED duplicates proposed while it was in flight; they
  // take its result instead of training the same network again.
  absl::flat_hash_map<int64_t, std::vector<int64_t>> duplicates_waiting_for;
  int duplicates_waiting = 0;
  // DONE and STOPPED ids in completion order: what the search observed.
  std::vector<int64_t> history;
  std::deque<bool> recent_feasible;  // of the last 25 in history, oldest first
  // `done` counts the history (DONE and STOPPED: both count towards the
  // rounds); `stopped` the STOPPED among them.
  int done = 0, stopped = 0, leased = 0, failed = 0, skipped = 0, lease_expiries = 0;
  // The learning curves of the DONE candidates that have one, in history
  // order: the automated stopping rule's completed set (STOPPED candidates
  // are not completed). Kept only for jobs with automated_stopping.
  std::vector<search::CompletedCurve> completed_curves;
  int consecutive_skips = 0;
  // Candidates given up in a row for causes of one class (failure_text.h).
  int consecutive_failures = 0;
  std::string last_failure_class;
  // Networks that FAILED (their identity -> the candidate): never trained
  // again. Rebuilt from the store's FAILED rows after a restart.
  absl::flat_hash_map<uint64_t, int64_t> failed_by_fingerprint;
  // Proposals in a row of networks that had failed before.
  int consecutive_failed_repeats = 0;
  std::optional<double> best_feasible_error;
  // The last max_events_per_job events for WatchJob, serialised
  // (v1::JobEvent): several times smaller than the messages themselves.
  std::deque<std::string> events;
  int64_t events_base = 0;  // sequence number of events.front() minus one
  // By lease id; only for candidates still QUEUED or LEASED (forgotten when
  // they end), so it stays small. Not stored: after a restart a late report
  // of a lease that had ended before is refused.
  absl::flat_hash_map<std::string, EndedLease> ended_leases;

  void ForgetEndedLeases(int64_t candidate_id) {
    absl::erase_if(ended_leases,
                   [&](const auto& entry) { return entry.second.candidate_id == candidate_id; });
  }

  int rounds() const { return job.spec().algorithm().rounds(); }
  // Counts for the job's progress; feasible_in_last_25 over the last 25
  // evaluations.
  v1::JobProgress Progress() const;
  // A DONE or STOPPED candidate joins the history.
  void AddToHistory(int64_t candidate_id, bool feasible);

  int64_t candidate_count() const { return static_cast<int64_t>(states.size()); }
  bool has(int64_t id) const { return id >= 1 && id <= candidate_count(); }
  v1::CandidateState state(int64_t id) const {
    return static_cast<v1::CandidateState>(states[static_cast<size_t>(id - 1)]);
  }
  // The row of a QUEUED or LEASED candidate (it must be one).
  CandidateRow& active_row(int64_t id) { return active.at(id); }
  // The row if it is in memory (in flight, or finished but not yet durable).
  const CandidateRow* FindRow(int64_t id) const;
  // Records a candidate's new row (a new candidate's id is the next one). A
  // finished row leaves `active` and is kept only until `ticket`, the write
  // that stores it, is durable (0: it is already).
  void Put(CandidateRow row, uint64_t ticket);
  // Drops the finished rows whose writes are durable up to `durable_ticket`.
  void ForgetDurableRows(uint64_t durable_ticket);
  // For a job that has ended: drops every event but the last, the
  // fingerprint indexes (done, in flight, failed) and the search algorithm
  // (none is needed once nothing more is proposed or leased). Ended leases
  // stay: they are few, and answer a late report of one clearly. Idempotent.
  void Compact();
  bool compacted = false;
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_JOB_STATE_H_
