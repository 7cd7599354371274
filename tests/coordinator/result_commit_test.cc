// What a result changes, on a hand-built state (no store): the candidate is
// DONE, its waiting duplicate takes the same result, the job succeeds at
// `rounds` (keeping only its last events), and repeated failures for one
// cause fail the job. With a real store that lacks the source's row: a
// reuse that cannot read the result it copies fails the job, both for a
// new proposal and for a waiting duplicate.
#include "coordinator/core/result_commit.h"

#include <filesystem>

#include "coordinator/core/candidate_identity.h"
#include "coordinator/core/lease_lifecycle.h"
#include "coordinator/core/proposal_outcome.h"
#include "gmock/gmock.h"
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

// CompleteTask splits a result before it takes the lock: the store gets all
// of it, the candidate in memory everything but the blobs.
TEST(SplitBlobsTest, TheStoreGetsTheBlobsAndTheCandidateEverythingElse) {
  v1::EvaluationResult result;
  result.set_validation_error(0.25);
  result.set_test_error(0.5);
  result.set_trained_weights(std::string(1 << 20, 'w'));
  result.mutable_quantized_model()->set_input("int8 input");
  SplitResult split = SplitBlobs(result);
  EXPECT_EQ(split.full.SerializeAsString(), result.SerializeAsString());
  EXPECT_TRUE(split.light.trained_weights().empty());
  EXPECT_FALSE(split.light.has_quantized_model());
  v1::EvaluationResult expected_light = result;
  expected_light.clear_trained_weights();
  expected_light.clear_quantized_model();
  EXPECT_EQ(split.light.SerializeAsString(), expected_light.SerializeAsString());
  // Without an int8 model neither part has one.
  result.clear_quantized_model();
  split = SplitBlobs(result);
  EXPECT_FALSE(split.full.has_quantized_model());
  EXPECT_EQ(split.full.trained_weights().size(), size_t{1} << 20);
}

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

// Job 1 with candidate 1 DONE and already forgotten by memory (durable),
// but missing from a real store: every read of its result fails.
class UnreadableSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path =
        (std::filesystem::path(::testing::TempDir()) /
         (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".db"))
            .string();
    for (const char* suffix : {"", "-wal", "-shm", ".lock"}) std::filesystem::remove(path + suffix);
    absl::StatusOr<std::unique_ptr<store::Store>> opened = store::Store::Open(path);
    ASSERT_TRUE(opened.ok()) << opened.status();
    state_.store = *std::move(opened);
    state_.options.now_ms = [] { return int64_t{2'000'000}; };
    JobEntry& job = state_.jobs[1];
    job.job.set_job_id(1);
    job.job.set_state(v1::JOB_STATE_RUNNING);
    job.job.mutable_spec()->mutable_algorithm()->set_rounds(5);
    ASSERT_TRUE(state_.store->InsertJob(1, job.job.spec(), 0).ok());
    job.data = DataShape{28, 28, 1, 10};
    architecture_.mutable_cnn()->add_dense_blocks()->set_units(10);
    fingerprint_ = CandidateFingerprint(architecture_, job.data, std::nullopt);
    CandidateRow done;
    done.candidate.set_job_id(1);
    done.candidate.set_candidate_id(1);
    done.candidate.set_fingerprint(fingerprint_);
    done.candidate.set_state(v1::CANDIDATE_STATE_DONE);
    job.Put(done, /*ticket=*/0);  // durable: only its state stays in memory
    job.done = 1;
    job.done_by_fingerprint[fingerprint_] = 1;
  }

  JobEntry& job() { return state_.jobs.at(1); }

  CoordinatorState state_;
  v1::Architecture architecture_;
  uint64_t fingerprint_ = 0;
};

TEST_F(UnreadableSourceTest, AProposalThatWouldReuseItFailsTheJob) {
  ProposalOutcome outcome;
  search::Proposal proposal;
  proposal.architecture = architecture_;  // the network candidate 1 evaluated
  outcome.proposal = std::optional<search::Proposal>(std::move(proposal));
  EXPECT_EQ(RecordProposal(state_, job(), 2, std::move(outcome), "w1"), ProposalFate::kStop);
  EXPECT_EQ(job().job.state(), v1::JOB_STATE_FAILED) << "the job must not stall RUNNING";
  EXPECT_THAT(job().job.failure_reason(),
              ::testing::AllOf(::testing::HasSubstr("candidate 2 could not take the result of "
                                                    "candidate 1"),
                               ::testing::HasSubstr("missing from the store")));
  EXPECT_EQ(job().candidate_count(), 1) << "the proposal is not recorded";
}

TEST_F(UnreadableSourceTest, AWaitingDuplicateFailsTheJobTheSameWay) {
  CandidateRow waiting = Queued(2);
  waiting.candidate.set_fingerprint(fingerprint_);
  job().Put(waiting, kNeverDurable);
  job().duplicates_waiting_for[1].push_back(2);
  job().duplicates_waiting = 1;
  ResolveWaitingDuplicates(state_, job(), 1);
  EXPECT_EQ(job().job.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(job().job.failure_reason(),
              ::testing::AllOf(::testing::HasSubstr("candidate 2 could not take the result of "
                                                    "candidate 1"),
                               ::testing::HasSubstr("missing from the store")));
  EXPECT_EQ(job().duplicates_waiting, 0);
}

}  // namespace
}  // namespace unas::coordinator
