#include "coordinator/store/row_codec.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace unas::store {
namespace {

using google::protobuf::util::TimeUtil;

std::optional<int64_t> OptionalInt(const Statement& s, int column) {
  if (s.IsNull(column)) return std::nullopt;
  return s.Int(column);
}

}  // namespace

void BindJob(Statement& stmt, int64_t job_id, const v1::JobSpec& spec, int64_t now_ms) {
  stmt.Bind(1, job_id)
      .Bind(2, spec.name())
      .BindBlob(3, spec.SerializeAsString())
      .Bind(4, static_cast<int64_t>(spec.seed()))
      .Bind(5, int64_t{v1::JOB_STATE_RUNNING})
      .Bind(6, now_ms)
      .Bind(7, now_ms);
}

absl::StatusOr<JobRow> ParseJob(const Statement& stmt, const std::string& path) {
  JobRow row;
  v1::Job& job = row.job;
  job.set_job_id(stmt.Int(0));
  if (!job.mutable_spec()->ParseFromString(stmt.Blob(1))) {
    return absl::DataLossError(absl::StrCat(path, ": job ", job.job_id(), ": corrupt spec"));
  }
  job.set_state(static_cast<v1::JobState>(stmt.Int(2)));
  job.set_failure_reason(stmt.Text(3));
  row.algorithm_state = stmt.Blob(4);
  *job.mutable_create_time() = TimeUtil::MillisecondsToTimestamp(stmt.Int(5));
  *job.mutable_update_time() = TimeUtil::MillisecondsToTimestamp(stmt.Int(6));
  return row;
}

void BindCandidate(Statement& stmt, const CandidateRow& row) {
  const v1::Candidate& c = row.candidate;
  stmt.Bind(1, c.job_id())
      .Bind(2, c.candidate_id())
      .BindBlob(3, c.architecture().SerializeAsString())
      .Bind(4, c.has_sparsity() ? std::optional<double>(c.sparsity()) : std::nullopt)
      .Bind(5, c.has_parent_id() ? std::optional<int64_t>(c.parent_id()) : std::nullopt)
      .Bind(6, static_cast<int64_t>(c.fingerprint()))
      .Bind(7, int64_t{c.state()})
      .Bind(8, int64_t{c.attempts()});
  if (row.lease_id.empty()) {
    stmt.BindNull(9).BindNull(10).BindNull(11);
  } else {
    stmt.Bind(9, row.lease_id).Bind(10, c.worker_id()).Bind(11, row.lease_expiry_ms);
  }
  stmt.BindBlob(12, c.dense_metrics().SerializeAsString())
      .Bind(13, TimeUtil::TimestampToMilliseconds(c.create_time()));
}

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
  if (!stmt.IsNull(17)) ok = ok && candidate.mutable_stopping()->ParseFromString(stmt.Blob(17));
  if (!ok) {
    return absl::DataLossError(absl::StrCat(path, ": job ", job_id, " candidate ",
                                            candidate.candidate_id(), ": corrupt record"));
  }
  return row;
}

absl::Status AddFailureReasons(Connection& db, int64_t job_id, v1::Candidate& candidate) {
  UNAS_ASSIGN_OR_RETURN(auto stmt,
                        db.Prepare("SELECT reason FROM attempt_failures WHERE job_id = ? AND "
                                   "candidate_id = ? ORDER BY attempt"));
  stmt->Bind(1, job_id).Bind(2, candidate.candidate_id());
  while (stmt->Step()) candidate.add_failure_reasons(stmt->Text(0));
  return stmt->status();
}

void BindEvaluation(Statement& stmt, const CandidateRow& row, const EvaluationRow& e) {
  const v1::Candidate& c = row.candidate;
  v1::EvaluationResult light = e.result;
  light.clear_trained_weights();
  light.clear_quantized_model();
  stmt.Bind(1, c.job_id())
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
    stmt.BindNull(15);
  } else {
    stmt.BindBlob(15, e.result.trained_weights());
  }
  if (e.result.has_quantized_model()) {
    stmt.BindBlob(16, e.result.quantized_model().SerializeAsString());
  } else {
    stmt.BindNull(16);
  }
  stmt.Bind(17, e.result.training_seconds()).Bind(18, e.worker_id).Bind(19, e.reused_from);
}

absl::StatusOr<EvaluationPoint> ParseEvaluationPoint(const Statement& stmt, int64_t job_id,
                                                     const std::string& path) {
  EvaluationPoint point;
  point.candidate_id = stmt.Int(0);
  point.feasible = stmt.Int(1) != 0;
  point.validation_error = stmt.Double(2);
  point.test_error = stmt.Double(3);
  if (!point.metrics.ParseFromString(stmt.Blob(4))) {
    return absl::DataLossError(absl::StrCat(path, ": job ", job_id, " candidate ",
                                            point.candidate_id, ": corrupt metrics"));
  }
  return point;
}

void BindWorker(Statement& stmt, const v1::WorkerInfo& w, int64_t now_ms) {
  stmt.Bind(1, w.worker_id())
      .Bind(2, w.name())
      .Bind(3, w.host())
      .Bind(4, w.device())
      .Bind(5, int64_t{w.slots()})
      .Bind(6, now_ms)
      .Bind(7, now_ms);
}

v1::WorkerInfo ParseWorker(const Statement& stmt) {
  v1::WorkerInfo w;
  w.set_worker_id(stmt.Text(0));
  w.set_name(stmt.Text(1));
  w.set_host(stmt.Text(2));
  w.set_device(stmt.Text(3));
  w.set_slots(static_cast<int32_t>(stmt.Int(4)));
  *w.mutable_last_heartbeat() = TimeUtil::MillisecondsToTimestamp(stmt.Int(5));
  w.set_evaluations_done(static_cast<int32_t>(stmt.Int(6)));
  return w;
}

}  // namespace unas::store
