// Fault tests with real processes on loopback: SIGKILLed workers and
// coordinators, and a worker that sends garbage.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "coordinator/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"
#include "unas/v1/worker_service.grpc.pb.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT
using ::testing::HasSubstr;

std::vector<store::CandidateRow> StoredCandidates(const std::string& db, int64_t job_id) {
  absl::StatusOr<std::unique_ptr<store::Store>> s = store::Store::Open(db);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return {};
  absl::StatusOr<std::vector<store::CandidateRow>> rows = (*s)->LoadCandidates(job_id);
  EXPECT_TRUE(rows.ok());
  return rows.ok() ? *rows : std::vector<store::CandidateRow>{};
}

TEST(FaultTest, CoordinatorKilledTenTimesLosesAndDuplicatesNothing) {
  std::string dir = unas::testing::MakeTestDir("coordinator_kill");
  std::string db = dir + "/search.db", acks = dir + "/acks";
  CoordinatorProcess coordinator(dir, db);
  v1::JobSpec spec = SmallSpec(200, /*seed=*/3);
  spec.mutable_algorithm()->mutable_aging_evolution()->set_population_size(20);
  spec.mutable_algorithm()->mutable_aging_evolution()->set_sample_size(5);
  int64_t job_id = Submit(coordinator, spec);
  std::vector<std::unique_ptr<unas::testing::Subprocess>> workers;
  for (int i = 0; i < 3; ++i) {
    workers.push_back(
        StartWorker(dir, coordinator.address(), "s" + std::to_string(i),
                    {"--synthetic", "--synthetic-delay-ms", "25", "--ack-log", acks}));
  }
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> pause_ms(150, 600);
  for (int kill = 0; kill < 10; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    coordinator.Restart();  // SIGKILL, then start again on the same port
  }
  v1::Job job = WaitForJobEnd(coordinator, job_id, absl::Seconds(120));
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << coordinator.process().ReadLog();
  EXPECT_EQ(job.progress().evaluations_done(), 200);
  for (auto& w : workers) w->Signal(SIGTERM);
  for (auto& w : workers) EXPECT_EQ(w->Wait(absl::Seconds(20)), 0) << w->ReadLog();
  coordinator.process().Signal(SIGTERM);
  ASSERT_EQ(coordinator.process().Wait(absl::Seconds(20)), 0);

  std::vector<store::CandidateRow> rows = StoredCandidates(db, job_id);
  std::set<int64_t> done, finish_seqs;
  for (const store::CandidateRow& row : rows) {
    if (row.candidate.state() != v1::CANDIDATE_STATE_DONE) continue;
    done.insert(row.candidate.candidate_id());
    ASSERT_TRUE(row.finish_seq.has_value());
    EXPECT_TRUE(finish_seqs.insert(*row.finish_seq).second) << "history position used twice";
  }
  EXPECT_EQ(done.size(), 200u) << "exactly `rounds` evaluations";
  EXPECT_EQ(*finish_seqs.begin(), 1);
  EXPECT_EQ(*finish_seqs.rbegin(), 200) << "history has no gaps";
  // Every result a worker saw acknowledged is in the store.
  std::ifstream in(acks);
  int64_t ack_job = 0, ack_candidate = 0;
  int acknowledged = 0;
  while (in >> ack_job >> ack_candidate) {
    ++acknowledged;
    EXPECT_EQ(ack_job, job_id);
    EXPECT_TRUE(done.contains(ack_candidate))
        << "acknowledged candidate " << ack_candidate << " is not DONE in the store";
  }
  // The last report before the job ended may be stored without its worker
  // seeing the acknowledgement (the coordinator died in between): not every
  // stored result has an ack line, but every ack line has a stored result.
  EXPECT_GT(acknowledged, 150);
  // Keep the logs of a failed run; tidy up after a passing one.
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

TEST(FaultTest, WorkerKilledMidEvaluationIsReplacedAndTheJobCompletes) {
  std::string dir = unas::testing::MakeTestDir("worker_kill");
  std::string db = dir + "/search.db";
  CoordinatorProcess coordinator(dir, db, 0, {"--heartbeat-interval", "1"});
  v1::JobSpec spec = SmallSpec(4);
  spec.set_lease_ttl_seconds(3);
  int64_t job_id = Submit(coordinator, spec);
  auto victim = StartWorker(dir, coordinator.address(), "victim",
                            {"--synthetic", "--synthetic-delay-ms", "60000"});
  // Wait until the victim holds a lease, then kill it mid-"training".
  const int64_t victim_candidate = WaitForLeasedCandidate(coordinator, job_id, absl::Seconds(30));
  ASSERT_NE(victim_candidate, 0) << victim->ReadLog();
  victim->Kill();
  auto rescuer = StartWorker(dir, coordinator.address(), "rescuer",
                             {"--synthetic", "--synthetic-delay-ms", "100"});
  v1::Job job = WaitForJobEnd(coordinator, job_id, absl::Seconds(60));
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << coordinator.process().ReadLog();
  EXPECT_EQ(job.progress().evaluations_done(), 4);
  EXPECT_EQ(job.progress().lease_expiries(), 1);

  const v1::Candidate candidate = GetCandidate(coordinator, job_id, victim_candidate);
  EXPECT_EQ(candidate.state(), v1::CANDIDATE_STATE_DONE);
  EXPECT_EQ(candidate.attempts(), 2);
  EXPECT_EQ(candidate.worker_id(), "w2") << "re-run by the rescuer";
  ASSERT_EQ(candidate.failure_reasons_size(), 1);
  EXPECT_THAT(candidate.failure_reasons(0), HasSubstr("lease expired"));
  // Keep the logs of a failed run; tidy up after a passing one.
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

// SIGTERM (what Slurm sends on scancel or pre-emption): a worker in the middle
// of a candidate gives it back at once without using up an attempt, and an
// idle worker exits without waiting for its long-poll to time out.
TEST(FaultTest, TerminatedWorkersReleaseTheirCandidatesAndExitPromptly) {
  std::string dir = unas::testing::MakeTestDir("worker_term");
  std::string db = dir + "/search.db";
  CoordinatorProcess coordinator(dir, db);
  // An idle worker (no job yet) in a 60 s long-poll: cancelled on SIGTERM.
  auto idle = std::make_unique<unas::Subprocess>(
      std::vector<std::string>{unas::testing::BinaryPath("unas-worker"), "--coordinator",
                               coordinator.address(), "--name", "idle", "--synthetic",
                               "--acquire-wait", "60"},
      dir + "/idle.log");
  // LibTorch alone takes 0.4-2 s to load, depending on the machine: act once
  // the worker has registered (its long-poll follows at once), however long
  // that takes.
  ASSERT_TRUE(unas::testing::WaitForLogLine(*idle, "registered as", absl::Seconds(120)))
      << idle->ReadLog();
  idle->Signal(SIGTERM);
  EXPECT_EQ(idle->Wait(absl::Seconds(20)), 0) << "still polling: " << idle->ReadLog();

  v1::JobSpec spec = SmallSpec(3);
  spec.set_lease_ttl_seconds(600);  // a lease expiry would take 10 minutes
  spec.set_max_attempts(1);
  int64_t job_id = Submit(coordinator, spec);
  auto busy = StartWorker(dir, coordinator.address(), "busy",
                          {"--synthetic", "--synthetic-delay-ms", "60000"});
  const int64_t busy_candidate = WaitForLeasedCandidate(coordinator, job_id, absl::Seconds(30));
  ASSERT_NE(busy_candidate, 0) << busy->ReadLog();
  busy->Signal(SIGTERM);
  EXPECT_EQ(busy->Wait(absl::Seconds(20)), 0) << busy->ReadLog();

  // The released candidate goes to the next worker although max_attempts is 1.
  auto rescuer = StartWorker(dir, coordinator.address(), "rescuer",
                             {"--synthetic", "--synthetic-delay-ms", "50"});
  v1::Job job = WaitForJobEnd(coordinator, job_id, absl::Seconds(60));
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << coordinator.process().ReadLog();
  EXPECT_EQ(job.progress().evaluations_done(), 3);
  EXPECT_EQ(job.progress().lease_expiries(), 0);
  const v1::Candidate candidate = GetCandidate(coordinator, job_id, busy_candidate);
  EXPECT_EQ(candidate.state(), v1::CANDIDATE_STATE_DONE);
  EXPECT_EQ(candidate.attempts(), 1);
  // Released by the busy worker, and possibly before that by the idle worker's
  // abandoned long-poll (if the job arrived within the 200 ms the coordinator
  // takes to notice a cancelled call): every attempt so far was a release.
  ASSERT_GE(candidate.failure_reasons_size(), 1);
  for (const std::string& reason : candidate.failure_reasons()) {
    EXPECT_THAT(reason, HasSubstr("released"));
  }
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

// Whether `pid` has a handler installed for `signal` (/proc/PID/status
// SigCgt): the observable moment a process can no longer be killed by it.
bool CatchesSignal(pid_t pid, int signal) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigCgt:", 0) == 0) {
      const uint64_t mask = std::stoull(line.substr(7), nullptr, 16);
      return (mask >> (signal - 1)) & 1;
    }
  }
  return false;
}

// SIGTERM at any moment of a worker's start-up (while LibTorch's initialisers
// run, while it registers, as it takes its first candidate): it exits 0 and
// holds nothing afterwards. The worker records SIGTERM from before its
// libraries' initialisers (UNAS_RECORD_STOP_SIGNALS_FROM_PROCESS_START); the
// test signals only once that handler shows in /proc, then after delays that
// spread the signal over the rest of the start-up.
TEST(FaultTest, WorkersTerminatedWhileStartingExitCleanlyHoldingNothing) {
  std::string dir = unas::testing::MakeTestDir("worker_term_start");
  CoordinatorProcess coordinator(dir, dir + "/search.db");
  v1::JobSpec spec = SmallSpec(3);
  spec.set_lease_ttl_seconds(600);  // a lease left behind would show for 10 minutes
  spec.set_max_attempts(1);
  const int64_t job_id = Submit(coordinator, spec);
  int index = 0;
  for (int delay_ms : {0, 5, 20, 50, 100, 200, 400, 800, 1500}) {
    const std::string name = "early" + std::to_string(index++);
    auto worker = StartWorker(dir, coordinator.address(), name,
                              {"--synthetic", "--synthetic-delay-ms", "60000"});
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (!CatchesSignal(worker->pid(), SIGTERM) && worker->running() && absl::Now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(CatchesSignal(worker->pid(), SIGTERM)) << worker->ReadLog();
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    worker->Signal(SIGTERM);
    EXPECT_EQ(worker->Wait(absl::Seconds(30)), 0) << name << ":\n" << worker->ReadLog();
  }
  // Nothing is held by the stopped workers: no lease waits for its TTL.
  auto client = coordinator.JobClient();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.add_states(v1::CANDIDATE_STATE_LEASED);
  v1::ListCandidatesResponse leased;
  ASSERT_TRUE(client->ListCandidates(&context, request, &leased).ok());
  EXPECT_EQ(leased.candidates_size(), 0);
  // And the job finishes on another worker although max_attempts is 1.
  auto rescuer = StartWorker(dir, coordinator.address(), "rescuer",
                             {"--synthetic", "--synthetic-delay-ms", "20"});
  v1::Job job = WaitForJobEnd(coordinator, job_id, absl::Seconds(60));
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << coordinator.process().ReadLog();
  EXPECT_EQ(job.progress().lease_expiries(), 0);
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

TEST(FaultTest, GarbageResultsAreRefusedAndTheJobGoesOn) {
  std::string dir = unas::testing::MakeTestDir("garbage");
  CoordinatorProcess coordinator(dir, dir + "/search.db");
  int64_t job_id = Submit(coordinator, SmallSpec(6));
  auto stub = v1::WorkerService::NewStub(
      grpc::CreateChannel(coordinator.address(), grpc::InsecureChannelCredentials()));
  v1::RegisterWorkerResponse registered;
  {
    grpc::ClientContext context;
    v1::RegisterWorkerRequest request;
    request.set_name("vandal");
    ASSERT_TRUE(stub->RegisterWorker(&context, request, &registered).ok());
  }
  for (int i = 0; i < 3; ++i) {
    v1::AcquireTaskResponse acquired;
    {
      grpc::ClientContext context;
      v1::AcquireTaskRequest request;
      request.set_worker_id(registered.worker_id());
      request.set_worker_secret(registered.worker_secret());
      request.set_wait_seconds(5);
      ASSERT_TRUE(stub->AcquireTask(&context, request, &acquired).ok());
      ASSERT_TRUE(acquired.has_task());
    }
    grpc::ClientContext context;
    v1::CompleteTaskRequest request;
    request.set_worker_id(registered.worker_id());
    request.set_worker_secret(registered.worker_secret());
    request.set_lease_id(acquired.task().lease_id());
    request.set_job_id(acquired.task().job_id());
    request.set_candidate_id(acquired.task().candidate_id());
    request.mutable_result()->set_validation_error(-7);
    request.mutable_result()->set_test_error(42);
    v1::CompleteTaskResponse response;
    grpc::Status status = stub->CompleteTask(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("validation_error"));
  }
  auto honest = StartWorker(dir, coordinator.address(), "honest", {"--synthetic"});
  v1::Job job = WaitForJobEnd(coordinator, job_id, absl::Seconds(60));
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(job.progress().evaluations_done(), 6);
  honest->Signal(SIGTERM);
  EXPECT_EQ(honest->Wait(absl::Seconds(20)), 0);
  coordinator.process().Signal(SIGTERM);
  ASSERT_EQ(coordinator.process().Wait(absl::Seconds(20)), 0);
  for (const store::CandidateRow& row : StoredCandidates(dir + "/search.db", job_id)) {
    if (row.candidate.state() == v1::CANDIDATE_STATE_DONE) {
      EXPECT_GE(row.candidate.evaluation().validation_error(), 0.0);
      EXPECT_LE(row.candidate.evaluation().test_error(), 1.0);
    }
  }
  // Keep the logs of a failed run; tidy up after a passing one.
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unas::coordinator
