// BO through the coordinator core with the synthetic evaluator: every shipped
// BO config runs a short job (its starting points and three BO steps), and a
// seeded one-worker BO job proposes the same candidates across a restart.
#include <string>
#include <vector>

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

// Fingerprints of the job's candidates in id order.
std::vector<uint64_t> Trace(Coordinator& c, int64_t job_id) {
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1000);
  absl::StatusOr<v1::ListCandidatesResponse> r = c.ListCandidates(request);
  EXPECT_TRUE(r.ok()) << r.status();
  std::vector<uint64_t> trace;
  if (r.ok()) {
    for (const v1::Candidate& cand : r->candidates()) trace.push_back(cand.fingerprint());
  }
  return trace;
}

v1::JobSpec SmallBoSpec() {
  v1::JobSpec spec = SmallSpec(16, /*seed=*/3);
  spec.mutable_algorithm()->mutable_bayesian_optimization()->set_starting_points(5);
  return spec;
}

TEST(BoRestartTest, SeededOneWorkerJobProposesTheSameAcrossARestart) {
  std::vector<uint64_t> uninterrupted;
  {
    FakeClock clock;
    auto c = MakeCoordinator(TempDbPath("bo_uninterrupted"), &clock);
    absl::StatusOr<v1::Job> job = c->SubmitJob(SmallBoSpec());
    ASSERT_TRUE(job.ok()) << job.status();
    EXPECT_EQ(DrainSynthetic(*c, Register(*c, "w")), 16);
    uninterrupted = Trace(*c, job->job_id());
  }
  ASSERT_EQ(uninterrupted.size(), 16u);
  std::string db = TempDbPath("bo_restarted");
  FakeClock clock;
  int64_t job_id = 0;
  std::optional<v1::Task> held;
  TestWorker w;  // its secret is stored: it carries on after the restart
  {
    auto c = MakeCoordinator(db, &clock);
    job_id = c->SubmitJob(SmallBoSpec())->job_id();
    w = Register(*c, "w");
    EXPECT_EQ(DrainSynthetic(*c, w, 9), 9);
    held = Acquire(*c, w);  // leased when the coordinator goes away
    ASSERT_TRUE(held.has_value());
  }
  auto c = MakeCoordinator(db, &clock);  // replays the nine evaluations
  ASSERT_TRUE(Complete(*c, w, *held, SyntheticResult(*held)).ok());
  EXPECT_EQ(DrainSynthetic(*c, w), 6);
  EXPECT_EQ(c->GetJob(job_id)->state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(Trace(*c, job_id), uninterrupted);
}

INSTANTIATE_TEST_SUITE_P(ShippedConfigs, BoConfigSmokeTest,
                         ::testing::Values("cnn_chars74k_bo", "cnn_chars74k_bo_struct_pru",
                                           "cnn_fashion_bo", "cnn_mnist_binary", "cnn_mnist_bo",
                                           "cnn_mnist_bo_struct_pru", "cnn_vww", "mlp_fashion"));

}  // namespace
}  // namespace unas::coordinator
