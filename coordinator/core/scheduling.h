// Scheduling: which job's candidate a worker gets next. Jobs take turns in
// round-robin order, each within its max_parallel_evaluations; a job's
// queued candidates (re-queued after a failure) come before new proposals,
// and it proposes only while done + queued + leased < rounds. A proposal is
// drawn from the job's pipeline without the lock (proposal_pipeline.h) and
// then recorded (proposal_outcome.h). Every function here runs with the
// coordinator's lock held; those taking `lock` release it while a pipeline
// proposes.
#ifndef UNAS_COORDINATOR_CORE_SCHEDULING_H_
#define UNAS_COORDINATOR_CORE_SCHEDULING_H_

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/core/coordinator_state.h"
#include "coordinator/core/proposal_pipeline.h"
#include "unas/v1/worker_service.pb.h"

namespace unas::coordinator {

// The next task for `worker_id`, from the job after the one served last
// (round robin), if any job has one now. First releases the leases the
// worker has forgotten (lease_lifecycle.h).
std::optional<v1::Task> TryAcquire(CoordinatorState& state, const std::string& worker_id,
                                   std::unique_lock<std::mutex>& lock);

// The next task of `job` for `worker_id`, if it has one now: a queued
// candidate, else up to max_proposals_per_acquire proposals until one needs
// training.
std::optional<v1::Task> TryLease(CoordinatorState& state, JobEntry& job,
                                 const std::string& worker_id, std::unique_lock<std::mutex>& lock);

// CompleteTask's piggy-backed next task (acquire_next), without waiting.
void MaybeLeaseNext(CoordinatorState& state, const v1::CompleteTaskRequest& request,
                    v1::CompleteTaskResponse* response, std::unique_lock<std::mutex>& lock);

// The task a worker is sent for the leased candidate `row`.
v1::Task MakeTask(const JobEntry& job, const CandidateRow& row);

// Copies of the job's candidates in flight, by id: leased, queued, and
// duplicates waiting for a result (exactly the job's active rows). An
// algorithm that models pending evaluations is told about them.
std::vector<InFlightCandidate> InFlight(const JobEntry& job);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_SCHEDULING_H_
