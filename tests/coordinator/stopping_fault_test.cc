// Fault test: a real unas-coordinator, SIGKILLed in the middle of candidates'
// training and started again on its database, makes the same automated
// stopping decisions as one that ran uninterrupted. The worker is this test,
// over gRPC: it sends each candidate's learning curve (a function of the
// candidate's network, as `unas-worker --synthetic` does) point by point in
// heartbeats, re-sending the whole curve after each restart.
#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"
#include "unas/v1/worker_service.grpc.pb.h"
#include "worker/daemon/synthetic_evaluator.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT

constexpr int kRounds = 24;

v1::JobSpec StoppingSpec() {
  v1::JobSpec spec = SmallSpec(kRounds, /*seed=*/13);
  spec.mutable_training()->mutable_learning_curve()->set_points_per_epoch(4);
  spec.mutable_automated_stopping()->set_min_completed(3);
  spec.mutable_automated_stopping()->set_grace_epochs(0.5);
  return spec;
}

// A worker over gRPC that retries each call until the coordinator answers
// (it is restarted on the same port).
class CurveWorker {
 public:
  explicit CurveWorker(CoordinatorProcess* coordinator) : coordinator_(coordinator) {
    v1::RegisterWorkerRequest request;
    request.set_name("curves");
    request.set_slots(1);
    v1::RegisterWorkerResponse response;
    Call([&](v1::WorkerService::Stub& stub, grpc::ClientContext* context) {
      return stub.RegisterWorker(context, request, &response);
    });
    id_ = response.worker_id();
    secret_ = response.worker_secret();
  }

  std::optional<v1::Task> Acquire() {
    v1::AcquireTaskRequest request;
    request.set_worker_id(id_);
    request.set_worker_secret(secret_);
    request.set_wait_seconds(1);
    v1::AcquireTaskResponse response;
    Call([&](v1::WorkerService::Stub& stub, grpc::ClientContext* context) {
      return stub.AcquireTask(context, request, &response);
    });
    if (!response.has_task()) return std::nullopt;
    return response.task();
  }

  v1::HeartbeatResponse Heartbeat(const v1::Task& task, const std::vector<v1::CurvePoint>& curve) {
    v1::HeartbeatRequest request;
    request.set_worker_id(id_);
    request.set_worker_secret(secret_);
    request.set_lease_id(task.lease_id());
    request.set_progress_steps(static_cast<int64_t>(curve.size()));
    for (const v1::CurvePoint& p : curve) *request.add_curve() = p;
    v1::HeartbeatResponse response;
    Call([&](v1::WorkerService::Stub& stub, grpc::ClientContext* context) {
      return stub.Heartbeat(context, request, &response);
    });
    return response;
  }

  void Complete(const v1::Task& task, const v1::EvaluationResult& result) {
    v1::CompleteTaskRequest request;
    request.set_worker_id(id_);
    request.set_worker_secret(secret_);
    request.set_lease_id(task.lease_id());
    request.set_job_id(task.job_id());
    request.set_candidate_id(task.candidate_id());
    *request.mutable_result() = result;
    v1::CompleteTaskResponse response;
    Call([&](v1::WorkerService::Stub& stub, grpc::ClientContext* context) {
      return stub.CompleteTask(context, request, &response);
    });
  }

 private:
  template <typename Rpc>
  void Call(Rpc rpc) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    grpc::Status status;
    while (absl::Now() < deadline) {
      auto stub = v1::WorkerService::NewStub(
          grpc::CreateChannel(coordinator_->address(), grpc::InsecureChannelCredentials()));
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      status = rpc(*stub, &context);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << coordinator_->process().ReadLog();
  }

  CoordinatorProcess* coordinator_;
  std::string id_, secret_;
};

// The candidate's curve: its synthetic error at the end of its epoch, higher
// before.
std::vector<v1::CurvePoint> CurveFor(const v1::Task& task) {
  const double error = worker::SyntheticError(task).value_or(0.5);
  std::vector<v1::CurvePoint> curve;
  for (int k = 1; k <= 4; ++k) {
    v1::CurvePoint p;
    p.set_epoch_fraction(0.25 * k);
    p.set_validation_error(std::min(1.0, error + 0.3 * (1 - 0.25 * k)));
    p.set_training_seconds(2.0 * k);
    curve.push_back(p);
  }
  return curve;
}

// Runs the job to its end; with `kill_every` > 0 the coordinator is
// SIGKILLed and restarted before the second curve point's heartbeat of
// every kill_every-th candidate. Returns each candidate's outcome by id:
// its serialised StoppingDecision, or "DONE".
std::vector<std::string> RunJob(const std::string& name, int kill_every, int* kills) {
  const std::string dir = unas::testing::MakeTestDir(name);
  CoordinatorProcess coordinator(dir, dir + "/search.db");
  const int64_t job_id = Submit(coordinator, StoppingSpec());
  CurveWorker worker(&coordinator);
  int trained = 0;
  while (true) {
    std::optional<v1::Task> task = worker.Acquire();
    if (!task) {
      if (WaitForJobEnd(coordinator, job_id, absl::Seconds(1)).state() != v1::JOB_STATE_RUNNING) {
        break;
      }
      continue;
    }
    const bool kill = kill_every > 0 && ++trained % kill_every == 0;
    const std::vector<v1::CurvePoint> curve = CurveFor(*task);
    bool stopped = false;
    for (size_t k = 1; k <= curve.size() && !stopped; ++k) {
      if (kill && k == 2) {
        coordinator.Restart();  // SIGKILL, then start again on the same port
        ++*kills;
      }
      v1::HeartbeatResponse r =
          worker.Heartbeat(*task, std::vector<v1::CurvePoint>(curve.begin(), curve.begin() + k));
      stopped = r.stopped();
      EXPECT_TRUE(r.keep_going() || r.stopped()) << r.reason();
    }
    if (stopped) continue;
    v1::EvaluationResult result;
    result.set_validation_error(curve.back().validation_error());
    result.set_test_error(curve.back().validation_error());
    result.set_trained_weights("w");
    for (const v1::CurvePoint& p : curve) *result.add_curve() = p;
    worker.Complete(*task, result);
  }
  v1::Job job = WaitForJobEnd(coordinator, job_id, absl::Seconds(30));
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << coordinator.process().ReadLog();
  EXPECT_EQ(job.progress().evaluations_done() + job.progress().candidates_stopped(), kRounds);
  std::vector<std::string> outcomes;
  for (int64_t id = 1;; ++id) {
    auto client = coordinator.JobClient();
    grpc::ClientContext context;
    v1::GetCandidateRequest request;
    request.set_job_id(job_id);
    request.set_candidate_id(id);
    v1::Candidate candidate;
    if (!client->GetCandidate(&context, request, &candidate).ok()) break;
    outcomes.push_back(candidate.state() == v1::CANDIDATE_STATE_STOPPED
                           ? candidate.stopping().SerializeAsString()
                           : v1::CandidateState_Name(candidate.state()));
  }
  int stopped = 0;
  for (const std::string& o : outcomes) stopped += o.rfind("CANDIDATE_STATE_", 0) == 0 ? 0 : 1;
  EXPECT_EQ(job.progress().candidates_stopped(), stopped);
  return outcomes;
}

TEST(StoppingFaultTest, AKilledCoordinatorMakesTheSameStoppingDecisions) {
  int kills = 0;
  const std::vector<std::string> uninterrupted = RunJob("stopping_uninterrupted", 0, &kills);
  int stopped = 0;
  for (const std::string& o : uninterrupted) stopped += o.rfind("CANDIDATE_STATE_", 0) == 0 ? 0 : 1;
  ASSERT_GE(stopped, 2) << "the synthetic curves must stop some candidates";
  const std::vector<std::string> killed = RunJob("stopping_killed", 3, &kills);
  EXPECT_GE(kills, 5);
  EXPECT_EQ(killed, uninterrupted);
}

}  // namespace
}  // namespace unas::coordinator
