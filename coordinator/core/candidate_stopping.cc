#include "coordinator/core/candidate_stopping.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "coordinator/core/job_queries.h"
#include "coordinator/core/result_commit.h"

namespace unas::coordinator {

std::optional<v1::StoppingDecision> DecideStopping(const JobEntry& job,
                                                   const search::Curve& curve) {
  const v1::JobSpec& spec = job.job.spec();
  if (!spec.has_automated_stopping() || curve.empty()) return std::nullopt;
  // Under the lock: one binary search per completed curve and curve point
  // (CompletedCurve keeps running sums) and a median per curve point.
  return search::MedianStoppingDecision(curve, job.completed_curves, spec.automated_stopping(),
                                        spec.training().epochs());
}

std::string StopReason(const v1::StoppingDecision& d) {
  return absl::StrFormat(
      "stopped by the %s stopping rule at %.2f epochs: best error %.4f is worse than %.4f, the "
      "median of %d completed candidates' mean errors up to that point",
      d.rule(), d.epoch_fraction(), d.candidate_error(), d.threshold(), d.completed_compared());
}

absl::Status CommitStop(CoordinatorState& state, JobEntry& job, int64_t candidate_id,
                        const std::string& worker_id, const search::Curve& curve,
                        const v1::StoppingDecision& decision, const v1::EvaluationResult* result) {
  const CandidateRow& row = job.active_row(candidate_id);
  const v1::CandidateState previous_state = row.candidate.state();
  CandidateRow stopped = row;
  v1::Candidate& candidate = stopped.candidate;
  candidate.set_state(v1::CANDIDATE_STATE_STOPPED);
  candidate.set_worker_id(worker_id);
  *candidate.mutable_stopping() = decision;
  v1::EvaluationResult evaluation;
  *evaluation.mutable_curve() = search::CurveUpTo(curve, decision.epoch_fraction());
  evaluation.set_validation_error(decision.candidate_error());
  if (!evaluation.curve().empty()) {
    evaluation.set_training_seconds(evaluation.curve().rbegin()->training_seconds());
  }
  // No device: whether the stop came with a heartbeat or a result must not
  // change what is stored (a seeded one-worker run repeats exactly).
  (void)result;
  // Its trained network is not kept: the dense network's resources stand.
  *candidate.mutable_metrics() = candidate.dense_metrics();
  *candidate.mutable_evaluation() = evaluation;
  candidate.set_feasible(false);
  *candidate.mutable_finish_time() =
      google::protobuf::util::TimeUtil::MillisecondsToTimestamp(state.Now());
  stopped.finish_seq = static_cast<int64_t>(job.history.size()) + 1;
  stopped.lease_id.clear();
  stopped.lease_expiry_ms = 0;
  store::EvaluationRow stored;
  stored.result = evaluation;
  stored.metrics = candidate.metrics();
  stored.feasible = false;
  stored.worker_id = worker_id;
  const uint64_t ticket =
      state.Write("stopped", [stopped, stored = std::move(stored)](store::Store& db) {
        return db.RecordEvaluation(stopped, stored);
      });
  if (previous_state == v1::CANDIDATE_STATE_LEASED) {
    state.leases.Remove(row.lease_id);
    --job.leased;
  } else {
    job.queue.erase(std::remove(job.queue.begin(), job.queue.end(), candidate_id), job.queue.end());
  }
  job.ForgetEndedLeases(candidate_id);
  job.consecutive_failures = 0;
  ObserveDone(job, stopped);
  if (auto it = job.in_flight_by_fingerprint.find(candidate.fingerprint());
      it != job.in_flight_by_fingerprint.end() && it->second == candidate_id) {
    job.in_flight_by_fingerprint.erase(it);
  }
  v1::JobEvent event = FinishedEvent(stopped.candidate);
  state.PutRow(job, std::move(stopped), ticket);
  ResolveWaitingDuplicates(state, job, candidate_id);
  state.AddEvent(job, std::move(event));
  state.changed.notify_all();
  return FinishIfComplete(state, job);
}

absl::Status CheckHeartbeatCurve(CoordinatorState& state, const v1::HeartbeatRequest& request) {
  if (request.curve().empty()) return absl::OkStatus();
  const LeaseRef* lease = state.leases.Find(request.lease_id());
  if (lease == nullptr) return absl::OkStatus();
  const JobEntry& job = state.jobs.at(lease->job_id);
  if (absl::Status status = search::CheckCurve(request.curve(), job.job.spec().training());
      !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "heartbeat from worker ", request.worker_id().substr(0, kMaxIdBytes), " for job ",
        lease->job_id, " candidate ", lease->candidate_id, ": ", status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> StopFromHeartbeat(CoordinatorState& state, const v1::HeartbeatRequest& request,
                                       v1::HeartbeatResponse* response) {
  const LeaseRef* lease = state.leases.Find(request.lease_id());
  if (lease == nullptr || request.curve().empty()) return false;
  JobEntry& job = state.jobs.at(lease->job_id);
  const int64_t candidate_id = lease->candidate_id;
  std::optional<v1::StoppingDecision> decision = DecideStopping(job, request.curve());
  if (!decision) return false;
  if (absl::Status status =
          CommitStop(state, job, candidate_id, request.worker_id(), request.curve(), *decision);
      !status.ok()) {
    return status;
  }
  response->set_keep_going(false);
  response->set_stopped(true);
  response->set_lease_ttl_seconds(0);
  response->set_reason(StopReason(*decision));
  return true;
}

}  // namespace unas::coordinator
