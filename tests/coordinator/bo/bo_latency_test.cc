// Heartbeats of one job stay prompt while a Bayesian-optimisation job with
// 800 observations proposes: its GP steps (seconds each) run in the job's
// proposal pipeline, outside the lock every heartbeat needs. The 800
// observations are random starting points evaluated by the synthetic
// evaluator in-process; the test then measures heartbeat round trips until
// the BO job has taken at least two model-based steps, prints the
// percentiles and asserts a generous bound.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "common/job_spec/loader.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/latency_under_load.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT
using Clock = std::chrono::steady_clock;

constexpr int kObservations = 800;
constexpr int kModelSteps = 2;

v1::JobSpec BoSpec() {
  absl::StatusOr<v1::JobSpec> spec =
      LoadJobSpecFile(std::string(UNAS_SOURCE_DIR) + "/configs/cnn_fashion_bo.textproto");
  EXPECT_TRUE(spec.ok()) << spec.status();
  spec->mutable_algorithm()->set_rounds(kObservations + 100);
  spec->mutable_algorithm()->mutable_bayesian_optimization()->set_starting_points(kObservations);
  spec->set_seed(5);
  return *spec;
}

TEST(BoLatencyTest, HeartbeatsStayPromptWhileABoJobWith800ObservationsProposes) {
  FakeClock clock;  // leases never expire while the test runs
  auto c = MakeCoordinator(TempDbPath("bo_latency"), &clock);
  // The job whose worker heartbeats: one lease, held throughout.
  v1::JobSpec small = SmallSpec(50);
  small.set_max_parallel_evaluations(1);
  absl::StatusOr<v1::Job> small_job = c->SubmitJob(small);
  ASSERT_TRUE(small_job.ok()) << small_job.status();
  const TestWorker beater = Register(*c, "beater");
  std::optional<v1::Task> held = Acquire(*c, beater);
  ASSERT_TRUE(held.has_value());

  absl::StatusOr<v1::Job> bo_job = c->SubmitJob(BoSpec());
  ASSERT_TRUE(bo_job.ok()) << bo_job.status();
  const TestWorker proposer = Register(*c, "proposer");
  auto fill_start = Clock::now();
  ASSERT_EQ(DrainSynthetic(*c, proposer, kObservations), kObservations);
  std::printf("filled %d observations in %.1f s\n", kObservations,
              std::chrono::duration<double>(Clock::now() - fill_start).count());

  // The BO job proposes (model-based now) while the beater heartbeats.
  std::atomic<bool> stop{false};
  std::atomic<int> steps{0};
  std::thread load([&] {
    while (!stop.load() && steps.load() < kModelSteps + 1) {
      std::optional<v1::Task> task = Acquire(*c, proposer);
      if (!task) continue;
      if (Complete(*c, proposer, *task, SyntheticResult(*task)).ok()) ++steps;
    }
  });
  v1::HeartbeatRequest heartbeat;
  Identify(beater, &heartbeat);
  heartbeat.set_lease_id(held->lease_id());
  std::vector<double> heartbeat_ms;
  const auto deadline = Clock::now() + std::chrono::seconds(240);
  while (steps.load() < kModelSteps && Clock::now() < deadline) {
    auto start = Clock::now();
    EXPECT_TRUE(c->Heartbeat(heartbeat).ok());
    heartbeat_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  load.join();
  ASSERT_GE(steps.load(), kModelSteps) << "the BO job did not step within 240 s";

  absl::StatusOr<v1::Job> job = c->GetJob(bo_job->job_id());
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(job->progress().has_bayesian_optimization());
  const v1::BayesianOptimizationStatus& bo = job->progress().bayesian_optimization();
  EXPECT_GE(bo.observations(), kObservations);
  EXPECT_EQ(bo.kernel(), "otmann");
  EXPECT_GT(bo.fitted_on(), 0);
  const double p50 = Percentile(heartbeat_ms, 0.5);
  const double p99 = Percentile(heartbeat_ms, 0.99);
  const double max = Percentile(heartbeat_ms, 1.0);
  std::printf(
      "heartbeat round trip over %zu calls during %d BO steps at %d observations: p50 %.3f ms, "
      "p99 %.3f ms, max %.3f ms; last step %.2f s (fit %.2f, model %.2f, acquisition %.2f)\n",
      heartbeat_ms.size(), steps.load(), bo.observations(), p50, p99, max, bo.step_seconds(),
      bo.fit_seconds(), bo.model_seconds(), bo.acquisition_seconds());
  ASSERT_GT(heartbeat_ms.size(), 20u);
  // Generous: the test shares two cores with the BO step's distance threads.
  EXPECT_LT(p99, 50.0);
  c->Shutdown();
}

}  // namespace
}  // namespace unas::coordinator
