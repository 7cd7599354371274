#include "coordinator/store/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"
#include "coordinator/store/schema.h"
#include "google/protobuf/util/time_util.h"

namespace unas::store {
namespace {

using google::protobuf::util::TimeUtil;

// Takes the writer lock `<db>.lock`; the kernel releases it when the process
// dies, so a SIGKILLed coordinator never leaves a stale lock behind.
absl::StatusOr<int> LockForWriting(const std::string& path) {
  std::string lock_path = path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(lock_path, ": cannot open lock file: ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buffer[32] = {};
    ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(absl::StripAsciiWhitespace(buffer)) : "unknown";
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is already open for writing by another coordinator (pid ", holder,
                     "); a database has exactly one writer"));
  }
  std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only informative; the lock itself is held.
  }
  return fd;
}

std::optional<int64_t> OptionalInt(const Statement& s, int column) {
  if (s.IsNull(column)) return std::nullopt;
  return s.Int(column);
}

// The columns ParseCandidate reads; append WHERE and ORDER BY.
constexpr char kSelectCandidate[] =
    "SELECT c.candidate_id, c.architecture, c.sparsity, c.parent_id, c.fingerprint, c.state, "
    "c.attempts, c.lease_id, c.worker_id, c.lease_expiry_ms, c.dense_metrics, c.finish_seq, "
    "c.create_time_ms, c.finish_time_ms, e.metrics, e.result, e.feasible "
    "FROM candidates c LEFT JOIN evaluations e "
    "ON e.job_id = c.job_id AND e.candidate_id = c.candidate_id ";

// One row of kSelectCandidate (without its failure reasons).
absl::StatusOr<CandidateRow> ParseCandidate(const Statement& stmt, int64_t job_id,
                                            const std::string& path) {
  CandidateRow row;
  v1::Candidate& candidate = row.candidate;
  candidate.set_job_id(job_id);
  candidate.set_candidate_id(stmt.Int(0));
  bool ok = candidate.mutable_architecture()->ParseFromString(stmt.Blob(1));
  if (!stmt.IsNull(2)) candidate.set_sparsity(stmt.Double(2));
  if (!stmt.IsNull(3)) candidate.set_parent_id(stmt.Int(3));
  candidate.set_fingerprint(static_cast<uint64_t>(stmt.Int(4)));
  candidate.set_state(static_cast<v1::CandidateState>(stmt.Int(5)));
  candidate.set_attempts(static_cast<int32_t>(stmt.Int(6)));
  row.lease_id = stmt.Text(7);
  candidate.set_worker_id(stmt.Text(8));
  row.lease_expiry_ms = stmt.IsNull(9) ? 0 : stmt.Int(9);
  ok = ok && candidate.mutable_dense_metrics()->ParseFromString(stmt.Blob(10));
  row.finish_seq = OptionalInt(stmt, 11);
  *candidate.mutable_create_time() = TimeUtil::MillisecondsToTimestamp(stmt.Int(12));
  if (!stmt.IsNull(13)) {
    *candidate.mutable_finish_time() = TimeUtil::MillisecondsToTimestamp(stmt.Int(13));
  }
  if (!stmt.IsNull(14)) {
    ok = ok && candidate.mutable_metrics()->ParseFromString(stmt.Blob(14));
    ok = ok && candidate.mutable_evaluation()->ParseFromString(stmt.Blob(15));
    candidate.set_feasible(stmt.Int(16) != 0);
  }
  if (!ok) {
    return absl::DataLossError(absl::StrCat(path, ": job ", job_id, " candidate ",
                                            candidate.candidate_id(), ": corrupt record"));
  }
  return row;
}

// Appends the candidate's failure reasons, in attempt order.
absl::Status AddFailureReasons(Connection& db, int64_t job_id, v1::Candidate& candidate) {
  UNAS_ASSIGN_OR_RETURN(auto stmt,
                        db.Prepare("SELECT reason FROM attempt_failures WHERE job_id = ? AND "
                                   "candidate_id = ? ORDER BY attempt"));
  stmt->Bind(1, job_id).Bind(2, candidate.candidate_id());
  while (stmt->Step()) candidate.add_failure_reasons(stmt->Text(0));
  return stmt->status();
}

}  // namespace

Store::Store(std::unique_ptr<Connection> db, int lock_fd) : db_(std::move(db)), lock_fd_(lock_fd) {}

Store::~Store() {
  db_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  absl::StatusOr<int> lock = LockForWriting(path);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<std::unique_ptr<Connection>> db =
      Connection::Open(path, Connection::Mode::kReadWrite);
  if (!db.ok()) {
    ::close(*lock);
    return db.status();
  }
  std::unique_ptr<Store> store(new Store(*std::move(db), *lock));
  UNAS_RETURN_IF_ERROR(MigrateSchema(*store->db_));
  return store;
}

absl::StatusOr<int64_t> Store::InsertJob(const v1::JobSpec& spec, int64_t now_ms) {
  UNAS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("INSERT INTO jobs (name, spec, seed, state, create_time_ms, update_time_ms) "
                   "VALUES (?, ?, ?, ?, ?, ?)"));
  stmt->Bind(1, spec.name())
      .BindBlob(2, spec.SerializeAsString())
      .Bind(3, static_cast<int64_t>(spec.seed()))
      .Bind(4, int64_t{v1::JOB_STATE_RUNNING})
      .Bind(5, now_ms)
      .Bind(6, now_ms);
  UNAS_RETURN_IF_ERROR(stmt->Run());
  return db_->LastInsertRowId();
}

absl::Status Store::UpdateJobState(int64_t job_id, v1::JobState state, const std::string& reason,
                                   int64_t now_ms) {
  UNAS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "UPDATE jobs SET state = ?, failure_reason = ?, update_time_ms = ? WHERE job_id = ?"));
  stmt->Bind(1, int64_t{state}).Bind(2, reason).Bind(3, now_ms).Bind(4, job_id);
  return stmt->Run();
}

absl::Status Store::InsertJob(int64_t job_id, const v1::JobSpec& spec, int64_t now_ms) {
  UNAS_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("INSERT INTO jobs (job_id, name, spec, seed, state, create_time_ms, "
                              "update_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  stmt->Bind(1, job_id)
      .Bind(2, spec.name())
      .BindBlob(3, spec.SerializeAsString())
      .Bind(4, static_cast<int64_t>(spec.seed()))
      .Bind(5, int64_t{v1::JOB_STATE_RUNNING})
      .Bind(6, now_ms)
      .Bind(7, now_ms);
  return stmt->Run();
}

absl::Status Store::WriteBatch(const std::vector<BatchedWrite>& writes) {
  UNAS_ASSIGN_OR_RETURN(Transaction batch, Transaction::Begin(*db_));
  for (const BatchedWrite& write : writes) UNAS_RETURN_IF_ERROR(write(*this));
  return batch.Commit();
}

absl::Status Store::InsertCandidate(const CandidateRow& row) { return WriteCandidate(row); }

absl::Status Store::InsertReusedCandidate(const CandidateRow& row, const EvaluationRow& e) {
  UNAS_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*db_));
  UNAS_RETURN_IF_ERROR(WriteCandidate(row));
  UNAS_RETURN_IF_ERROR(WriteEvaluation(row, e));
  return tx.Commit();
}

absl::Status Store::RecordEvaluation(const CandidateRow& row, const EvaluationRow& e) {
  UNAS_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*db_));
  UNAS_RETURN_IF_ERROR(WriteEvaluation(row, e));
  return tx.Commit();
}

absl::Status Store::WriteCandidate(const CandidateRow& row) {
  const v1::Candidate& c = row.candidate;
  UNAS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "INSERT INTO candidates (job_id, candidate_id, architecture, sparsity, parent_id, "
          "fingerprint, state, attempts, lease_id, worker_id, lease_expiry_ms, dense_metrics, "
          "create_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt->Bind(1, c.job_id())
      .Bind(2, c.candidate_id())
      .BindBlob(3, c.architecture().SerializeAsString())
      .Bind(4, c.has_sparsity() ? std::optional<double>(c.sparsity()) : std::nullopt)
      .Bind(5, c.has_parent_id() ? std::optional<int64_t>(c.parent_id()) : std::nullopt)
      .Bind(6, static_cast<int64_t>(c.fingerprint()))
      .Bind(7, int64_t{c.state()})
      .Bind(8, int64_t{c.attempts()});
  if (row.lease_id.empty()) {
    stmt->BindNull(9).BindNull(10).BindNull(11);
  } else {
    stmt->Bind(9, row.lease_id).Bind(10, c.worker_id()).Bind(11, row.lease_expiry_ms);
  }
  stmt->BindBlob(12, c.dense_metrics().SerializeAsString())
      .Bind(13, TimeUtil::TimestampToMilliseconds(c.create_time()));
  return stmt->Run();
}

absl::Status Store::LeaseCandidate(const CandidateRow& row) {
  const v1::Candidate& c = row.candidate;
  UNAS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("UPDATE candidates SET state = ?, attempts = ?, lease_id = ?, worker_id = ?, "
                   "lease_expiry_ms = ? WHERE job_id = ? AND candidate_id = ?"));
  stmt->Bind(1, int64_t{c.state()})
      .Bind(2, int64_t{c.attempts()})
      .Bind(3, row.lease_id)
      .Bind(4, c.worker_id())
      .Bind(5, row.lease_expiry_ms)
      .Bind(6, c.job_id())
      .Bind(7, c.candidate_id());
  return stmt->Run();
}

absl::Status Store::RecordAttemptFailure(const CandidateRow& row, int attempt,
                                         const std::string& reason, int64_t now_ms) {
  const v1::Candidate& c = row.candidate;
  UNAS_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*db_));
  {
    UNAS_ASSIGN_OR_RETURN(
        auto insert,
        db_->Prepare(
            "INSERT INTO attempt_failures (job_id, candidate_id, attempt, reason, time_ms) "
            "VALUES (?, ?, ?, ?, ?)"));
    insert->Bind(1, c.job_id()).Bind(2, c.candidate_id()).Bind(3, int64_t{attempt});
    insert->Bind(4, reason).Bind(5, now_ms);
    UNAS_RETURN_IF_ERROR(insert->Run());
  }
  {
    UNAS_ASSIGN_OR_RETURN(
        auto update,
        db_->Prepare("UPDATE candidates SET state = ?, lease_id = NULL, lease_expiry_ms = NULL, "
                     "finish_time_ms = ? WHERE job_id = ? AND candidate_id = ?"));
    update->Bind(1, int64_t{c.state()});
    update->Bind(
        2, c.state() == v1::CANDIDATE_STATE_FAILED ? std::optional<int64_t>(now_ms) : std::nullopt);
    update->Bind(3, c.job_id()).Bind(4, c.candidate_id());
    UNAS_RETURN_IF_ERROR(update->Run());
  }
  return tx.Commit();
}

absl::Status Store::WriteEvaluation(const CandidateRow& row, const EvaluationRow& e) {
  const v1::Candidate& c = row.candidate;
  {
    UNAS_ASSIGN_OR_RETURN(
        auto update,
        db_->Prepare("UPDATE candidates SET state = ?, lease_id = NULL, lease_expiry_ms = NULL, "
                     "worker_id = ?, finish_seq = ?, finish_time_ms = ? "
                     "WHERE job_id = ? AND candidate_id = ?"));
    update->Bind(1, int64_t{v1::CANDIDATE_STATE_DONE})
        .Bind(2, e.worker_id)
        .Bind(3, row.finish_seq)
        .Bind(4, TimeUtil::TimestampToMilliseconds(c.finish_time()))
        .Bind(5, c.job_id())
        .Bind(6, c.candidate_id());
    UNAS_RETURN_IF_ERROR(update->Run());
  }
  {
    v1::EvaluationResult light = e.result;
    light.clear_trained_weights();
    light.clear_quantized_model();
    UNAS_ASSIGN_OR_RETURN(
        auto insert,
        db_->Prepare(
            "INSERT INTO evaluations (job_id, candidate_id, validation_error, test_error, "
            "int8_test_error, peak_memory_bytes, peak_memory_with_input_bytes, model_size_bytes, "
            "model_size_deployed_bytes, macs, latency_proxy, feasible, metrics, result, "
            "trained_weights, quantized_model, training_seconds, worker_id, reused_from) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    insert->Bind(1, c.job_id())
        .Bind(2, c.candidate_id())
        .Bind(3, e.result.validation_error())
        .Bind(4, e.result.test_error())
        .Bind(5, e.result.has_int8_test_error() ? std::optional<double>(e.result.int8_test_error())
                                                : std::nullopt)
        .Bind(6, e.metrics.peak_memory_bytes())
        .Bind(7, e.metrics.peak_memory_with_input_bytes())
        .Bind(8, e.metrics.model_size_bytes())
        .Bind(9, e.metrics.model_size_deployed_bytes())
        .Bind(10, e.metrics.macs())
        .Bind(11, e.metrics.latency_proxy())
        .Bind(12, int64_t{e.feasible})
        .BindBlob(13, e.metrics.SerializeAsString())
        .BindBlob(14, light.SerializeAsString());
    if (e.result.trained_weights().empty()) {
      insert->BindNull(15);
    } else {
      insert->BindBlob(15, e.result.trained_weights());
    }
    if (e.result.has_quantized_model()) {
      insert->BindBlob(16, e.result.quantized_model().SerializeAsString());
    } else {
      insert->BindNull(16);
    }
    insert->Bind(17, e.result.training_seconds()).Bind(18, e.worker_id).Bind(19, e.reused_from);
    UNAS_RETURN_IF_ERROR(insert->Run());
  }
  if (!e.reused_from.has_value()) {
    UNAS_ASSIGN_OR_RETURN(
        auto worker,
        db_->Prepare(
            "UPDATE workers SET evaluations_done = evaluations_done + 1 WHERE worker_id = ?"));
    worker->Bind(1, e.worker_id);
    UNAS_RETURN_IF_ERROR(worker->Run());
  }
  return absl::OkStatus();
}

absl::Status Store::UpsertWorker(const v1::WorkerInfo& w, int64_t now_ms) {
  UNAS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "INSERT INTO workers (worker_id, name, host, device, slots, registered_ms, "
          "last_heartbeat_ms) VALUES (?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, device = excluded.device, "
          "slots = excluded.slots, last_heartbeat_ms = excluded.last_heartbeat_ms"));
  stmt->Bind(1, w.worker_id())
      .Bind(2, w.name())
      .Bind(3, w.host())
      .Bind(4, w.device())
      .Bind(5, int64_t{w.slots()})
      .Bind(6, now_ms)
      .Bind(7, now_ms);
  return stmt->Run();
}

absl::Status Store::TouchWorker(const std::string& worker_id, int64_t now_ms) {
  UNAS_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("UPDATE workers SET last_heartbeat_ms = ? WHERE worker_id = ?"));
  stmt->Bind(1, now_ms).Bind(2, worker_id);
  return stmt->Run();
}

absl::StatusOr<std::vector<JobRow>> Store::LoadJobs() {
  UNAS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("SELECT job_id, spec, state, failure_reason, algorithm_state, create_time_ms, "
                   "update_time_ms FROM jobs ORDER BY job_id"));
  std::vector<JobRow> jobs;
  while (stmt->Step()) {
    JobRow row;
    v1::Job& job = row.job;
    job.set_job_id(stmt->Int(0));
    if (!job.mutable_spec()->ParseFromString(stmt->Blob(1))) {
      return absl::DataLossError(absl::StrCat(path(), ": job ", job.job_id(), ": corrupt spec"));
    }
    job.set_state(static_cast<v1::JobState>(stmt->Int(2)));
    job.set_failure_reason(stmt->Text(3));
    row.algorithm_state = stmt->Blob(4);
    *job.mutable_create_time() = TimeUtil::MillisecondsToTimestamp(stmt->Int(5));
    *job.mutable_update_time() = TimeUtil::MillisecondsToTimestamp(stmt->Int(6));
    jobs.push_back(std::move(row));
  }
  UNAS_RETURN_IF_ERROR(stmt->status());
  return jobs;
}

absl::StatusOr<std::vector<CandidateRow>> Store::LoadCandidates(int64_t job_id) {
  std::vector<CandidateRow> rows;
  UNAS_RETURN_IF_ERROR(ForEachCandidate(job_id, CandidateOrder::kById, [&](CandidateRow row) {
    rows.push_back(std::move(row));
    return absl::OkStatus();
  }));
  return rows;
}

absl::Status Store::ForEachCandidate(int64_t job_id, CandidateOrder order,
                                     const std::function<absl::Status(CandidateRow)>& visit) {
  const std::string sql =
      order == CandidateOrder::kById
          ? absl::StrCat(kSelectCandidate, "WHERE c.job_id = ? ORDER BY c.candidate_id")
          : absl::StrCat(kSelectCandidate, "WHERE c.job_id = ? AND c.state = ",
                         static_cast<int>(v1::CANDIDATE_STATE_DONE), " ORDER BY c.finish_seq");
  UNAS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(sql));
  stmt->Bind(1, job_id);
  while (stmt->Step()) {
    UNAS_ASSIGN_OR_RETURN(CandidateRow row, ParseCandidate(*stmt, job_id, path()));
    UNAS_RETURN_IF_ERROR(AddFailureReasons(*db_, job_id, row.candidate));
    UNAS_RETURN_IF_ERROR(visit(std::move(row)));
  }
  return stmt->status();
}

absl::StatusOr<std::vector<v1::WorkerInfo>> Store::LoadWorkers() {
  UNAS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "SELECT worker_id, name, host, device, slots, last_heartbeat_ms, evaluations_done "
          "FROM workers ORDER BY name"));
  std::vector<v1::WorkerInfo> workers;
  while (stmt->Step()) {
    v1::WorkerInfo w;
    w.set_worker_id(stmt->Text(0));
    w.set_name(stmt->Text(1));
    w.set_host(stmt->Text(2));
    w.set_device(stmt->Text(3));
    w.set_slots(static_cast<int32_t>(stmt->Int(4)));
    *w.mutable_last_heartbeat() = TimeUtil::MillisecondsToTimestamp(stmt->Int(5));
    w.set_evaluations_done(static_cast<int32_t>(stmt->Int(6)));
    workers.push_back(std::move(w));
  }
  UNAS_RETURN_IF_ERROR(stmt->status());
  return workers;
}

absl::StatusOr<Connection*> Store::Reader() {
  if (reader_ == nullptr) {
    UNAS_ASSIGN_OR_RETURN(reader_, Connection::Open(path(), Connection::Mode::kReadOnly));
  }
  return reader_.get();
}

absl::StatusOr<std::vector<CandidateRow>> Store::ReadCandidates(int64_t job_id,
                                                                const std::vector<int64_t>& ids) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  UNAS_ASSIGN_OR_RETURN(Connection * reader, Reader());
  UNAS_ASSIGN_OR_RETURN(
      auto stmt,
      reader->Prepare(absl::StrCat(kSelectCandidate, "WHERE c.job_id = ? AND c.candidate_id = ?")));
  std::vector<CandidateRow> rows;
  rows.reserve(ids.size());
  for (int64_t id : ids) {
    stmt->Reset();
    stmt->Bind(1, job_id).Bind(2, id);
    if (!stmt->Step()) {
      UNAS_RETURN_IF_ERROR(stmt->status());
      continue;
    }
    UNAS_ASSIGN_OR_RETURN(CandidateRow row, ParseCandidate(*stmt, job_id, path()));
    rows.push_back(std::move(row));
  }
  stmt->Reset();
  for (CandidateRow& row : rows) {
    UNAS_RETURN_IF_ERROR(AddFailureReasons(*reader, job_id, row.candidate));
  }
  return rows;
}

absl::StatusOr<std::vector<EvaluationPoint>> Store::ReadEvaluationPoints(int64_t job_id) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  UNAS_ASSIGN_OR_RETURN(Connection * reader, Reader());
  UNAS_ASSIGN_OR_RETURN(
      auto stmt,
      reader->Prepare("SELECT e.candidate_id, e.feasible, e.validation_error, e.test_error, "
                      "e.metrics FROM evaluations e JOIN candidates c "
                      "ON c.job_id = e.job_id AND c.candidate_id = e.candidate_id "
                      "WHERE e.job_id = ? AND c.state = ? ORDER BY e.candidate_id"));
  stmt->Bind(1, job_id).Bind(2, int64_t{v1::CANDIDATE_STATE_DONE});
  std::vector<EvaluationPoint> points;
  while (stmt->Step()) {
    EvaluationPoint point;
    point.candidate_id = stmt->Int(0);
    point.feasible = stmt->Int(1) != 0;
    point.validation_error = stmt->Double(2);
    point.test_error = stmt->Double(3);
    if (!point.metrics.ParseFromString(stmt->Blob(4))) {
      return absl::DataLossError(absl::StrCat(path(), ": job ", job_id, " candidate ",
                                              point.candidate_id, ": corrupt metrics"));
    }
    points.push_back(std::move(point));
  }
  UNAS_RETURN_IF_ERROR(stmt->status());
  return points;
}

absl::StatusOr<Artifacts> Store::LoadArtifacts(int64_t job_id, int64_t candidate_id) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  UNAS_ASSIGN_OR_RETURN(Connection * reader, Reader());
  UNAS_ASSIGN_OR_RETURN(auto stmt,
                        reader->Prepare("SELECT trained_weights, quantized_model, reused_from "
                                        "FROM evaluations WHERE job_id = ? AND candidate_id = ?"));
  // A reused result's artefacts are those of the evaluation it copies (its
  // stored reused_from), the one that produced its numbers. Reuse points at a
  // trained evaluation, so one hop is the rule; the bound only stops a
  // corrupt database from looping.
  int64_t source = candidate_id;
  for (int hop = 0; hop < 16; ++hop) {
    stmt->Reset();
    stmt->Bind(1, job_id).Bind(2, source);
    if (!stmt->Step()) {
      UNAS_RETURN_IF_ERROR(stmt->status());
      if (source == candidate_id) {
        return absl::NotFoundError(
            absl::StrCat("job ", job_id, " candidate ", candidate_id, " has no evaluation"));
      }
      return absl::DataLossError(absl::StrCat("job ", job_id, " candidate ", candidate_id,
                                              ": the evaluation it reuses (candidate ", source,
                                              ") is missing"));
    }
    if (!stmt->IsNull(2)) {
      source = stmt->Int(2);
      continue;
    }
    Artifacts artifacts;
    artifacts.trained_weights = stmt->Blob(0);
    if (!stmt->IsNull(1) && !artifacts.quantized_model.ParseFromString(stmt->Blob(1))) {
      return absl::DataLossError(absl::StrCat(path(), ": corrupt quantized model"));
    }
    stmt->Reset();
    return artifacts;
  }
  return absl::DataLossError(absl::StrCat("job ", job_id, " candidate ", candidate_id,
                                          ": its chain of reused results does not end"));
}

}  // namespace unas::store
