// Soak: one job of 500 synthetic evaluations while 50 random worker SIGKILLs
// and 10 coordinator SIGKILLs hit it at random moments. At the end: exactly
// 500 evaluations, none lost, none counted twice, every result a worker saw
// acknowledged is stored, and the population the coordinator serves equals
// a replay of the stored history.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "common/objectives/objectives.h"
#include "coordinator/search/aging_evolution.h"
#include "coordinator/search/algorithm.h"
#include "coordinator/store/store.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT

constexpr int kRounds = 500;
constexpr int kWorkers = 4;
constexpr int kWorkerKills = 50;
constexpr int kCoordinatorKills = 10;

v1::Job GetJobOrEmpty(CoordinatorProcess& coordinator, int64_t job_id) {
  auto client = coordinator.JobClient();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetJobRequest request;
  request.set_job_id(job_id);
  v1::Job job;
  if (!client->GetJob(&context, request, &job).ok()) job.Clear();
  return job;
}

std::vector<int64_t> ServedPopulation(CoordinatorProcess& coordinator, int64_t job_id) {
  auto client = coordinator.JobClient();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.set_population_only(true);
  request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
  request.set_page_size(1000);
  v1::ListCandidatesResponse response;
  grpc::Status status = client->ListCandidates(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<int64_t> ids;
  for (const v1::Candidate& c : response.candidates()) ids.push_back(c.candidate_id());
  return ids;
}

TEST(SoakTest, FiveHundredEvaluationsThroughSixtyKills) {
  std::string dir = unas::testing::MakeTestDir("soak");
  std::string db = dir + "/search.db", acks = dir + "/acks";
  CoordinatorProcess coordinator(dir, db, 0, {"--heartbeat-interval", "1"});
  v1::JobSpec spec = SmallSpec(kRounds, /*seed=*/5);
  spec.mutable_algorithm()->mutable_aging_evolution()->set_population_size(20);
  spec.mutable_algorithm()->mutable_aging_evolution()->set_sample_size(5);
  spec.mutable_algorithm()->mutable_aging_evolution()->set_initial_population_size(20);
  spec.set_lease_ttl_seconds(4);
  spec.set_max_attempts(20);  // kills, not the candidates, end these attempts
  const int64_t job_id = Submit(coordinator, spec);
  ASSERT_GT(job_id, 0);

  auto start_worker = [&](int i) {
    return StartWorker(
        dir, coordinator.address(), "s" + std::to_string(i),
        {"--synthetic", "--synthetic-delay-ms", "150", "--slots", "2", "--ack-log", acks});
  };
  std::vector<std::unique_ptr<unas::Subprocess>> workers;
  for (int i = 0; i < kWorkers; ++i) workers.push_back(start_worker(i));

  // 60 kills in a random order, at random moments while the job runs.
  std::vector<bool> kill_coordinator(kWorkerKills + kCoordinatorKills, false);
  std::fill(kill_coordinator.begin(), kill_coordinator.begin() + kCoordinatorKills, true);
  std::mt19937 rng(2024);
  std::shuffle(kill_coordinator.begin(), kill_coordinator.end(), rng);
  std::uniform_int_distribution<int> pause_ms(50, 350);
  std::uniform_int_distribution<int> which_worker(0, kWorkers - 1);
  int kills_while_running = 0;
  for (bool coordinator_kill : kill_coordinator) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    if (coordinator_kill) {
      coordinator.Restart();  // SIGKILL, then start again on the same port
    } else {
      int i = which_worker(rng);
      workers[static_cast<size_t>(i)]->Kill();
      workers[static_cast<size_t>(i)] = start_worker(i);
    }
    v1::Job job = GetJobOrEmpty(coordinator, job_id);
    if (job.state() == v1::JOB_STATE_RUNNING) ++kills_while_running;
  }
  EXPECT_GE(kills_while_running, kWorkerKills + kCoordinatorKills - 5)
      << "the job ended before the kills did: make the synthetic evaluations slower";

  v1::Job job = WaitForJobEnd(coordinator, job_id, absl::Seconds(300));
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << coordinator.process().ReadLog();
  EXPECT_EQ(job.progress().evaluations_done(), kRounds);
  const std::vector<int64_t> served = ServedPopulation(coordinator, job_id);
  for (auto& w : workers) w->Kill();
  coordinator.process().Signal(SIGTERM);
  ASSERT_EQ(coordinator.process().Wait(absl::Seconds(20)), 0);

  absl::StatusOr<std::unique_ptr<store::Store>> store = store::Store::Open(db);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::vector<store::CandidateRow>> rows = (*store)->LoadCandidates(job_id);
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::vector<const store::CandidateRow*> history;
  std::set<int64_t> done;
  for (const store::CandidateRow& row : *rows) {
    if (row.candidate.state() != v1::CANDIDATE_STATE_DONE) continue;
    done.insert(row.candidate.candidate_id());
    ASSERT_TRUE(row.finish_seq.has_value());
    history.push_back(&row);
  }
  std::sort(history.begin(), history.end(),
            [](const auto* a, const auto* b) { return *a->finish_seq < *b->finish_seq; });
  ASSERT_EQ(history.size(), static_cast<size_t>(kRounds)) << "exactly `rounds` evaluations";
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(*history[i]->finish_seq, static_cast<int64_t>(i) + 1)
        << "history positions are 1..500, each once";
  }
  // Every acknowledged result is stored.
  std::ifstream in(acks);
  int64_t ack_job = 0, ack_candidate = 0;
  int acknowledged = 0;
  while (in >> ack_job >> ack_candidate) {
    ++acknowledged;
    EXPECT_EQ(ack_job, job_id);
    EXPECT_TRUE(done.contains(ack_candidate))
        << "acknowledged candidate " << ack_candidate << " is not DONE in the store";
  }
  EXPECT_GT(acknowledged, kRounds / 2);

  // The population served equals a replay of the stored history.
  absl::StatusOr<std::unique_ptr<search::SearchAlgorithm>> algorithm =
      search::MakeSearchAlgorithm(job.spec());
  ASSERT_TRUE(algorithm.ok()) << algorithm.status();
  auto* evolution = dynamic_cast<search::AgingEvolution*>(algorithm->get());
  ASSERT_NE(evolution, nullptr);
  for (const store::CandidateRow* row : history) {
    search::Evaluated evaluated;
    evaluated.candidate_id = row->candidate.candidate_id();
    evaluated.architecture = row->candidate.architecture();
    evaluated.objectives = search::MakeObjectives(row->candidate.evaluation().validation_error(),
                                                  row->candidate.metrics());
    evolution->Observe(evaluated);
  }
  std::vector<int64_t> replayed;
  for (const search::Evaluated& member : evolution->population()) {
    replayed.push_back(member.candidate_id);
  }
  EXPECT_EQ(replayed.size(), 20u);
  EXPECT_EQ(served, replayed);
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unas::coordinator
