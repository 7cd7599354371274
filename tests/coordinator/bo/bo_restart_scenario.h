// A restart of a Bayesian-optimisation job with many observations, in the
// coordinator core: the job is filled with synthetic results (random
// starting points, then one model-based step that fits the
// hyper-parameters), its database is copied, and the next proposal is made
// three ways: by the uninterrupted coordinator, by a coordinator restarted on
// one copy (which finds the stored model state: distance rows and
// hyper-parameters), and by one restarted on the other copy with the model
// state deleted (the full replay every restart did before the state was
// stored). Meanwhile the worker of a second job heartbeats its lease. The
// test (bo_restart_test.cc) asserts that the three proposals agree and that
// the stored restart is far faster; bench/coordinator/bo_restart prints the
// figures.
#ifndef UNAS_TESTS_COORDINATOR_BO_BO_RESTART_SCENARIO_H_
#define UNAS_TESTS_COORDINATOR_BO_BO_RESTART_SCENARIO_H_

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/job_spec/loader.h"
#include "coordinator/core/coordinator.h"
#include "coordinator/store/sqlite.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/latency_under_load.h"

namespace unas::coordinator::testing {

// One restarted (or the uninterrupted) coordinator's next proposal.
struct RestartedProposal {
  uint64_t fingerprint = 0;
  double create_seconds = 0;    // Coordinator::Create: the store read back
  double proposal_seconds = 0;  // the first AcquireTask after it
  // CPU time of the process (every thread) during the two: on a loaded
  // machine closer to what a quiet one would take than the wall time.
  double create_cpu_seconds = 0;
  double proposal_cpu_seconds = 0;
  std::vector<double> heartbeat_ms;
};

struct BoRestartRun {
  int observations = 0;
  double fill_seconds = 0;
  RestartedProposal uninterrupted, stored, replayed;
};

inline v1::JobSpec BoRestartSpec(int observations) {
  absl::StatusOr<v1::JobSpec> spec =
      LoadJobSpecFile(std::string(UNAS_SOURCE_DIR) + "/configs/cnn_fashion_bo.textproto");
  EXPECT_TRUE(spec.ok()) << spec.status();
  spec->mutable_algorithm()->set_rounds(observations + 20);
  // The last observation comes from a model-based step, which fits (and
  // stores) the hyper-parameters.
  spec->mutable_algorithm()->mutable_bayesian_optimization()->set_starting_points(observations - 1);
  spec->set_seed(5);
  return *spec;
}

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The next BO proposal of `c` (whose only other job's lease `held` is held by
// `beater`, who heartbeats it meanwhile every 5 ms).
inline RestartedProposal ProposeWhileHeartbeating(Coordinator& c, const TestWorker& proposer,
                                                  const TestWorker& beater,
                                                  const std::string& lease, double create_seconds,
                                                  double create_cpu_seconds) {
  RestartedProposal out;
  out.create_seconds = create_seconds;
  out.create_cpu_seconds = create_cpu_seconds;
  std::atomic<bool> done{false};
  std::thread beat([&] {
    v1::HeartbeatRequest heartbeat;
    Identify(beater, &heartbeat);
    heartbeat.set_lease_id(lease);
    while (!done.load()) {
      auto start = std::chrono::steady_clock::now();
      EXPECT_TRUE(c.Heartbeat(heartbeat).ok());
      out.heartbeat_ms.push_back(SecondsSince(start) * 1000.0);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  std::optional<v1::Task> task = Acquire(c, proposer);
  out.proposal_seconds = SecondsSince(start);
  out.proposal_cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  done = true;
  beat.join();
  EXPECT_TRUE(task.has_value()) << "no proposal after the restart";
  if (task) {
    absl::StatusOr<v1::Candidate> candidate = c.GetCandidate(task->job_id(), task->candidate_id());
    EXPECT_TRUE(candidate.ok()) << candidate.status();
    if (candidate.ok()) out.fingerprint = candidate->fingerprint();
  }
  return out;
}

inline void CopyDatabase(const std::string& from, const std::string& to) {
  for (const char* suffix : {"", "-wal"}) {
    std::filesystem::remove(to + suffix);
    if (std::filesystem::exists(from + suffix))
      std::filesystem::copy_file(from + suffix, to + suffix);
  }
}

inline BoRestartRun RunBoRestart(const std::string& dir, int observations) {
  BoRestartRun run;
  run.observations = observations;
  FakeClock clock;  // leases never expire
  const std::string db = dir + "/uninterrupted.db";
  const std::string stored_db = dir + "/stored.db";
  const std::string replayed_db = dir + "/replayed.db";
  TestWorker beater, proposer;
  std::string lease;
  int64_t bo_job_id = 0;
  {
    auto c = MakeCoordinator(db, &clock);
    v1::JobSpec small = SmallSpec(50);
    small.set_max_parallel_evaluations(1);
    EXPECT_TRUE(c->SubmitJob(small).ok());
    beater = Register(*c, "beater");
    std::optional<v1::Task> held = Acquire(*c, beater);
    EXPECT_TRUE(held.has_value());
    if (held) lease = held->lease_id();
    absl::StatusOr<v1::Job> bo_job = c->SubmitJob(BoRestartSpec(observations));
    EXPECT_TRUE(bo_job.ok()) << bo_job.status();
    if (!bo_job.ok()) return run;
    bo_job_id = bo_job->job_id();
    proposer = Register(*c, "proposer");
    auto fill_start = std::chrono::steady_clock::now();
    while (c->GetJob(bo_job_id)->progress().evaluations_done() < observations) {
      std::optional<v1::Task> task = Acquire(*c, proposer);
      EXPECT_TRUE(task.has_value()) << "the BO job stopped proposing";
      if (!task) return run;
      EXPECT_TRUE(Complete(*c, proposer, *task, SyntheticResult(*task)).ok());
    }
    run.fill_seconds = SecondsSince(fill_start);
    // Every write is durable once Complete returned: the files are a
    // consistent copy while the coordinator idles.
    CopyDatabase(db, stored_db);
    CopyDatabase(db, replayed_db);
    run.uninterrupted = ProposeWhileHeartbeating(*c, proposer, beater, lease, 0, 0);
    c->Shutdown();
  }
  {
    absl::StatusOr<std::unique_ptr<store::Connection>> raw =
        store::Connection::Open(replayed_db, store::Connection::Mode::kReadWrite);
    EXPECT_TRUE(raw.ok()) << raw.status();
    if (raw.ok()) {
      EXPECT_TRUE((*raw)->Execute("DELETE FROM model_state").ok());
    }
  }
  for (auto [path, out] : {std::pair{stored_db, &run.stored}, {replayed_db, &run.replayed}}) {
    auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    auto c = MakeCoordinator(path, &clock);
    const double create_seconds = SecondsSince(start);
    const double create_cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    *out = ProposeWhileHeartbeating(*c, proposer, beater, lease, create_seconds, create_cpu);
    c->Shutdown();
  }
  return run;
}

}  // namespace unas::coordinator::testing

#endif  // UNAS_TESTS_COORDINATOR_BO_BO_RESTART_SCENARIO_H_
