// The job model's progress counts: queued includes duplicates waiting for a
// result, and feasible_in_last_25 looks at the last 25 evaluations only.
#include "coordinator/core/job_state.h"

#include "gtest/gtest.h"

namespace unas::coordinator {
namespace {

TEST(JobStateTest, ProgressCountsTheLast25AndWaitingDuplicates) {
  JobEntry job;
  job.job.mutable_spec()->mutable_algorithm()->set_rounds(100);
  for (int64_t id = 1; id <= 30; ++id) {
    CandidateRow row;
    row.candidate.set_candidate_id(id);
    row.candidate.set_feasible(id <= 10);  // only the first 10 are feasible
    job.candidates.push_back(row);
    job.history.push_back(id);
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
