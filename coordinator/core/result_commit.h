// What a result changes: the candidate becomes DONE, the search observes it,
// duplicates waiting for it take its result, and the job succeeds once it
// has `rounds` evaluations. Also the other outcomes that end a candidate's
// evaluation: a reused result of an identical network, a failed candidate's
// waiting duplicate promoted, and failures counted by cause. Every function
// here runs with the coordinator's lock held and queues its store writes.
#ifndef UNAS_COORDINATOR_CORE_RESULT_COMMIT_H_
#define UNAS_COORDINATOR_CORE_RESULT_COMMIT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "coordinator/core/coordinator_state.h"
#include "unas/v1/worker_service.pb.h"

namespace unas::coordinator {

// CompleteTask's effects, for a valid result of a QUEUED or LEASED
// candidate whose report the holder checks allowed. `metrics` are those of
// the trained (possibly pruned) network.
absl::Status CommitEvaluation(CoordinatorState& state, JobEntry& job,
                              const v1::CompleteTaskRequest& request,
                              const v1::ResourceMetrics& metrics);

// A result split for CommitEvaluation: all of it for the store, and a copy
// without the weights and the int8 model for the candidate kept in memory.
// CompleteTask splits it before it takes the lock, so that no blob (up to
// 64 MiB) is copied under the lock.
struct SplitResult {
  v1::EvaluationResult full;
  v1::EvaluationResult light;
};
SplitResult SplitBlobs(const v1::EvaluationResult& result);
// CommitEvaluation with the result split already (its blobs are moved, not copied).
absl::Status CommitEvaluation(CoordinatorState& state, JobEntry& job,
                              const v1::CompleteTaskRequest& request,
                              const v1::ResourceMetrics& metrics, SplitResult split);

// Feeds one DONE or STOPPED candidate to the job's history, duplicate index,
// (while the job runs) search and the stopping rule's completed curves.
void ObserveDone(JobEntry& job, const CandidateRow& row);

// candidate_done, or candidate_stopped for a STOPPED candidate.
v1::JobEvent FinishedEvent(const v1::Candidate& candidate);

// The job SUCCEEDED once it has `rounds` evaluations (DONE or STOPPED).
absl::Status FinishIfComplete(CoordinatorState& state, JobEntry& job);

// A new candidate, `row`, DONE at once with the evaluation of candidate
// `source_id` (the same network): the search sees a result without
// training anything twice. When the source cannot be read, the job FAILS
// naming both candidates and the cause (as ResolveWaitingDuplicates does),
// `row` is not recorded, and that error is returned. `source`, when given,
// is that candidate as read before (without the lock); else it is read here.
absl::Status RecordReuse(CoordinatorState& state, JobEntry& job, CandidateRow row,
                         int64_t source_id, const v1::Candidate* source = nullptr);

// The candidate `source_id` is DONE: its waiting duplicates take its result
// (the job FAILS, naming the candidates and the cause, when it cannot be
// read).
void ResolveWaitingDuplicates(CoordinatorState& state, JobEntry& job, int64_t source_id);

// A candidate with duplicates waiting failed: the first of them is trained
// instead, and the others wait for it.
void PromoteWaitingDuplicate(JobEntry& job, int64_t failed_id, uint64_t fingerprint);

// A candidate was given up for `cause`: the job fails after
// max_consecutive_failures in a row for the same cause.
void CountFailureCause(CoordinatorState& state, JobEntry& job, const std::string& cause);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_RESULT_COMMIT_H_
