// What a result changes, on a hand-built state (no store): the candidate is
// DONE, its waiting duplicate takes the same result, the job succeeds at
// `rounds` (keeping only its last events), and repeated failures for one
// cause fail the job.
#include "coordinator/core/result_commit.h"

#include "coordinator/core/lease_lifecycle.h"
#include "gtest/gtest.h"

namespace unas::coordinator {
namespace {

constexpr uint64_t kFingerprint = 42;

CandidateRow Queued(int64_t id) {
  CandidateRow row;
  row.candidate.set_job_id(1);
  row.candidate.set_candidate_id(id);
  row.candidate.set_fingerprint(kFingerprint);
  row.candidate.set_state(v1::CANDIDATE_STATE_QUEUED);
  return row;
}

class ResultCommitTest : public ::testing::Test {
 protected:
  ResultCommitTest() {
    state_.options.now_ms = [] { return int64_t{2'000'000}; };
    state_.workers["w1"].info.set_worker_id("w1");
    JobEntry& job = state_.jobs[1];
    job.job.set_job_id(1);
    job.job.set_state(v1::JOB_STATE_RUNNING);
    job.job.mutable_spec()->set_lease_ttl_seconds(10);
    job.job.mutable_spec()->set_max_attempts(1);
    job.job.mutable_spec()->set_max_consecutive_failures(2);
    job.job.mutable_spec()->mutable_algorithm()->set_rounds(2);
  }

  JobEntry& job() { return state_.jobs.at(1); }

  CoordinatorState state_;
};

TEST_F(ResultCommitTest, ResultIsSharedWithTheWaitingDuplicateAndEndsTheJob) {
  CandidateRow leased = LeasedCopy(state_, job(), Queued(1), "w1");
  TrackLease(state_, job(), leased);
  const std::string lease_id = leased.lease_id;
  job().Put(std::move(leased), kNeverDurable);
  job().in_flight_by_fingerprint[kFingerprint] = 1;
  job().Put(Queued(2), kNeverDurable);  // the same network, proposed meanwhile
  job().duplicates_waiting_for[1].push_back(2);
  job().duplicates_waiting = 1;

  v1::CompleteTaskRequest request;
  request.set_job_id(1);
  request.set_candidate_id(1);
  request.set_worker_id("w1");
  request.set_lease_id(lease_id);
  request.mutable_result()->set_validation_error(0.2);
  request.mutable_result()->set_trained_weights("weights");
  v1::ResourceMetrics metrics;
  metrics.set_peak_memory_bytes(1000);
  for (int index = 0; index < 150; ++index) state_.AddEvent(job(), v1::JobEvent());
  ASSERT_TRUE(CommitEvaluation(state_, job(), request, metrics).ok());

  EXPECT_EQ(job().done, 2);
  EXPECT_EQ(job().history, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(job().state(2), v1::CANDIDATE_STATE_DONE);
  EXPECT_EQ(job().FindRow(2)->candidate.evaluation().validation_error(), 0.2);
  EXPECT_TRUE(job().FindRow(1)->candidate.evaluation().trained_weights().empty())
      << "weights stay in the store only";
  EXPECT_EQ(job().done_by_fingerprint.at(kFingerprint), 1);
  EXPECT_TRUE(job().in_flight_by_fingerprint.empty());
  EXPECT_TRUE(state_.leases.empty());
  EXPECT_EQ(state_.workers.at("w1").info.evaluations_done(), 1);
  EXPECT_EQ(job().job.state(), v1::JOB_STATE_SUCCEEDED) << "rounds is 2";
  EXPECT_EQ(job().events.size(), static_cast<size_t>(kEventsKeptAfterEnd))
      << "an ended job keeps only its last events";
  EXPECT_EQ(job().events_base + kEventsKeptAfterEnd, 154) << "the lease, 150, two results, the end";
}

TEST_F(ResultCommitTest, FailuresForOneCauseInARowFailTheJob) {
  CountFailureCause(state_, job(), "out of memory");
  EXPECT_EQ(job().job.state(), v1::JOB_STATE_RUNNING);
  CountFailureCause(state_, job(), "dataset missing");
  EXPECT_EQ(job().consecutive_failures, 1) << "another cause restarts the count";
  CountFailureCause(state_, job(), "dataset missing");
  EXPECT_EQ(job().job.state(), v1::JOB_STATE_FAILED);
  EXPECT_NE(job().job.failure_reason().find("dataset missing"), std::string::npos);
}

TEST_F(ResultCommitTest, AFailedCandidatesWaitingDuplicateIsTrainedInstead) {
  job().Put(Queued(2), kNeverDurable);
  job().Put(Queued(3), kNeverDurable);
  job().duplicates_waiting_for[1] = {2, 3};
  job().duplicates_waiting = 2;
  job().in_flight_by_fingerprint[kFingerprint] = 1;
  PromoteWaitingDuplicate(job(), 1, kFingerprint);
  EXPECT_EQ(job().queue, (std::deque<int64_t>{2}));
  EXPECT_EQ(job().in_flight_by_fingerprint.at(kFingerprint), 2);
  EXPECT_EQ(job().duplicates_waiting_for.at(2), (std::vector<int64_t>{3}));
  EXPECT_EQ(job().duplicates_waiting, 1);
}

}  // namespace
}  // namespace unas::coordinator
