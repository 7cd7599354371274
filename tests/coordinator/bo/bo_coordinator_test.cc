// Every shipped BO config runs through the coordinator with the synthetic
// evaluator: a short job (its starting points and three BO steps) succeeds.
#include <string>

#include "common/job_spec/loader.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT

class BoConfigSmokeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BoConfigSmokeTest, RunsToItsRoundsWithOneWorker) {
  absl::StatusOr<v1::JobSpec> spec =
      LoadJobSpecFile(std::string(UNAS_SOURCE_DIR) + "/configs/" + GetParam() + ".textproto");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(spec->algorithm().has_bayesian_optimization());
  int rounds = spec->algorithm().bayesian_optimization().starting_points() + 3;
  spec->mutable_algorithm()->set_rounds(rounds);
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath("bo_" + GetParam()), &clock);
  absl::StatusOr<v1::Job> job = c->SubmitJob(*spec);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(DrainSynthetic(*c, Register(*c, "w")), rounds);
  absl::StatusOr<v1::Job> done = c->GetJob(job->job_id());
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state(), v1::JOB_STATE_SUCCEEDED) << done->failure_reason();
  EXPECT_EQ(done->progress().evaluations_done(), rounds);
}

INSTANTIATE_TEST_SUITE_P(ShippedConfigs, BoConfigSmokeTest,
                         ::testing::Values("cnn_chars74k_bo", "cnn_chars74k_bo_struct_pru",
                                           "cnn_fashion_bo", "cnn_mnist_binary", "cnn_mnist_bo",
                                           "cnn_mnist_bo_struct_pru", "cnn_vww", "mlp_fashion"));

}  // namespace
}  // namespace unas::coordinator
