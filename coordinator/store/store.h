// The coordinator's persistent state: one SQLite database, written by one
// process only. Every event is atomic (its own transaction, or its own
// savepoint inside a group commit's batch, see group_commit.h), and the
// coordinator acknowledges an event only once its transaction is durable
// (synchronous=FULL), so a coordinator killed at any instant, or a machine
// losing power, restarts from exactly what it had acknowledged.
//
// The coordinator keeps its working state in memory and writes through to
// the store; ForEachCandidate rebuilds it after a restart. Finished
// candidates live only here: queries read them back (ReadCandidates,
// ReadEvaluationPoints) through a read-only connection. Lease
// renewals are not written: after a restart every lease gets a fresh TTL,
// since no worker could heartbeat while the coordinator was down.
#ifndef UNAS_COORDINATOR_STORE_STORE_H_
#define UNAS_COORDINATOR_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "coordinator/store/sqlite.h"
#include "unas/v1/job.pb.h"

namespace unas::store {

// A candidate as the coordinator tracks it. `candidate.evaluation` never
// holds weights or the quantised model here (LoadArtifacts fetches them).
struct CandidateRow {
  v1::Candidate candidate;
  std::string lease_id;
  int64_t lease_expiry_ms = 0;
  std::optional<int64_t> finish_seq;  // history position of DONE and STOPPED candidates
};

struct JobRow {
  v1::Job job;  // spec, state, failure_reason, times; progress is derived
  std::string algorithm_state;
};

// What a finished evaluation stores besides the candidate's new state.
struct EvaluationRow {
  v1::EvaluationResult result;  // full, with weights and quantised model
  v1::ResourceMetrics metrics;  // of the trained (pruned) network
  bool feasible = false;
  std::string worker_id;
  std::optional<int64_t> reused_from;
};

// A DONE candidate's numbers (for Pareto fronts): no architecture.
struct EvaluationPoint {
  int64_t candidate_id = 0;
  bool feasible = false;
  double validation_error = 0;
  double test_error = 0;
  v1::ResourceMetrics metrics;  // of the trained (pruned) network
};

// ForEachCandidate's order: every candidate by id, or the DONE and STOPPED
// ones (those the search observed) in the order they finished (history
// order).
enum class CandidateOrder { kById, kDoneByFinish };

class Store;

// One event's writes inside a batch (Store::WriteBatch).
using BatchedWrite = std::function<absl::Status(Store&)>;

// A search algorithm's model record (search/algorithm.h: ModelRecord),
// stored opaque; (job, kind, position) is its key.
struct ModelStateRow {
  int kind = 0;
  int64_t position = 0;
  std::string bytes;
};

struct Artifacts {
  std::string trained_weights;
  v1::QuantizedModel quantized_model;
};

class Store {
 public:
  // Opens the database for writing, creating it and migrating its schema.
  // Only one process may write: a second one gets FAILED_PRECONDITION naming
  // the holder, while read-only connections stay possible.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();

  // A new RUNNING job, with the id the caller chose (the coordinator numbers
  // jobs itself, so a submission need not wait for the database to learn
  // its id).
  absl::Status InsertJob(int64_t job_id, const v1::JobSpec& spec, int64_t now_ms);
  absl::Status UpdateJobState(int64_t job_id, v1::JobState state, const std::string& reason,
                              int64_t now_ms);

  // A new candidate in any state (QUEUED, LEASED, SKIPPED).
  absl::Status InsertCandidate(const CandidateRow& row);
  // A QUEUED candidate handed to a worker.
  absl::Status LeaseCandidate(const CandidateRow& row);
  // An attempt that failed or whose lease expired: records the reason and
  // moves the candidate to its new state (QUEUED again, or FAILED).
  absl::Status RecordAttemptFailure(const CandidateRow& row, int attempt, const std::string& reason,
                                    int64_t now_ms);
  // A DONE candidate and its evaluation, in one transaction; or a STOPPED
  // one (row.candidate.stopping says why) and its partial evaluation.
  absl::Status RecordEvaluation(const CandidateRow& row, const EvaluationRow& evaluation);
  // A new candidate that is DONE at once because it copies the evaluation of
  // an identical network (evaluation.reused_from), in one transaction.
  absl::Status InsertReusedCandidate(const CandidateRow& row, const EvaluationRow& evaluation);

  // `secret_digest`: the SHA-256 of the registration's secret
  // (coordinator/core/worker_identity.h), kept so that workers go on after a
  // restart of the coordinator without registering again.
  absl::Status UpsertWorker(const v1::WorkerInfo& worker, int64_t now_ms,
                            const std::string& secret_digest = "");
  absl::Status TouchWorker(const std::string& worker_id, int64_t now_ms);
  // Forgets registrations that have gone quiet (the coordinator prunes them
  // so that names registered once do not accumulate forever).
  absl::Status DeleteWorkers(const std::vector<std::string>& worker_ids);

  // Inserts or replaces a job's model records. UpdateJobState to an ended
  // state deletes them: an ended job never proposes again.
  absl::Status PutModelState(int64_t job_id, const std::vector<ModelStateRow>& rows);
  absl::StatusOr<std::vector<ModelStateRow>> LoadModelState(int64_t job_id);

  absl::StatusOr<std::vector<JobRow>> LoadJobs();
  // Every candidate of a job in id order, with evaluations (no weights) and
  // failure reasons.
  absl::StatusOr<std::vector<CandidateRow>> LoadCandidates(int64_t job_id);
  // The same rows, handed to `visit` one at a time (a restart need not hold
  // a whole job's history in memory); stops at the first error `visit`
  // returns. Uses the writing connection: not while the group committer runs.
  absl::Status ForEachCandidate(int64_t job_id, CandidateOrder order,
                                const std::function<absl::Status(CandidateRow)>& visit);
  absl::StatusOr<std::vector<v1::WorkerInfo>> LoadWorkers();
  // Worker id -> the digest UpsertWorker stored (empty for workers
  // registered before digests were stored).
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> LoadWorkerSecretDigests();
  // Reads through a separate read-only connection, so it may run on any
  // thread while another one writes; it sees committed transactions only.
  absl::StatusOr<Artifacts> LoadArtifacts(int64_t job_id, int64_t candidate_id);
  // Through the same read-only connection: the job's candidates with these
  // ids, in that order (ids it does not have are left out), as LoadCandidates
  // reads them.
  absl::StatusOr<std::vector<CandidateRow>> ReadCandidates(int64_t job_id,
                                                           const std::vector<int64_t>& ids);
  // Through the same read-only connection: every DONE candidate's numbers.
  absl::StatusOr<std::vector<EvaluationPoint>> ReadEvaluationPoints(int64_t job_id);

  // Runs every write in one transaction and returns once it is durably
  // committed. An error (of any write, or of the commit) means nothing of
  // the batch was stored. Not thread-safe against the other write methods: one
  // thread writes (the group committer).
  absl::Status WriteBatch(const std::vector<BatchedWrite>& writes);

  const std::string& path() const { return db_->path(); }

 private:
  Store(std::unique_ptr<Connection> db, int lock_fd);
  absl::Status WriteCandidate(const CandidateRow& row);
  absl::Status WriteEvaluation(const CandidateRow& row, const EvaluationRow& evaluation);
  // The read-only connection, opened on first use; reader_mu_ held.
  absl::StatusOr<Connection*> Reader();

  std::unique_ptr<Connection> db_;
  int lock_fd_;
  std::mutex reader_mu_;  // guards reader_, opened on first use
  std::unique_ptr<Connection> reader_;
};

}  // namespace unas::store

#endif  // UNAS_COORDINATOR_STORE_STORE_H_
