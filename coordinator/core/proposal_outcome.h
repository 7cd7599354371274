// What becomes of one proposal: the ProposalOutcome a job's pipeline
// produced without the lock (proposal_pipeline.h) turned into a candidate
// row. A network the job has evaluated reuses that result
// (result_commit.h); one that FAILED before is recorded FAILED at once; one
// queued or training already waits for its result; one
// over every resource bound by more than algorithm.skip_infeasible_factor is
// skipped; any other is leased to the asking worker. Runs with the
// coordinator's lock held, after the caller has checked the job still runs
// and has rounds left; queues its store writes.
#ifndef UNAS_COORDINATOR_CORE_PROPOSAL_OUTCOME_H_
#define UNAS_COORDINATOR_CORE_PROPOSAL_OUTCOME_H_

#include <cstdint>
#include <string>

#include "coordinator/core/coordinator_state.h"
#include "coordinator/core/proposal_pipeline.h"

namespace unas::coordinator {

enum class ProposalFate {
  kLeased,        // a new candidate, leased to the worker: its row is active
  kProposeAgain,  // nothing to train: reused, waiting for a duplicate, or skipped
  kStop,          // nothing now: the algorithm waits for results, or the job failed
};

// Records `outcome` as candidate `candidate_id` (the job's next id) of `job`.
// The job FAILS, with a reason naming the candidate, when the search or
// the resource metrics failed, when the evaluation it would reuse cannot be
// read, or after max_consecutive_skips skips in a row.
ProposalFate RecordProposal(CoordinatorState& state, JobEntry& job, int64_t candidate_id,
                            ProposalOutcome outcome, const std::string& worker_id);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_PROPOSAL_OUTCOME_H_
