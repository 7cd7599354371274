// The coordinator's core: every job's search, candidates, leases and
// workers, behind one mutex, written through to the Store. The gRPC services
// (coordinator/service/) are thin adapters over this class, and tests drive
// it directly. Its parts: the calls themselves (job_calls.cc for
// JobService, worker_calls.cc for WorkerService; coordinator.cc creates and
// shuts down, coordinator_impl.h holds the durability wrapper), the shared
// state and its primitives (coordinator_state.h) with the leases by id and
// by worker (lease_table.h), the job model (job_state.h), scheduling
// (scheduling.h), the proposal pipeline that runs each job's search outside
// the mutex (proposal_pipeline.h), what becomes of a proposal
// (proposal_outcome.h), candidate identity for duplicates
// (candidate_identity.h), the lease life cycle (lease_lifecycle.h), what a
// result changes (result_commit.h), the rebuild after a restart
// (restart_replay.h), queries (job_queries.h), limits and checks on what
// workers send (worker_input_limits.h, result_validation.h), resource
// metrics (candidate_metrics.h) and group commit (store/group_commit.h).
//
// Memory: only what scheduling needs stays in memory (job_state.h);
// finished candidates are read back from the store on demand.
//
// Slow work never holds the mutex: proposals and their peak-memory searches,
// the metrics of pruned results, int8 model validation, fsyncs and blob reads
// all run outside it.
//
// Durability: every call that changes state returns only once its writes
// are durable (store/group_commit.h batches concurrent ones into one
// transaction); queries may show a change a few milliseconds before that.
//
// Scheduling: a worker's AcquireTask takes the next candidate of the next
// running job in round-robin order, respecting each job's
// max_parallel_evaluations; queued candidates (re-queued after a failure)
// come before new proposals. A job proposes only while
// done + queued + leased < rounds, so it ends at exactly `rounds`
// evaluations; failed candidates are replaced, and a job whose candidates
// fail max_consecutive_failures times in a row for one reason fails.
//
// Workers: RegisterWorker hands out a secret (128 bits from OpenSSL's
// CSPRNG) that every later call of the worker must carry; worker ids are
// sequential and public, so the secret is the only proof of identity. A
// name that holds leases registers again only with its secret (the worker
// restarted: those leases end, each a failed attempt "worker died");
// without it the name is refused until they expire. A lease id is 128
// random bits, and only the registered worker holding a lease may
// heartbeat, complete or fail it.
#ifndef UNAS_COORDINATOR_CORE_COORDINATOR_H_
#define UNAS_COORDINATOR_CORE_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coordinator/core/observer.h"
#include "coordinator/store/group_commit.h"
#include "coordinator/store/store.h"
#include "unas/v1/job.pb.h"
#include "unas/v1/job_service.pb.h"
#include "unas/v1/worker_service.pb.h"

namespace unas::coordinator {

struct CoordinatorOptions {
  // How often workers should heartbeat (told at registration).
  int heartbeat_interval_seconds = 5;
  // The clock, in milliseconds since the epoch; tests inject their own.
  std::function<int64_t()> now_ms;
  // At most this many proposals are drawn in one AcquireTask (skipped and
  // reused candidates do not end the search for a trainable one).
  int max_proposals_per_acquire = 64;
  // A job whose proposals are skipped this many times in a row has bounds its
  // space cannot meet within skip_infeasible_factor: it fails with a reason.
  int max_consecutive_skips = 10000;
  // Events kept per job for WatchJob.
  int max_events_per_job = 2000;
  // How long an ended job keeps its last events for watchers catching up
  // (CompactEndedJobs).
  int ended_job_grace_seconds = 60;
  // Lease TTL of jobs whose spec sets none (0: the spec default, 120 s).
  int default_lease_ttl_seconds = 0;
  // At most this many live worker names (holding a lease, or seen within
  // kWorkerLiveMs); RegisterWorker of another name is RESOURCE_EXHAUSTED.
  int max_workers = 4096;
  // Told about evaluations, failures and store commits (metrics); not owned,
  // may be null.
  CoordinatorObserver* observer = nullptr;
  // How failed store commits are retried (store/group_commit.h).
  store::CommitRetry commit_retry;
};

class Coordinator {
 public:
  // Rebuilds every job from the store (populations replayed in history
  // order, leases given a fresh TTL) and is ready to serve.
  static absl::StatusOr<std::unique_ptr<Coordinator>> Create(std::unique_ptr<store::Store> store,
                                                             CoordinatorOptions options = {});
  ~Coordinator();

  // JobService.
  absl::StatusOr<v1::Job> SubmitJob(v1::JobSpec spec);
  absl::StatusOr<v1::Job> GetJob(int64_t job_id);
  std::vector<v1::Job> ListJobs(const v1::ListJobsRequest& request);
  absl::StatusOr<v1::Job> CancelJob(int64_t job_id);
  absl::StatusOr<v1::ListCandidatesResponse> ListCandidates(
      const v1::ListCandidatesRequest& request);
  absl::StatusOr<v1::Candidate> GetCandidate(int64_t job_id, int64_t candidate_id);
  absl::StatusOr<v1::GetParetoFrontResponse> GetParetoFront(
      const v1::GetParetoFrontRequest& request);
  absl::StatusOr<v1::ExportCandidateResponse> ExportCandidate(int64_t job_id, int64_t candidate_id);
  std::vector<v1::WorkerInfo> ListWorkers(bool include_inactive);

  // WatchJob: events after `*cursor` (0 = from now, with the current progress
  // first); waits up to `timeout` for one. Returns false once the job has
  // ended and every event was delivered.
  absl::StatusOr<bool> NextEvents(int64_t job_id, int64_t* cursor, absl::Duration timeout,
                                  std::vector<v1::JobEvent>* events);

  // WorkerService.
  absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(
      const v1::RegisterWorkerRequest& request);
  // Waits up to `wait` for a task; an empty response when none came.
  // `cancelled` (may be empty) is polled while waiting: a long-poll whose
  // caller has gone away (a worker stopping) ends without leasing anything.
  absl::StatusOr<v1::AcquireTaskResponse> AcquireTask(const v1::AcquireTaskRequest& request,
                                                      absl::Duration wait,
                                                      const std::function<bool()>& cancelled = {});
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request);
  absl::StatusOr<v1::CompleteTaskResponse> CompleteTask(const v1::CompleteTaskRequest& request);
  absl::Status FailTask(const v1::FailTaskRequest& request);

  // Re-queues (or fails) every candidate whose lease has expired. Called by
  // AcquireTask and periodically by the server.
  void ExpireLeases();

  // Lets go of what jobs that ended more than ended_job_grace_seconds ago
  // no longer need: their WatchJob events but the last (a watcher that far
  // behind gets the final state), their duplicate and lease indexes, their
  // search algorithm. Called periodically by the server.
  void CompactEndedJobs();

  // OK while the store commits. After a failed commit it is UNAVAILABLE
  // (and so is every mutating call, refused before it changes anything)
  // until a retry of the commit succeeds (store/group_commit.h): a full
  // disk that is freed again loses nothing.
  absl::Status StoreHealth() const;
  // The same, with the count of failed commits and of writes waiting.
  store::CommitHealth StoreCommitHealth() const;

  // Wakes every waiting AcquireTask and NextEvents (for shutdown).
  void Shutdown();

 private:
  struct Impl;
  explicit Coordinator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_COORDINATOR_H_
