// A seeded one-worker BO job whose coordinator process is SIGKILLed at
// seeded random moments (during proposals, leases, evaluations and reports)
// proposes exactly the candidates an uninterrupted run proposes: after each
// restart the coordinator replays the stored evaluations, and every
// proposal depends only on that history and the candidate id.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT

constexpr int kRounds = 40;
constexpr int kKills = 6;

v1::JobSpec SeededBoSpec() {
  v1::JobSpec spec = SmallSpec(kRounds, /*seed=*/11);
  spec.mutable_algorithm()->mutable_bayesian_optimization()->set_starting_points(6);
  spec.set_max_parallel_evaluations(1);
  return spec;
}

// Every candidate's fingerprint by candidate id.
std::map<int64_t, uint64_t> ProposedById(CoordinatorProcess& coordinator, int64_t job_id) {
  auto client = coordinator.JobClient();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1000);
  v1::ListCandidatesResponse response;
  grpc::Status status = client->ListCandidates(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::map<int64_t, uint64_t> by_id;
  for (const v1::Candidate& c : response.candidates()) by_id[c.candidate_id()] = c.fingerprint();
  return by_id;
}

int EvaluationsDone(CoordinatorProcess& coordinator, int64_t job_id) {
  auto client = coordinator.JobClient();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetJobRequest request;
  request.set_job_id(job_id);
  v1::Job job;
  if (!client->GetJob(&context, request, &job).ok()) return -1;
  return job.progress().evaluations_done();
}

struct JobRun {
  std::map<int64_t, uint64_t> proposed;
  int kills_mid_job = 0;
};

// One job on a fresh coordinator with one synthetic worker; with kills, the
// coordinator is SIGKILLed once the job has reached each of `kill_after`
// evaluations, after a further seeded random 0-80 ms.
JobRun RunJob(const std::string& name, const std::vector<int>& kill_after, uint64_t seed) {
  JobRun run;
  std::string dir = unas::testing::MakeTestDir(name);
  CoordinatorProcess coordinator(dir, dir + "/search.db");
  const int64_t job_id = Submit(coordinator, SeededBoSpec());
  auto worker = StartWorker(dir, coordinator.address(), "solo",
                            {"--synthetic", "--synthetic-delay-ms", "20"});
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_int_distribution<int> jitter_ms(0, 80);
  for (int target : kill_after) {
    const absl::Time deadline = absl::Now() + absl::Seconds(120);
    int done = 0;
    while ((done = EvaluationsDone(coordinator, job_id)) < target && absl::Now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GE(done, target) << "job stalled:\n" << coordinator.process().ReadLog();
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter_ms(rng)));
    if (EvaluationsDone(coordinator, job_id) < kRounds) ++run.kills_mid_job;
    coordinator.Restart();  // SIGKILL, then start again on the same port
  }
  v1::Job job = WaitForJobEnd(coordinator, job_id, absl::Seconds(240));
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << coordinator.process().ReadLog();
  EXPECT_EQ(job.progress().evaluations_done(), kRounds);
  run.proposed = ProposedById(coordinator, job_id);
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->Wait(absl::Seconds(20)), 0) << worker->ReadLog();
  coordinator.process().Signal(SIGTERM);
  EXPECT_EQ(coordinator.process().Wait(absl::Seconds(20)), 0);
  // Keep the logs of a failed run; tidy up after a passing one.
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
  return run;
}

TEST(BoFaultTest, CoordinatorKilledAtRandomMomentsProposesWhatAnUninterruptedRunProposes) {
  const JobRun uninterrupted = RunJob("bo_uninterrupted", {}, 0);
  ASSERT_GE(uninterrupted.proposed.size(), static_cast<size_t>(kRounds));

  // Kill points spread over the random starting points and the BO steps.
  std::mt19937 rng(2026);
  std::uniform_int_distribution<int> point(2, kRounds - 3);
  std::set<int> distinct;
  while (static_cast<int>(distinct.size()) < kKills) distinct.insert(point(rng));
  const std::vector<int> kill_after(distinct.begin(), distinct.end());
  const JobRun killed = RunJob("bo_killed", kill_after, 7);
  EXPECT_GE(killed.kills_mid_job, kKills - 1) << "the kills must land while the job runs";

  EXPECT_EQ(killed.proposed.size(), uninterrupted.proposed.size());
  for (const auto& [id, fingerprint] : uninterrupted.proposed) {
    auto it = killed.proposed.find(id);
    ASSERT_NE(it, killed.proposed.end()) << "candidate " << id << " never proposed";
    EXPECT_EQ(it->second, fingerprint) << "candidate " << id << " differs";
  }
}

}  // namespace
}  // namespace unas::coordinator
