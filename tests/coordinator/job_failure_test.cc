// A job that cannot succeed ends with a clear reason: max_consecutive_failures
// candidates in a row failing for the same worker-reported reason fail the
// job; a success or a different reason starts the count again. A result the
// job would reuse that cannot be read from the store fails it too.
#include "absl/strings/str_cat.h"
#include "coordinator/store/sqlite.h"
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

// Under a running coordinator, the evaluated candidates' rows are corrupted
// in the database after every result, in a space so small that the search
// soon proposes a network it has evaluated: that proposal fails the job,
// naming the candidates and the cause, instead of leaving it RUNNING with
// nothing to hand out.
TEST(JobFailureTest, AReusedResultThatCannotBeReadFailsTheJob) {
  FakeClock clock;
  const std::string db = TempDbPath(TestName());
  auto c = MakeCoordinator(db, &clock);
  v1::JobSpec spec = SmallSpec(120, /*seed=*/7);
  v1::CnnSpaceBounds* cnn = spec.mutable_search_space()->mutable_cnn();
  cnn->set_max_conv_blocks(1);
  cnn->set_max_layers_per_block(1);
  cnn->set_max_filters(2);
  cnn->add_kernel_sizes(3);
  cnn->add_pool_sizes(2);
  cnn->set_max_dense_blocks(1);
  cnn->set_min_dense_units(10);
  cnn->set_max_dense_units(11);
  auto job = c->SubmitJob(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  const std::string w = Register(*c, "w");
  // Every answer is durable before it comes back, so this second connection
  // sees (and damages) every evaluated candidate's row.
  absl::StatusOr<std::unique_ptr<store::Connection>> damage =
      store::Connection::Open(db, store::Connection::Mode::kReadWrite);
  ASSERT_TRUE(damage.ok()) << damage.status();
  const std::string corrupt =
      absl::StrCat("UPDATE candidates SET architecture = X'FF' WHERE state = ",
                   static_cast<int>(v1::CANDIDATE_STATE_DONE));
  int evaluated = 0;
  while (evaluated < 120) {
    std::optional<v1::Task> task = Acquire(*c, w);
    if (!task) break;
    ASSERT_TRUE(Complete(*c, w, *task, SyntheticResult(*task)).ok());
    ++evaluated;
    ASSERT_TRUE((*damage)->Execute(corrupt).ok());
  }
  v1::Job failed = *c->GetJob(job->job_id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED)
      << "after " << evaluated << " evaluations the job is " << v1::JobState_Name(failed.state());
  EXPECT_THAT(failed.failure_reason(), HasSubstr("could not take the result of candidate"));
  EXPECT_THAT(failed.failure_reason(), HasSubstr("corrupt record"));
  EXPECT_LT(evaluated, 120) << "no proposal reused a result: the test proves nothing";
}

}  // namespace
}  // namespace unas::coordinator
