// A proposal turned into a candidate row (proposal_outcome.h).
#include "coordinator/core/proposal_outcome.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/objectives/objectives.h"
#include "coordinator/core/candidate_identity.h"
#include "coordinator/core/job_queries.h"
#include "coordinator/core/lease_lifecycle.h"
#include "coordinator/core/result_commit.h"

namespace unas::coordinator {
namespace {

using google::protobuf::util::TimeUtil;

bool ExceedsEveryBound(const JobEntry& job, const v1::ResourceMetrics& metrics) {
  return search::ExceedsEveryBound(search::MakeObjectives(0.0, metrics), job.bounds,
                                   job.job.spec().algorithm().skip_infeasible_factor());
}

}  // namespace

ProposalFate RecordProposal(CoordinatorState& state, JobEntry& job, int64_t candidate_id,
                            ProposalOutcome outcome, const std::string& worker_id) {
  absl::StatusOr<std::optional<search::Proposal>>& proposal = outcome.proposal;
  if (!proposal.ok()) {
    state.FailJob(job, absl::StrCat("the search could not propose candidate ", candidate_id, ": ",
                                    proposal.status().message()));
    return ProposalFate::kStop;
  }
  if (!proposal->has_value()) return ProposalFate::kStop;  // waits for results
  search::Proposal& proposed = **proposal;

  CandidateRow row;
  v1::Candidate& candidate = row.candidate;
  candidate.set_job_id(job.job.job_id());
  candidate.set_candidate_id(candidate_id);
  *candidate.mutable_architecture() = std::move(proposed.architecture);
  if (proposed.sparsity) candidate.set_sparsity(*proposed.sparsity);
  if (proposed.parent_id) candidate.set_parent_id(*proposed.parent_id);
  candidate.set_fingerprint(
      CandidateFingerprint(candidate.architecture(), job.data, proposed.sparsity));
  candidate.set_state(v1::CANDIDATE_STATE_QUEUED);
  *candidate.mutable_create_time() = TimeUtil::MillisecondsToTimestamp(state.Now());
  const absl::StatusOr<v1::ResourceMetrics>& metrics = outcome.metrics;
  if (!metrics.ok()) {
    state.FailJob(job, absl::StrCat("candidate ", candidate_id,
                                    ": resource metrics failed: ", metrics.status().message()));
    return ProposalFate::kStop;
  }
  *candidate.mutable_dense_metrics() = *metrics;

  // A network the job has evaluated: its result, without training it again.
  if (auto it = job.done_by_fingerprint.find(candidate.fingerprint());
      it != job.done_by_fingerprint.end()) {
    // On failure the job has FAILED, naming the candidate and the cause.
    const v1::Candidate* source = outcome.reuse_source && outcome.reuse_source_id == it->second
                                      ? &*outcome.reuse_source
                                      : nullptr;
    if (!RecordReuse(state, job, std::move(row), it->second, source).ok()) {
      return ProposalFate::kStop;
    }
    return ProposalFate::kProposeAgain;
  }
  // A network that failed (its attempts used up, or the failure its own) is
  // not trained again: a poison network would otherwise crash workers each
  // time the search comes back to it. Recorded FAILED at once, without
  // counting towards max_consecutive_failures (nothing new failed).
  if (auto it = job.failed_by_fingerprint.find(candidate.fingerprint());
      it != job.failed_by_fingerprint.end()) {
    const std::string reason =
        absl::StrCat("the same network failed as candidate ", it->second, ": not trained again");
    candidate.set_state(v1::CANDIDATE_STATE_FAILED);
    candidate.add_failure_reasons(reason);
    *candidate.mutable_finish_time() = TimeUtil::MillisecondsToTimestamp(state.Now());
    const uint64_t ticket =
        state.Write("failed_repeat", [row, reason, now = state.Now()](store::Store& db) {
          if (absl::Status inserted = db.InsertCandidate(row); !inserted.ok()) return inserted;
          return db.RecordAttemptFailure(row, /*attempt=*/0, reason, now);
        });
    ++job.failed;
    v1::JobEvent event;
    *event.mutable_candidate_failed() = LightCandidate(candidate);
    state.PutRow(job, std::move(row), ticket);
    state.AddEvent(job, std::move(event));
    if (++job.consecutive_failed_repeats >= state.options.max_consecutive_skips) {
      state.FailJob(job, absl::StrCat(job.consecutive_failed_repeats,
                                      " proposals in a row were networks that had failed before"));
      return ProposalFate::kStop;
    }
    return ProposalFate::kProposeAgain;
  }
  // The same network is queued or training: wait for its result.
  if (auto it = job.in_flight_by_fingerprint.find(candidate.fingerprint());
      it != job.in_flight_by_fingerprint.end()) {
    const uint64_t ticket =
        state.Write("duplicate", [row](store::Store& db) { return db.InsertCandidate(row); });
    job.duplicates_waiting_for[it->second].push_back(candidate_id);
    ++job.duplicates_waiting;
    state.PutRow(job, std::move(row), ticket);
    return ProposalFate::kProposeAgain;
  }
  if (ExceedsEveryBound(job, *metrics)) {
    candidate.set_state(v1::CANDIDATE_STATE_SKIPPED);
    const uint64_t ticket =
        state.Write("skip", [row](store::Store& db) { return db.InsertCandidate(row); });
    state.PutRow(job, std::move(row), ticket);
    ++job.skipped;
    if (++job.consecutive_skips >= state.options.max_consecutive_skips) {
      state.FailJob(job, absl::StrCat(job.consecutive_skips,
                                      " proposals in a row exceeded every resource bound by more "
                                      "than algorithm.skip_infeasible_factor; relax the bounds or "
                                      "the factor"));
      return ProposalFate::kStop;
    }
    return ProposalFate::kProposeAgain;
  }
  job.consecutive_skips = 0;
  job.consecutive_failed_repeats = 0;
  CandidateRow leased = LeasedCopy(state, job, row, worker_id);
  const uint64_t ticket =
      state.Write("lease", [leased](store::Store& db) { return db.InsertCandidate(leased); });
  job.in_flight_by_fingerprint[leased.candidate.fingerprint()] = candidate_id;
  TrackLease(state, job, leased);
  state.PutRow(job, std::move(leased), ticket);
  return ProposalFate::kLeased;
}

}  // namespace unas::coordinator
