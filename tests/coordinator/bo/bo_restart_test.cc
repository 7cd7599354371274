// A coordinator restarted under a Bayesian-optimisation job with 800
// observations proposes from the stored model state (distance rows and
// hyper-parameters, schema version 4) instead of replaying every
// observation's distances: the first proposal after the restart equals the
// uninterrupted coordinator's and the full replay's, and comes far sooner
// than the replay's. Heartbeats of another job stay prompt meanwhile. The
// bounds are generous (a loaded two-core machine); the figures are printed,
// and bench/coordinator/bo_restart measures them at any size.
#include <cstdio>

#include "gtest/gtest.h"
#include "tests/coordinator/bo/bo_restart_scenario.h"
#include "tests/util/test_dirs.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT

constexpr int kObservations = 800;

void Print(const char* name, const RestartedProposal& p) {
  std::printf(
      "%-14s create %.2f s (cpu %.2f s), first proposal %.2f s (cpu %.2f s); heartbeats: %zu, "
      "p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
      name, p.create_seconds, p.create_cpu_seconds, p.proposal_seconds, p.proposal_cpu_seconds,
      p.heartbeat_ms.size(), Percentile(p.heartbeat_ms, 0.5), Percentile(p.heartbeat_ms, 0.99),
      Percentile(p.heartbeat_ms, 1.0));
}

TEST(BoRestartTest, RestartAt800ObservationsProposesFromTheStoredModelFarSoonerThanAReplay) {
  const std::string dir = unas::testing::MakeTestDir("bo_restart");
  const BoRestartRun run = RunBoRestart(dir, kObservations);
  ASSERT_FALSE(::testing::Test::HasFailure());
  std::printf("filled %d observations in %.1f s\n", run.observations, run.fill_seconds);
  Print("uninterrupted", run.uninterrupted);
  Print("stored model", run.stored);
  Print("full replay", run.replayed);

  // Stored or replayed, the model proposes what the uninterrupted one does.
  ASSERT_NE(run.uninterrupted.fingerprint, 0u);
  EXPECT_EQ(run.stored.fingerprint, run.uninterrupted.fingerprint);
  EXPECT_EQ(run.replayed.fingerprint, run.uninterrupted.fingerprint);

  // The replay computes 800·799/2 distances and fits the hyper-parameters;
  // the stored restart reads them back and takes one ordinary step.
  const double stored = run.stored.create_seconds + run.stored.proposal_seconds;
  const double replayed = run.replayed.create_seconds + run.replayed.proposal_seconds;
  EXPECT_LT(stored, 0.5 * replayed);
  // Heartbeats are answered while the first proposal is made, either way.
  EXPECT_LT(Percentile(run.stored.heartbeat_ms, 0.99), 500.0);
  EXPECT_LT(Percentile(run.replayed.heartbeat_ms, 0.99), 500.0);
}

}  // namespace
}  // namespace unas::coordinator
