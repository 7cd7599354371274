// The Store's writes (store.h), all through the writing connection: jobs,
// candidates' transitions, evaluations, workers, and the batches a group
// commit runs in one transaction.
#include <optional>

#include "common/status/status_macros.h"
#include "coordinator/store/row_codec.h"
#include "coordinator/store/store.h"
#include "google/protobuf/util/time_util.h"

namespace unas::store {
namespace {

using google::protobuf::util::TimeUtil;

}  // namespace

absl::Status Store::InsertJob(int64_t job_id, const v1::JobSpec& spec, int64_t now_ms) {
  UNAS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(kInsertJob));
  BindJob(*stmt, job_id, spec, now_ms);
  return stmt->Run();
}

absl::Status Store::UpdateJobState(int64_t job_id, v1::JobState state, const std::string& reason,
                                   int64_t now_ms) {
  UNAS_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare(
          "UPDATE jobs SET state = ?, failure_reason = ?, update_time_ms = ? WHERE job_id = ?"));
  stmt->Bind(1, int64_t{state}).Bind(2, reason).Bind(3, now_ms).Bind(4, job_id);
  UNAS_RETURN_IF_ERROR(stmt->Run());
  if (state == v1::JOB_STATE_RUNNING) return absl::OkStatus();
  UNAS_ASSIGN_OR_RETURN(auto drop, db_->Prepare("DELETE FROM model_state WHERE job_id = ?"));
  drop->Bind(1, job_id);
  return drop->Run();
}

absl::Status Store::PutModelState(int64_t job_id, const std::vector<ModelStateRow>& rows) {
  UNAS_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*db_));
  UNAS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("INSERT OR REPLACE INTO model_state (job_id, kind, "
                                                "position, bytes) VALUES (?, ?, ?, ?)"));
  for (const ModelStateRow& row : rows) {
    stmt->Bind(1, job_id).Bind(2, int64_t{row.kind}).Bind(3, row.position).BindBlob(4, row.bytes);
    UNAS_RETURN_IF_ERROR(stmt->Run());
  }
  return tx.Commit();
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
  UNAS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(kInsertCandidate));
  BindCandidate(*stmt, row);
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
                     "worker_id = ?, finish_seq = ?, finish_time_ms = ?, stopping = ? "
                     "WHERE job_id = ? AND candidate_id = ?"));
    // DONE, or STOPPED by the automated stopping rule (with its decision).
    const bool stopped = c.state() == v1::CANDIDATE_STATE_STOPPED;
    update->Bind(1, int64_t{stopped ? v1::CANDIDATE_STATE_STOPPED : v1::CANDIDATE_STATE_DONE})
        .Bind(2, e.worker_id)
        .Bind(3, row.finish_seq)
        .Bind(4, TimeUtil::TimestampToMilliseconds(c.finish_time()));
    if (stopped) {
      update->BindBlob(5, c.stopping().SerializeAsString());
    } else {
      update->BindNull(5);
    }
    update->Bind(6, c.job_id()).Bind(7, c.candidate_id());
    UNAS_RETURN_IF_ERROR(update->Run());
  }
  {
    UNAS_ASSIGN_OR_RETURN(auto insert, db_->Prepare(kInsertEvaluation));
    BindEvaluation(*insert, row, e);
    UNAS_RETURN_IF_ERROR(insert->Run());
  }
  if (!e.reused_from.has_value() && c.state() != v1::CANDIDATE_STATE_STOPPED) {
    UNAS_ASSIGN_OR_RETURN(
        auto worker,
        db_->Prepare(
            "UPDATE workers SET evaluations_done = evaluations_done + 1 WHERE worker_id = ?"));
    worker->Bind(1, e.worker_id);
    UNAS_RETURN_IF_ERROR(worker->Run());
  }
  return absl::OkStatus();
}

absl::Status Store::UpsertWorker(const v1::WorkerInfo& w, int64_t now_ms,
                                 const std::string& secret_digest) {
  UNAS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(kUpsertWorker));
  BindWorker(*stmt, w, now_ms);
  stmt->BindBlob(8, secret_digest);
  return stmt->Run();
}

absl::Status Store::TouchWorker(const std::string& worker_id, int64_t now_ms) {
  UNAS_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("UPDATE workers SET last_heartbeat_ms = ? WHERE worker_id = ?"));
  stmt->Bind(1, now_ms).Bind(2, worker_id);
  return stmt->Run();
}

absl::Status Store::DeleteWorkers(const std::vector<std::string>& worker_ids) {
  UNAS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("DELETE FROM workers WHERE worker_id = ?"));
  for (const std::string& id : worker_ids) {
    stmt->Bind(1, id);
    UNAS_RETURN_IF_ERROR(stmt->Run());
  }
  return absl::OkStatus();
}

}  // namespace unas::store
