// The first proposal of a Bayesian-optimisation job after a coordinator
// restart, in the coordinator core (tests/coordinator/bo/bo_restart_scenario.h):
// from the stored model state against the full replay of every
// observation's distances, and heartbeat round trips of another job's
// worker meanwhile. Target: the restarted job proposes within 2 s at 800
// observations; heartbeat p99 under 50 ms.
//
//   build/bench/bo_restart [--observations 800]
#include <cstdio>

#include "CLI/CLI.hpp"
#include "tests/coordinator/bo/bo_restart_scenario.h"
#include "tests/util/test_dirs.h"

namespace {

using unas::coordinator::testing::Percentile;
using unas::coordinator::testing::RestartedProposal;

void Print(const char* name, const RestartedProposal& p) {
  std::printf(
      "%-14s restart (Coordinator::Create) %.2f s (cpu %.2f s), first proposal %.2f s (cpu %.2f "
      "s), together %.2f s; heartbeats during the proposal: %zu, p50 %.3f ms, p99 %.3f ms, max "
      "%.3f ms; proposal %016llx\n",
      name, p.create_seconds, p.create_cpu_seconds, p.proposal_seconds, p.proposal_cpu_seconds,
      p.create_seconds + p.proposal_seconds, p.heartbeat_ms.size(), Percentile(p.heartbeat_ms, 0.5),
      Percentile(p.heartbeat_ms, 0.99), Percentile(p.heartbeat_ms, 1.0),
      static_cast<unsigned long long>(p.fingerprint));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A BO job's first proposal after a coordinator restart"};
  int observations = 800;
  app.add_option("--observations", observations, "observations before the restart");
  CLI11_PARSE(app, argc, argv);
  const std::string dir = unas::testing::MakeTestDir("bo_restart_bench");
  const unas::coordinator::testing::BoRestartRun run =
      unas::coordinator::testing::RunBoRestart(dir, observations);
  std::printf("filled %d observations in %.1f s\n", run.observations, run.fill_seconds);
  Print("uninterrupted", run.uninterrupted);
  Print("stored model", run.stored);
  Print("full replay", run.replayed);
  const bool same = run.stored.fingerprint == run.uninterrupted.fingerprint &&
                    run.replayed.fingerprint == run.uninterrupted.fingerprint;
  std::printf("proposals %s\n", same ? "equal" : "DIFFER");
  return same ? 0 : 1;
}
