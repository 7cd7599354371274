// Workers cannot interfere with each other: unguessable lease ids, leases
// usable only by their registered holder, size limits on everything a worker
// sends, int8 models validated before they are stored, and a result over the
// message limit failing its task instead of being retried forever.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <set>
#include <thread>

#include "coordinator/core/failure_text.h"
#include "coordinator/core/worker_input_limits.h"
#include "coordinator/service/services.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "worker/daemon/worker_loop.h"

namespace unas::coordinator {
namespace {

using testing::Acquire;
using testing::Complete;
using testing::FakeClock;
using ::testing::HasSubstr;
using testing::MakeCoordinator;
using testing::Register;
using testing::SmallSpec;
using testing::SyntheticResult;
using testing::TempDbPath;

using testing::Identify;
using testing::TestName;
using testing::TestWorker;

TEST(WorkerIsolationTest, LeaseIdsAre128RandomBits) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  ASSERT_TRUE(c->SubmitJob(SmallSpec(40)).ok());
  TestWorker w = Register(*c, "w");
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    std::optional<v1::Task> task = Acquire(*c, w);
    ASSERT_TRUE(task);
    EXPECT_EQ(task->lease_id().size(), 32u) << task->lease_id();
    EXPECT_EQ(task->lease_id().find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(task->lease_id().find(std::to_string(task->candidate_id()) + "-"), std::string::npos)
        << "no job-candidate pattern";
    ids.insert(task->lease_id());
    ASSERT_TRUE(Complete(*c, w, *task, SyntheticResult(*task)).ok());
  }
  EXPECT_EQ(ids.size(), 20u);
}

TEST(WorkerIsolationTest, OnlyTheRegisteredHolderMayUseALease) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  auto job = c->SubmitJob(SmallSpec(5));
  TestWorker holder = Register(*c, "holder"), other = Register(*c, "other");
  std::optional<v1::Task> task = Acquire(*c, holder);
  ASSERT_TRUE(task);

  v1::HeartbeatRequest hb;
  Identify(other, &hb);
  hb.set_lease_id(task->lease_id());
  EXPECT_FALSE(c->Heartbeat(hb)->keep_going());
  hb.set_worker_id("w999");
  EXPECT_EQ(c->Heartbeat(hb).status().code(), absl::StatusCode::kFailedPrecondition);

  v1::FailTaskRequest fail;
  Identify(other, &fail);
  fail.set_lease_id(task->lease_id());
  fail.set_permanent(true);
  absl::Status failed = c->FailTask(fail);
  EXPECT_EQ(failed.code(), absl::StatusCode::kPermissionDenied) << failed;
  fail.set_worker_id("w999");
  EXPECT_EQ(c->FailTask(fail).code(), absl::StatusCode::kFailedPrecondition);

  auto stolen = Complete(*c, other, *task, SyntheticResult(*task));
  EXPECT_EQ(stolen.status().code(), absl::StatusCode::kPermissionDenied) << stolen.status();
  EXPECT_THAT(stolen.status().message(), HasSubstr("holds no lease"));
  auto unregistered = Complete(*c, TestWorker{"w999", ""}, *task, SyntheticResult(*task));
  EXPECT_EQ(unregistered.status().code(), absl::StatusCode::kFailedPrecondition);

  // Nothing of that touched the holder's lease.
  auto candidate = c->GetCandidate(job->job_id(), task->candidate_id());
  EXPECT_EQ(candidate->state(), v1::CANDIDATE_STATE_LEASED);
  EXPECT_EQ(candidate->failure_reasons_size(), 0);
  Identify(holder, &hb);
  EXPECT_TRUE(c->Heartbeat(hb)->keep_going());
  auto done = Complete(*c, holder, *task, SyntheticResult(*task));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->accepted());
}

// Worker ids are sequential and public: without the secret of the id's
// registration, no call may act as that worker.
TEST(WorkerIsolationTest, AWorkerIdWithoutItsSecretIsRefusedEverywhere) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  auto job = c->SubmitJob(SmallSpec(5));
  TestWorker holder = Register(*c, "holder"), rogue = Register(*c, "rogue");
  std::optional<v1::Task> task = Acquire(*c, holder);
  ASSERT_TRUE(task);
  for (const std::string& secret : {std::string(), rogue.secret, holder.secret.substr(1)}) {
    const TestWorker forged{holder.id, secret};
    v1::AcquireTaskRequest acquire;
    Identify(forged, &acquire);
    // Before secrets this was accepted, and voided the holder's lease as one
    // "it forgot" (its one slot was busy).
    EXPECT_EQ(c->AcquireTask(acquire, absl::ZeroDuration()).status().code(),
              absl::StatusCode::kUnauthenticated);
    v1::HeartbeatRequest hb;
    Identify(forged, &hb);
    hb.set_lease_id(task->lease_id());
    EXPECT_EQ(c->Heartbeat(hb).status().code(), absl::StatusCode::kUnauthenticated);
    v1::FailTaskRequest fail;
    Identify(forged, &fail);
    fail.set_lease_id(task->lease_id());
    fail.set_permanent(true);
    EXPECT_EQ(c->FailTask(fail).code(), absl::StatusCode::kUnauthenticated);
    v1::EvaluationResult wrong = SyntheticResult(*task);
    wrong.set_validation_error(0.99);
    EXPECT_EQ(Complete(*c, forged, *task, wrong).status().code(),
              absl::StatusCode::kUnauthenticated);
  }
  auto candidate = c->GetCandidate(job->job_id(), task->candidate_id());
  EXPECT_EQ(candidate->state(), v1::CANDIDATE_STATE_LEASED);
  EXPECT_EQ(candidate->failure_reasons_size(), 0);
  auto done = Complete(*c, holder, *task, SyntheticResult(*task));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->accepted());
  EXPECT_NE(c->GetCandidate(job->job_id(), task->candidate_id())->evaluation().validation_error(),
            0.99);
}

// Registering a victim's name no longer ends its leases: without the name's
// secret it is refused until they expire.
TEST(WorkerIsolationTest, ALiveNameRegistersAgainOnlyWithItsSecretOrAfterItsLeasesExpire) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  auto job = c->SubmitJob(SmallSpec(5));
  TestWorker victim = Register(*c, "node07/gpu2");
  std::optional<v1::Task> task = Acquire(*c, victim);
  ASSERT_TRUE(task);
  v1::RegisterWorkerRequest impostor;
  impostor.set_name("node07/gpu2");
  impostor.set_slots(4);
  for (const std::string& secret : {std::string(), std::string(32, '0')}) {
    impostor.set_worker_secret(secret);
    absl::StatusOr<v1::RegisterWorkerResponse> refused = c->RegisterWorker(impostor);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists) << refused.status();
    EXPECT_THAT(refused.status().message(), HasSubstr("is in use (1 leases)"));
  }
  auto candidate = c->GetCandidate(job->job_id(), task->candidate_id());
  EXPECT_EQ(candidate->state(), v1::CANDIDATE_STATE_LEASED);
  EXPECT_EQ(candidate->failure_reasons_size(), 0);
  v1::HeartbeatRequest hb;
  Identify(victim, &hb);
  hb.set_lease_id(task->lease_id());
  EXPECT_TRUE(c->Heartbeat(hb)->keep_going()) << "the victim trains on";
  EXPECT_EQ(c->ListWorkers(true).front().slots(), 1);

  // The victim really is gone: once its lease expired, the name is free.
  clock.Advance(int64_t{task->lease_ttl_seconds()} * 1000 + 1);
  c->ExpireLeases();
  impostor.clear_worker_secret();
  absl::StatusOr<v1::RegisterWorkerResponse> taken = c->RegisterWorker(impostor);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->worker_id(), victim.id);
  v1::AcquireTaskRequest acquire;
  Identify(victim, &acquire);
  EXPECT_EQ(c->AcquireTask(acquire, absl::ZeroDuration()).status().code(),
            absl::StatusCode::kUnauthenticated)
      << "the old registration's secret is void";
}

TEST(WorkerIsolationTest, LiveWorkerNamesAreCapped) {
  FakeClock clock;
  CoordinatorOptions options;
  options.max_workers = 2;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock, options);
  TestWorker a = Register(*c, "a");
  Register(*c, "b");
  v1::RegisterWorkerRequest third;
  third.set_name("c");
  absl::StatusOr<v1::RegisterWorkerResponse> refused = c->RegisterWorker(third);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("--max-workers 2"));
  EXPECT_EQ(Register(*c, "a").id, a.id) << "a live name may register again";
  // Names go quiet after kWorkerLiveMs without a call (holding no lease).
  clock.Advance(kWorkerLiveMs);
  EXPECT_TRUE(c->RegisterWorker(third).ok());
}

// Names registered once do not pile up: past twice --max-workers known
// names, the quiet ones are forgotten (in memory and in the store), and a
// forgotten worker's credentials no longer work.
TEST(WorkerIsolationTest, QuietWorkerNamesArePruned) {
  FakeClock clock;
  CoordinatorOptions options;
  options.max_workers = 2;
  const std::string db = TempDbPath(TestName());
  auto c = MakeCoordinator(db, &clock, options);
  TestWorker a = Register(*c, "a");
  Register(*c, "b");
  clock.Advance(kWorkerLiveMs);
  Register(*c, "c");
  Register(*c, "d");
  EXPECT_EQ(c->ListWorkers(/*include_inactive=*/true).size(), 4u);
  clock.Advance(kWorkerLiveMs);
  TestWorker e = Register(*c, "e");
  // Of the quiet a-d, only d (the newest id, kept so that a restart never
  // hands a pruned id out again) is left.
  std::set<std::string> names;
  for (const v1::WorkerInfo& w : c->ListWorkers(/*include_inactive=*/true)) names.insert(w.name());
  EXPECT_EQ(names, (std::set<std::string>{"d", "e"}));
  v1::AcquireTaskRequest forgotten;
  Identify(a, &forgotten);
  EXPECT_FALSE(c->AcquireTask(forgotten, absl::ZeroDuration()).ok());
  // "a" registers anew under a fresh id.
  const TestWorker a_again = Register(*c, "a");
  EXPECT_NE(a_again.id, a.id);
  c.reset();
  auto restarted = MakeCoordinator(db, &clock, options);
  names.clear();
  std::set<std::string> ids;
  for (const v1::WorkerInfo& w : restarted->ListWorkers(/*include_inactive=*/true)) {
    names.insert(w.name());
    ids.insert(w.worker_id());
  }
  EXPECT_EQ(names, (std::set<std::string>{"a", "d", "e"}));
  // A new name after the restart gets an id no worker ever had.
  clock.Advance(kWorkerLiveMs);
  const TestWorker f = Register(*restarted, "f");
  for (const std::string& old : {a.id, a_again.id, e.id}) EXPECT_NE(f.id, old);
  EXPECT_FALSE(ids.contains(f.id));
}

TEST(WorkerIsolationTest, StringsFromWorkersHaveLimits) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  ASSERT_TRUE(c->SubmitJob(SmallSpec(5)).ok());
  v1::RegisterWorkerRequest registration;
  registration.set_name(std::string(300, 'n'));
  auto refused = c->RegisterWorker(registration);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("name is 300 bytes; the limit is 256"));
  registration.set_name("ok");
  registration.set_host(std::string(10000, 'h'));
  EXPECT_THAT(c->RegisterWorker(registration).status().message(), HasSubstr("host is 10000"));

  TestWorker w = Register(*c, "w");
  std::optional<v1::Task> task = Acquire(*c, w);
  v1::FailTaskRequest fail;
  Identify(w, &fail);
  fail.set_lease_id(task->lease_id());
  fail.set_reason(std::string(5000, 'r'));
  // A long reason (a stack trace) is kept, cut to the one limit on reasons.
  ASSERT_TRUE(c->FailTask(fail).ok());
  v1::Candidate failed = *c->GetCandidate(1, task->candidate_id());
  ASSERT_EQ(failed.failure_reasons_size(), 1);
  EXPECT_EQ(failed.failure_reasons(0).size(), kMaxReasonBytes);
  EXPECT_THAT(failed.failure_reasons(0), ::testing::EndsWith("rrr..."));
  task = Acquire(*c, w);
  ASSERT_TRUE(task);

  v1::EvaluationResult result = SyntheticResult(*task);
  result.set_device(std::string(100, 'd'));
  auto report = Complete(*c, w, *task, result);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("result.device is 100 bytes"));
}

TEST(WorkerIsolationTest, AnInvalidInt8ModelIsRefusedAndTheCandidateRetried) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  auto job = c->SubmitJob(SmallSpec(2));
  TestWorker w = Register(*c, "w");
  std::optional<v1::Task> task = Acquire(*c, w);
  v1::EvaluationResult result = SyntheticResult(*task);
  v1::QuantizedModel* model = result.mutable_quantized_model();
  model->set_input("missing");
  model->set_output("also_missing");
  auto report = Complete(*c, w, *task, result);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("quantized_model is not a valid int8 model"));
  auto candidate = c->GetCandidate(job->job_id(), task->candidate_id());
  EXPECT_EQ(candidate->state(), v1::CANDIDATE_STATE_QUEUED);
  ASSERT_EQ(candidate->failure_reasons_size(), 1);
  EXPECT_THAT(candidate->failure_reasons(0), HasSubstr("quantized_model"));
}

// Synthetic results padded with weights over the server's message limit.
class OversizedEvaluator : public worker::Evaluator {
 public:
  absl::StatusOr<v1::EvaluationResult> Evaluate(const v1::Task& task,
                                                const worker::EvaluationObservers&,
                                                const std::atomic<bool>&) override {
    v1::EvaluationResult result = testing::SyntheticResult(task);
    result.set_trained_weights(std::string(2 << 20, 'w'));
    return result;
  }
};

TEST(WorkerIsolationTest, AResultOverTheMessageLimitFailsItsTask) {
  auto c = MakeCoordinator(TempDbPath(TestName()), nullptr);
  v1::JobSpec spec = SmallSpec(3);
  spec.set_max_attempts(5);
  auto job = c->SubmitJob(spec);
  WorkerServiceImpl service(c.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(1 << 20);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(port, 0);

  OversizedEvaluator evaluator;
  worker::WorkerOptions options;
  options.coordinator = "127.0.0.1:" + std::to_string(port);
  options.name = "big";
  options.acquire_wait_seconds = 1;
  worker::WorkerLoop loop(options, &evaluator);
  std::thread runner([&] { (void)loop.Run(); });
  // The first candidate fails for good at its first attempt, with the reason.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  absl::StatusOr<v1::Candidate> first;
  while (std::chrono::steady_clock::now() < deadline) {
    first = c->GetCandidate(job->job_id(), 1);
    if (first.ok() && first->state() == v1::CANDIDATE_STATE_FAILED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  loop.Stop();
  c->Shutdown();
  runner.join();
  server->Shutdown();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->state(), v1::CANDIDATE_STATE_FAILED);
  EXPECT_EQ(first->attempts(), 1);
  ASSERT_GE(first->failure_reasons_size(), 1);
  EXPECT_THAT(first->failure_reasons(0), HasSubstr("refused as too large"));
}

}  // namespace
}  // namespace unas::coordinator
