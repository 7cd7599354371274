// A job whose dataset no worker has ends FAILED within a bounded number of
// attempts, with a reason that names the missing folder (real coordinator and
// LibTorch worker processes on loopback).
#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT
using ::testing::HasSubstr;

TEST(MissingDatasetTest, TheJobFailsNamingTheFolder) {
  std::string dir = unas::testing::MakeTestDir("missing_dataset");
  CoordinatorProcess coordinator(dir, dir + "/search.db");
  v1::JobSpec spec = SmallSpec(100);
  const std::string missing = dir + "/no-such-dataset";
  spec.mutable_dataset()->set_data_dir(missing);
  int64_t job_id = Submit(coordinator, spec);
  auto worker = StartWorker(dir, coordinator.address(), "w", {"--threads", "1"});
  v1::Job job = WaitForJobEnd(coordinator, job_id, absl::Seconds(120));
  EXPECT_EQ(job.state(), v1::JOB_STATE_FAILED) << worker->ReadLog();
  EXPECT_THAT(job.failure_reason(), HasSubstr("5 candidates in a row failed"));
  EXPECT_THAT(job.failure_reason(), HasSubstr(missing));
  // Each candidate failed at its first attempt: the job stopped after 5.
  EXPECT_EQ(job.progress().evaluations_failed(), 5);
  EXPECT_EQ(job.progress().evaluations_done(), 0);
  worker->Kill();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unas::coordinator
