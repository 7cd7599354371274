// Automated stopping in the coordinator: a running candidate's learning
// curve (re-sent whole with each heartbeat, and with its result) is checked,
// the job's rule (coordinator/search/median_stopping.h) reads it against the
// completed candidates' curves, and a candidate it stops becomes STOPPED
// with the decision and its partial evaluation. Every function here runs
// with the coordinator's lock held and queues its store writes.
//
// A STOPPED candidate counts towards the job's rounds; the search observes
// it with its best curve error at the decision (result_commit.h,
// ObserveDone); it is never feasible, never the best result, never on the
// Pareto front, and never trained again (a re-proposal of its network copies
// the STOPPED result, as one of a DONE network copies that).
#ifndef UNAS_COORDINATOR_CORE_CANDIDATE_STOPPING_H_
#define UNAS_COORDINATOR_CORE_CANDIDATE_STOPPING_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "coordinator/core/coordinator_state.h"
#include "coordinator/search/median_stopping.h"
#include "unas/v1/worker_service.pb.h"

namespace unas::coordinator {

// The job's stopping decision for `curve`; nullopt when the job has no
// automated_stopping or the candidate may go on.
std::optional<v1::StoppingDecision> DecideStopping(const JobEntry& job, const search::Curve& curve);

// The HeartbeatResponse.reason of a stop: the rule and its numbers.
std::string StopReason(const v1::StoppingDecision& decision);

// Records QUEUED or LEASED candidate `candidate_id` as STOPPED by `decision`:
// its evaluation holds `curve` up to the decision, its best error there as
// validation_error and that point's training_seconds, and nothing else
// (`result`, a CompleteTask's or null for a heartbeat's curve, adds nothing,
// so that the stored row does not depend on which of the two came first). Ends
// its lease, counts it, tells watchers (candidate_stopped), resolves its
// waiting duplicates and ends the job at `rounds`.
absl::Status CommitStop(CoordinatorState& state, JobEntry& job, int64_t candidate_id,
                        const std::string& worker_id, const search::Curve& curve,
                        const v1::StoppingDecision& decision,
                        const v1::EvaluationResult* result = nullptr);

// Heartbeat with a curve, after RenewLease kept the lease: checks the curve
// (INVALID_ARGUMENT naming what is wrong; the lease is then not renewed by
// this call's answer) and stops the candidate when the rule says so,
// setting `response` (keep_going false, stopped true, the reason). Returns
// whether it stopped it.
absl::StatusOr<bool> StopFromHeartbeat(CoordinatorState& state, const v1::HeartbeatRequest& request,
                                       v1::HeartbeatResponse* response);

// The heartbeat's curve against its job's learning curve spec, before the
// lease is renewed (OK when the lease is unknown: RenewLease answers that).
absl::Status CheckHeartbeatCurve(CoordinatorState& state, const v1::HeartbeatRequest& request);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_CANDIDATE_STOPPING_H_
