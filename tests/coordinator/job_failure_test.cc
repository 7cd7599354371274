// A job that cannot succeed ends with a clear reason: max_consecutive_failures
// candidates in a row failing for the same worker-reported reason fail the
// job; a success or a different reason starts the count again.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::coordinator {
namespace {

using testing::Acquire;
using testing::Complete;
using testing::FakeClock;
using ::testing::HasSubstr;
using testing::MakeCoordinator;
using testing::Register;
using testing::SmallSpec;
using testing::SyntheticResult;
using testing::TempDbPath;

using testing::TestName;

absl::Status FailNext(Coordinator& c, const std::string& worker, const std::string& reason,
                      bool permanent = true) {
  std::optional<v1::Task> task = Acquire(c, worker);
  if (!task) return absl::NotFoundError("no task");
  v1::FailTaskRequest fail;
  fail.set_worker_id(worker);
  fail.set_lease_id(task->lease_id());
  fail.set_reason(reason);
  fail.set_permanent(permanent);
  return c.FailTask(fail);
}

TEST(JobFailureTest, RepeatedFailuresForOneReasonFailTheJob) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(50);
  spec.set_max_consecutive_failures(3);
  auto job = c->SubmitJob(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  std::string a = Register(*c, "a"), b = Register(*c, "b");
  const std::string missing =
      "FAILED_PRECONDITION: the job's dataset is missing on this worker: /nowhere: no such file";
  ASSERT_TRUE(FailNext(*c, a, missing).ok());
  ASSERT_TRUE(FailNext(*c, b, missing).ok());  // another worker, the same reason
  EXPECT_EQ(c->GetJob(job->job_id())->state(), v1::JOB_STATE_RUNNING);
  ASSERT_TRUE(FailNext(*c, a, missing).ok());
  v1::Job failed = *c->GetJob(job->job_id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.failure_reason(), HasSubstr("3 candidates in a row failed"));
  EXPECT_THAT(failed.failure_reason(), HasSubstr("/nowhere: no such file"));
  EXPECT_EQ(failed.progress().evaluations_failed(), 3);
  EXPECT_FALSE(Acquire(*c, a)) << "a failed job hands out nothing";
}

TEST(JobFailureTest, ASuccessOrAnotherReasonRestartsTheCount) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(50);
  spec.set_max_consecutive_failures(2);
  auto job = c->SubmitJob(spec);
  std::string w = Register(*c, "w");
  ASSERT_TRUE(FailNext(*c, w, "one").ok());
  ASSERT_TRUE(FailNext(*c, w, "two").ok());
  std::optional<v1::Task> task = Acquire(*c, w);
  ASSERT_TRUE(Complete(*c, w, *task, SyntheticResult(*task)).ok());
  ASSERT_TRUE(FailNext(*c, w, "two").ok());
  // Transient failures are retried, and only a candidate given up counts.
  ASSERT_TRUE(FailNext(*c, w, "two", /*permanent=*/false).ok());
  EXPECT_EQ(c->GetJob(job->job_id())->state(), v1::JOB_STATE_RUNNING);
  ASSERT_TRUE(FailNext(*c, w, "two").ok());
  EXPECT_EQ(c->GetJob(job->job_id())->state(), v1::JOB_STATE_FAILED);
}

TEST(JobFailureTest, TheLimitIsASpecFieldWithADefault) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  auto job = c->SubmitJob(SmallSpec(50));
  EXPECT_EQ(job->spec().max_consecutive_failures(), 5);
  v1::JobSpec bad = SmallSpec(5);
  bad.set_max_consecutive_failures(0);
  EXPECT_THAT(c->SubmitJob(bad).status().message(), HasSubstr("max_consecutive_failures"));
}

}  // namespace
}  // namespace unas::coordinator
