// The coordinator's shared state and the primitives every part of it uses:
// jobs, leases (lease_table.h) and workers behind one mutex, writes queued
// for group commit (each returns its ticket), finished rows forgotten once
// durable, job events and job state changes. The parts that change it are
// free functions over this struct, called with `mu` held: scheduling
// (scheduling.h), what becomes of a proposal (proposal_outcome.h), the lease
// life cycle (lease_lifecycle.h), what a result changes (result_commit.h)
// and the rebuild after a restart (restart_replay.h). The public calls that
// take `mu` are in job_calls.cc and worker_calls.cc.
#ifndef UNAS_COORDINATOR_CORE_COORDINATOR_STATE_H_
#define UNAS_COORDINATOR_CORE_COORDINATOR_STATE_H_

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "coordinator/core/coordinator.h"
#include "coordinator/core/failure_text.h"
#include "coordinator/core/job_state.h"
#include "coordinator/core/lease_table.h"
#include "coordinator/core/worker_identity.h"
#include "coordinator/core/worker_input_limits.h"
#include "coordinator/store/group_commit.h"
#include "coordinator/store/store.h"
#include "google/protobuf/util/time_util.h"

namespace unas::coordinator {

// Failure reasons of expired leases start with it (counted on restart); it
// is also their cause for max_consecutive_failures.
inline constexpr char kLeaseExpiredPrefix[] = "lease expired";
// The cause of an attempt whose worker registered again while holding it.
inline constexpr char kWorkerDiedCause[] = "worker died";
// The cause of an attempt whose heartbeats reported no new training step
// for the job's progress_timeout_seconds.
inline constexpr char kNoProgressCause[] = "no training progress";
// The cause of a candidate given back (released) too many times.
inline constexpr char kReleasedTooOftenCause[] = "re-queued too often without a result";
// The ticket of writes queued before the group committer starts: never
// known to be durable, so rows they store stay in memory.
inline constexpr uint64_t kNeverDurable = UINT64_MAX;

// WatchJob events a job keeps once it has ended.
inline constexpr int kEventsKeptAfterEnd = 100;

inline bool IsFinished(v1::JobState state) { return state != v1::JOB_STATE_RUNNING; }

struct WorkerEntry {
  v1::WorkerInfo info;
  int64_t last_seen_ms = 0;
  // SHA-256 of the secret of the name's last registration (worker_identity.h);
  // empty for a worker restored from a database that predates secrets.
  std::string secret_digest;
};

struct CoordinatorState {
  using TimeUtil = google::protobuf::util::TimeUtil;

  std::unique_ptr<store::Store> store;
  CoordinatorOptions options;
  // Every write goes through it (started after the restart replay);
  // destroyed before the store and the options its listener reads, storing
  // what is still queued.
  std::unique_ptr<store::GroupCommitter> committer;
  std::vector<store::BatchedWrite> writes_before_start;  // the replay's writes

  std::mutex mu;
  std::condition_variable changed;  // new work, results, job state, shutdown
  bool shutdown = false;
  std::map<int64_t, JobEntry> jobs;
  int64_t last_served_job = 0;
  LeaseTable leases;                                      // in force, by lease id and by holder
  absl::flat_hash_map<std::string, WorkerEntry> workers;  // by worker_id
  absl::flat_hash_map<std::string, std::string> worker_ids_by_name;
  int64_t next_worker_number = 1;
  int64_t next_job_id = 1;

  int64_t Now() const { return options.now_ms(); }

  // Queues one event's store writes (mu held, so they are stored in the order
  // the in-memory state changed). Nothing is acknowledged before they are
  // durable (Coordinator waits for them before it answers). Returns the
  // write's ticket (store/group_commit.h).
  uint64_t Write(const char* operation, store::BatchedWrite write) {
    if (committer == nullptr) {
      writes_before_start.push_back(std::move(write));
      return kNeverDurable;
    }
    return committer->Enqueue(operation, std::move(write));
  }

  // Records a candidate's new row, stored by the write `ticket`; finished
  // rows leave memory once durable (job_state.h).
  void PutRow(JobEntry& job, CandidateRow row, uint64_t ticket) {
    if (committer != nullptr) job.ForgetDurableRows(committer->durable_ticket());
    job.Put(std::move(row), ticket);
  }

  // Drops every job's finished rows that are durable by now.
  void ForgetDurableRows() {
    if (committer == nullptr) return;
    const uint64_t durable = committer->durable_ticket();
    for (auto& [job_id, job] : jobs) job.ForgetDurableRows(durable);
  }

  absl::StatusOr<JobEntry*> FindJob(int64_t job_id) {
    auto it = jobs.find(job_id);
    if (it == jobs.end()) return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
    return &it->second;
  }

  // The job as clients see it, with its progress.
  v1::Job JobView(const JobEntry& entry) const {
    v1::Job job = entry.job;
    *job.mutable_progress() = entry.Progress();
    if (committer != nullptr) {
      if (absl::Status health = committer->health(); !health.ok()) {
        job.set_store_error(std::string(health.message()));
      }
    }
    return job;
  }

  // Records a WatchJob event. A job that has ended keeps only its last
  // kEventsKeptAfterEnd events (a watcher that far behind skips the older
  // ones, as one max_events_per_job behind does while it runs).
  void AddEvent(JobEntry& job, v1::JobEvent event) {
    event.set_job_id(job.job.job_id());
    *event.mutable_time() = TimeUtil::MillisecondsToTimestamp(Now());
    *event.mutable_progress() = job.Progress();
    event.set_state(job.job.state());
    job.events.push_back(event.SerializeAsString());
    const int kept = IsFinished(job.job.state())
                         ? std::min(options.max_events_per_job, kEventsKeptAfterEnd)
                         : options.max_events_per_job;
    while (static_cast<int>(job.events.size()) > kept) {
      job.events.pop_front();
      ++job.events_base;
    }
    changed.notify_all();
  }

  absl::Status SetJobState(JobEntry& job, v1::JobState state, const std::string& full_reason) {
    const std::string reason = TruncateReason(full_reason);
    int64_t now = Now();
    Write("job_state", [job_id = job.job.job_id(), state, reason, now](store::Store& db) {
      return db.UpdateJobState(job_id, state, reason, now);
    });
    job.job.set_state(state);
    job.job.set_failure_reason(reason);
    if (IsFinished(state)) job.proposals.Release();
    *job.job.mutable_update_time() = TimeUtil::MillisecondsToTimestamp(now);
    AddEvent(job, v1::JobEvent());
    return absl::OkStatus();
  }

  // Marks a job FAILED after an error the search cannot recover from.
  void FailJob(JobEntry& job, const std::string& reason) {
    (void)SetJobState(job, v1::JOB_STATE_FAILED, reason);
  }

  // Who may make a worker call: a registered worker id (FAILED_PRECONDITION
  // otherwise: the worker registers, e.g. after the database was replaced)
  // with the secret of its current registration (UNAUTHENTICATED otherwise).
  // Worker ids are sequential and public (ListWorkers shows them): the secret
  // is the only proof of identity.
  absl::Status CheckWorker(const std::string& worker_id, const std::string& secret) const {
    auto it = workers.find(worker_id);
    if (it == workers.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("worker \"", worker_id.substr(0, kMaxIdBytes),
                       "\" is not registered; call RegisterWorker"));
    }
    // A secret is 32 hex digits: anything much longer is not hashed (under
    // the lock) at all.
    if (secret.size() > kMaxIdBytes || !SecretMatches(secret, it->second.secret_digest)) {
      return absl::UnauthenticatedError(
          absl::StrCat("worker \"", worker_id.substr(0, kMaxIdBytes),
                       "\": worker_secret is not the secret of its current registration"));
    }
    return absl::OkStatus();
  }

  void TouchWorker(const std::string& worker_id) {
    auto it = workers.find(worker_id);
    if (it != workers.end()) it->second.last_seen_ms = Now();
  }
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_COORDINATOR_STATE_H_
