// The Store's reads (store.h): the restart's (jobs, workers, every
// candidate, through the writing connection) and the queries' (candidates,
// evaluation points and artefacts, through a read-only connection that may
// be used while another thread writes), including the chain of reused
// results LoadArtifacts follows to the evaluation that trained the weights.
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "coordinator/store/row_codec.h"
#include "coordinator/store/store.h"

namespace unas::store {
namespace {

// How many reuse hops LoadArtifacts follows. Reuse points at a trained
// evaluation, so one hop is the rule; the bound only stops a corrupt
// database from looping.
constexpr int kMaxReuseHops = 16;

}  // namespace

absl::StatusOr<std::vector<JobRow>> Store::LoadJobs() {
  UNAS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(kSelectJobs));
  std::vector<JobRow> jobs;
  while (stmt->Step()) {
    UNAS_ASSIGN_OR_RETURN(JobRow row, ParseJob(*stmt, path()));
    jobs.push_back(std::move(row));
  }
  UNAS_RETURN_IF_ERROR(stmt->status());
  return jobs;
}

absl::StatusOr<std::vector<ModelStateRow>> Store::LoadModelState(int64_t job_id) {
  UNAS_ASSIGN_OR_RETURN(
      auto stmt, db_->Prepare("SELECT kind, position, bytes FROM model_state WHERE job_id = ? "
                              "ORDER BY kind, position"));
  stmt->Bind(1, job_id);
  std::vector<ModelStateRow> rows;
  while (stmt->Step()) {
    rows.push_back({static_cast<int>(stmt->Int(0)), stmt->Int(1), stmt->Blob(2)});
  }
  UNAS_RETURN_IF_ERROR(stmt->status());
  return rows;
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
          : absl::StrCat(kSelectCandidate, "WHERE c.job_id = ? AND c.state IN (",
                         static_cast<int>(v1::CANDIDATE_STATE_DONE), ", ",
                         static_cast<int>(v1::CANDIDATE_STATE_STOPPED), ") ORDER BY c.finish_seq");
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
  UNAS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(kSelectWorkers));
  std::vector<v1::WorkerInfo> workers;
  while (stmt->Step()) workers.push_back(ParseWorker(*stmt));
  UNAS_RETURN_IF_ERROR(stmt->status());
  return workers;
}

absl::StatusOr<absl::flat_hash_map<std::string, std::string>> Store::LoadWorkerSecretDigests() {
  UNAS_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT worker_id, secret_sha256 FROM workers"));
  absl::flat_hash_map<std::string, std::string> digests;
  while (stmt->Step()) digests[stmt->Text(0)] = stmt->Blob(1);
  UNAS_RETURN_IF_ERROR(stmt->status());
  return digests;
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
  UNAS_ASSIGN_OR_RETURN(auto stmt, reader->Prepare(kSelectEvaluationPoints));
  stmt->Bind(1, job_id).Bind(2, int64_t{v1::CANDIDATE_STATE_DONE});
  std::vector<EvaluationPoint> points;
  while (stmt->Step()) {
    UNAS_ASSIGN_OR_RETURN(EvaluationPoint point, ParseEvaluationPoint(*stmt, job_id, path()));
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
  // stored reused_from), the one that produced its numbers.
  int64_t source = candidate_id;
  for (int hop = 0; hop < kMaxReuseHops; ++hop) {
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
