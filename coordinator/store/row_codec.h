// The rows' codecs: for each kind of row (job, candidate, evaluation,
// worker, evaluation point) the SQL that selects or inserts its columns,
// next to the code that parses those columns into the store's types or
// binds them from it, so a column is added in one place. Internal to the
// store (store_writes.cc, store_reads.cc).
#ifndef UNAS_COORDINATOR_STORE_ROW_CODEC_H_
#define UNAS_COORDINATOR_STORE_ROW_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/store/sqlite.h"
#include "coordinator/store/store.h"

namespace unas::store {

// --- jobs
inline constexpr char kInsertJob[] =
    "INSERT INTO jobs (job_id, name, spec, seed, state, create_time_ms, update_time_ms) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)";
// A new RUNNING job.
void BindJob(Statement& stmt, int64_t job_id, const v1::JobSpec& spec, int64_t now_ms);

inline constexpr char kSelectJobs[] =
    "SELECT job_id, spec, state, failure_reason, algorithm_state, create_time_ms, "
    "update_time_ms FROM jobs ORDER BY job_id";
// One row of kSelectJobs; DATA_LOSS (naming the database `path`) when its
// spec is corrupt.
absl::StatusOr<JobRow> ParseJob(const Statement& stmt, const std::string& path);

// --- candidates
inline constexpr char kInsertCandidate[] =
    "INSERT INTO candidates (job_id, candidate_id, architecture, sparsity, parent_id, "
    "fingerprint, state, attempts, lease_id, worker_id, lease_expiry_ms, dense_metrics, "
    "create_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
void BindCandidate(Statement& stmt, const CandidateRow& row);

// The columns ParseCandidate reads; append WHERE and ORDER BY.
inline constexpr char kSelectCandidate[] =
    "SELECT c.candidate_id, c.architecture, c.sparsity, c.parent_id, c.fingerprint, c.state, "
    "c.attempts, c.lease_id, c.worker_id, c.lease_expiry_ms, c.dense_metrics, c.finish_seq, "
    "c.create_time_ms, c.finish_time_ms, e.metrics, e.result, e.feasible, c.stopping "
    "FROM candidates c LEFT JOIN evaluations e "
    "ON e.job_id = c.job_id AND e.candidate_id = c.candidate_id ";
// One row of kSelectCandidate, without its failure reasons; DATA_LOSS
// (naming the database `path` and the candidate) when a blob is corrupt.
absl::StatusOr<CandidateRow> ParseCandidate(const Statement& stmt, int64_t job_id,
                                            const std::string& path);
// Appends the candidate's failure reasons, in attempt order, read through `db`.
absl::Status AddFailureReasons(Connection& db, int64_t job_id, v1::Candidate& candidate);

// --- evaluations
inline constexpr char kInsertEvaluation[] =
    "INSERT INTO evaluations (job_id, candidate_id, validation_error, test_error, "
    "int8_test_error, peak_memory_bytes, peak_memory_with_input_bytes, model_size_bytes, "
    "model_size_deployed_bytes, macs, latency_proxy, feasible, metrics, result, "
    "trained_weights, quantized_model, training_seconds, worker_id, reused_from) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
// The result is stored without its blobs, which get columns of their own.
void BindEvaluation(Statement& stmt, const CandidateRow& row, const EvaluationRow& evaluation);

inline constexpr char kSelectEvaluationPoints[] =
    "SELECT e.candidate_id, e.feasible, e.validation_error, e.test_error, "
    "e.metrics FROM evaluations e JOIN candidates c "
    "ON c.job_id = e.job_id AND c.candidate_id = e.candidate_id "
    "WHERE e.job_id = ? AND c.state = ? ORDER BY e.candidate_id";
absl::StatusOr<EvaluationPoint> ParseEvaluationPoint(const Statement& stmt, int64_t job_id,
                                                     const std::string& path);

// --- workers
inline constexpr char kUpsertWorker[] =
    "INSERT INTO workers (worker_id, name, host, device, slots, registered_ms, "
    "last_heartbeat_ms, secret_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, device = excluded.device, "
    "slots = excluded.slots, last_heartbeat_ms = excluded.last_heartbeat_ms, "
    "secret_sha256 = excluded.secret_sha256";
// Binds parameters 1 to 7 (the caller binds 8, the secret's digest).
void BindWorker(Statement& stmt, const v1::WorkerInfo& worker, int64_t now_ms);

inline constexpr char kSelectWorkers[] =
    "SELECT worker_id, name, host, device, slots, last_heartbeat_ms, evaluations_done "
    "FROM workers ORDER BY name";
v1::WorkerInfo ParseWorker(const Statement& stmt);

}  // namespace unas::store

#endif  // UNAS_COORDINATOR_STORE_ROW_CODEC_H_
