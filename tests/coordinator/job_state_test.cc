// The job model's progress counts (queued includes duplicates waiting for a
// result, and feasible_in_last_25 looks at the last 25 evaluations only),
// finished rows leaving memory once durable, and ended leases.
#include "coordinator/core/job_state.h"

#include "gtest/gtest.h"

namespace unas::coordinator {
namespace {

TEST(JobStateTest, ProgressCountsTheLast25AndWaitingDuplicates) {
  JobEntry job;
  job.job.mutable_spec()->mutable_algorithm()->set_rounds(100);
  for (int64_t id = 1; id <= 30; ++id) {
    job.AddToHistory(id, /*feasible=*/id <= 10);  // only the first 10 are feasible
  }
  job.done = 30;
  job.queue = {31, 32};
  job.duplicates_waiting = 3;
  job.leased = 4;
  job.best_feasible_error = 0.25;
  v1::JobProgress progress = job.Progress();
  EXPECT_EQ(progress.rounds(), 100);
  EXPECT_EQ(progress.evaluations_done(), 30);
  EXPECT_EQ(progress.evaluations_in_flight(), 4);
  EXPECT_EQ(progress.evaluations_queued(), 5);
  EXPECT_EQ(progress.feasible_in_last_25(), 5) << "ids 6..10 of the last 25 (6..30)";
  EXPECT_DOUBLE_EQ(progress.best_feasible_error(), 0.25);
}

TEST(JobStateTest, FinishedRowsStayOnlyUntilDurable) {
  JobEntry job;
  auto put = [&](int64_t id, v1::CandidateState state, uint64_t ticket) {
    CandidateRow row;
    row.candidate.set_candidate_id(id);
    row.candidate.set_state(state);
    job.Put(row, ticket);
  };
  put(1, v1::CANDIDATE_STATE_LEASED, 1);
  put(2, v1::CANDIDATE_STATE_QUEUED, 2);
  put(1, v1::CANDIDATE_STATE_DONE, 3);
  put(3, v1::CANDIDATE_STATE_SKIPPED, 4);
  EXPECT_EQ(job.candidate_count(), 3);
  EXPECT_EQ(job.state(1), v1::CANDIDATE_STATE_DONE);
  EXPECT_EQ(job.active.size(), 1u) << "only candidate 2 is in flight";
  ASSERT_NE(job.FindRow(1), nullptr) << "not durable yet";
  job.ForgetDurableRows(3);
  EXPECT_EQ(job.FindRow(1), nullptr) << "durable: read from the store from now on";
  ASSERT_NE(job.FindRow(3), nullptr);
  job.ForgetDurableRows(4);
  EXPECT_EQ(job.FindRow(3), nullptr);
  EXPECT_EQ(job.state(3), v1::CANDIDATE_STATE_SKIPPED) << "the state stays";
  ASSERT_NE(job.FindRow(2), nullptr);
}

TEST(JobStateTest, EndedLeasesAreForgottenPerCandidate) {
  JobEntry job;
  job.ended_leases["a"] = {1, "w1"};
  job.ended_leases["b"] = {2, "w1"};
  job.ended_leases["c"] = {1, "w2"};
  job.ForgetEndedLeases(1);
  ASSERT_EQ(job.ended_leases.size(), 1u);
  EXPECT_TRUE(job.ended_leases.contains("b"));
}

}  // namespace
}  // namespace unas::coordinator
