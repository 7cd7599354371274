// Workers cannot interfere with each other: unguessable lease ids, leases
// usable only by their registered holder, size limits on everything a worker
// sends, int8 models validated before they are stored, and a result over the
// message limit failing its task instead of being retried forever.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <set>
#include <thread>

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

using testing::TestName;

TEST(WorkerIsolationTest, LeaseIdsAre128RandomBits) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  ASSERT_TRUE(c->SubmitJob(SmallSpec(40)).ok());
  std::string w = Register(*c, "w");
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
  std::string holder = Register(*c, "holder"), other = Register(*c, "other");
  std::optional<v1::Task> task = Acquire(*c, holder);
  ASSERT_TRUE(task);

  v1::HeartbeatRequest hb;
  hb.set_worker_id(other);
  hb.set_lease_id(task->lease_id());
  EXPECT_FALSE(c->Heartbeat(hb)->keep_going());
  hb.set_worker_id("w999");
  EXPECT_EQ(c->Heartbeat(hb).status().code(), absl::StatusCode::kFailedPrecondition);

  v1::FailTaskRequest fail;
  fail.set_worker_id(other);
  fail.set_lease_id(task->lease_id());
  fail.set_permanent(true);
  absl::Status failed = c->FailTask(fail);
  EXPECT_EQ(failed.code(), absl::StatusCode::kPermissionDenied) << failed;
  fail.set_worker_id("w999");
  EXPECT_EQ(c->FailTask(fail).code(), absl::StatusCode::kFailedPrecondition);

  auto stolen = Complete(*c, other, *task, SyntheticResult(*task));
  EXPECT_EQ(stolen.status().code(), absl::StatusCode::kPermissionDenied) << stolen.status();
  EXPECT_THAT(stolen.status().message(), HasSubstr("holds no lease"));
  auto unregistered = Complete(*c, "w999", *task, SyntheticResult(*task));
  EXPECT_EQ(unregistered.status().code(), absl::StatusCode::kFailedPrecondition);

  // Nothing of that touched the holder's lease.
  auto candidate = c->GetCandidate(job->job_id(), task->candidate_id());
  EXPECT_EQ(candidate->state(), v1::CANDIDATE_STATE_LEASED);
  EXPECT_EQ(candidate->failure_reasons_size(), 0);
  hb.set_worker_id(holder);
  EXPECT_TRUE(c->Heartbeat(hb)->keep_going());
  auto done = Complete(*c, holder, *task, SyntheticResult(*task));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->accepted());
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

  std::string w = Register(*c, "w");
  std::optional<v1::Task> task = Acquire(*c, w);
  v1::FailTaskRequest fail;
  fail.set_worker_id(w);
  fail.set_lease_id(task->lease_id());
  fail.set_reason(std::string(5000, 'r'));
  absl::Status status = c->FailTask(fail);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("reason is 5000 bytes"));

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
  std::string w = Register(*c, "w");
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
  absl::StatusOr<v1::EvaluationResult> Evaluate(const v1::Task& task, const worker::EpochObserver&,
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
