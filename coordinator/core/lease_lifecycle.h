// The lease life cycle: a lease is granted with 128 random bits and a TTL,
// renewed by its holder's heartbeats, and ends with a result
// (result_commit.h), a failure or release reported by its holder, its TTL
// running out, its worker registering again, or its worker asking for more
// work than its free slots allow (a lease whose grant never reached it).
// An attempt that ends without a result re-queues its candidate, or fails
// it after max_attempts. Every function here runs with the coordinator's
// lock held.
#ifndef UNAS_COORDINATOR_CORE_LEASE_LIFECYCLE_H_
#define UNAS_COORDINATOR_CORE_LEASE_LIFECYCLE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/core/coordinator_state.h"
#include "unas/v1/worker_service.pb.h"

namespace unas::coordinator {

// A LEASED copy of `row` for `worker_id`: one more attempt, a fresh random
// lease id, expiring after the job's TTL. The caller stores it, then tracks it.
CandidateRow LeasedCopy(CoordinatorState& state, const JobEntry& job, const CandidateRow& row,
                        const std::string& worker_id);
// Tracks a lease the store has accepted and tells watchers.
void TrackLease(CoordinatorState& state, JobEntry& job, const CandidateRow& row);

// Heartbeat: renews the lease when the caller holds it and its job runs;
// otherwise tells the worker to stop, and why.
v1::HeartbeatResponse RenewLease(CoordinatorState& state, const v1::HeartbeatRequest& request);

// CompleteTask's holder check, for a QUEUED or LEASED candidate: true when
// the caller holds the candidate's current lease, false when the lease is
// one of the caller's that ended while the candidate still waits or trains
// elsewhere (a late report, real work that is taken), PERMISSION_DENIED
// otherwise.
absl::StatusOr<bool> CheckReportHolder(const JobEntry& job, const v1::CompleteTaskRequest& request);

// An attempt ended without a result: back to the queue, or FAILED after
// max_attempts (or at once when `permanent`). A `released` attempt (the
// worker is shutting down) is re-queued without counting, up to
// kMaxReleasesPerCandidate beyond max_attempts. `reason` is cut to
// kMaxReasonBytes. `cause` is what went wrong (what the worker said,
// "worker died", "lease expired", ...; empty for releases): when
// max_consecutive_failures candidates in a row are given up for causes of
// one class (failure_text.h), the job fails.
void EndAttempt(CoordinatorState& state, JobEntry& job, int64_t candidate_id,
                const std::string& reason, bool permanent, bool released = false,
                const std::string& cause = "");

// Ends every lease whose TTL has run out, then forgets finished rows that
// are durable by now.
void ExpireDueLeases(CoordinatorState& state);

// Releases the leases `worker_id` holds beyond its slots minus one (it asks
// for work only from a free slot), those that expire first.
void ReleaseForgottenLeases(CoordinatorState& state, const std::string& worker_id);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_LEASE_LIFECYCLE_H_
