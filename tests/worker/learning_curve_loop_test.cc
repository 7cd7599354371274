// Learning curves on the worker side without LibTorch: the synthetic
// evaluator's curve, and the worker loop's heartbeats that carry it and obey
// the coordinator's automated stopping rule (HeartbeatResponse.stopped). The
// coordinator here is a scripted gRPC WorkerService in the test process: it
// hands out one task, records what the worker sends, and answers `stopped`
// once the curve reaches a given length, the way the real stopping rule
// answers.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/search_space/random_architecture.h"
#include "common/search_space/rng.h"
#include "common/search_space/space.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "unas/v1/worker_service.grpc.pb.h"
#include "worker/daemon/synthetic_evaluator.h"
#include "worker/daemon/worker_loop.h"

namespace unas::worker {
namespace {

// A Fashion-MNIST-shaped task for a random CNN, with a learning curve of
// `points_per_epoch` points per epoch.
v1::Task CurveTask(uint64_t seed, int points_per_epoch) {
  v1::Task task;
  task.set_job_id(1);
  task.set_candidate_id(1);
  task.set_lease_id("lease-1");
  task.set_attempt(1);
  task.set_job_seed(7);
  task.set_seed(seed);
  task.mutable_input_shape()->set_height(28);
  task.mutable_input_shape()->set_width(28);
  task.mutable_input_shape()->set_channels(1);
  task.set_num_classes(10);
  task.mutable_training()->set_epochs(2);
  if (points_per_epoch > 0) {
    task.mutable_training()->mutable_learning_curve()->set_points_per_epoch(points_per_epoch);
  }
  Rng rng(seed);
  absl::StatusOr<v1::Architecture> architecture = RandomArchitecture(
      DefaultSearchSpace(SpaceKind::kCnn), MakeDataShape(task.input_shape(), 10), rng);
  EXPECT_TRUE(architecture.ok()) << architecture.status();
  if (architecture.ok()) *task.mutable_architecture() = *architecture;
  return task;
}

TEST(SyntheticCurveTest, PointsPerEpochTimesEpochsConvergingToTheSyntheticError) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const v1::Task task = CurveTask(seed, 4);
    SyntheticEvaluator evaluator(SyntheticOptions{absl::ZeroDuration(), 3});
    std::vector<v1::CurvePoint> observed;
    std::atomic<bool> stop{false};
    EvaluationObservers observers;
    observers.curve = [&](const v1::CurvePoint& point) { observed.push_back(point); };
    absl::StatusOr<v1::EvaluationResult> result = evaluator.Evaluate(task, observers, stop);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->curve_size(), 12) << "4 points per epoch, 3 epochs";
    ASSERT_EQ(observed.size(), 12u);
    double previous_error = 1.0;
    for (int i = 0; i < 12; ++i) {
      const v1::CurvePoint& point = result->curve(i);
      EXPECT_DOUBLE_EQ(point.epoch_fraction(), (i + 1) / 4.0);
      EXPECT_EQ(observed[static_cast<size_t>(i)].SerializeAsString(), point.SerializeAsString());
      EXPECT_GT(point.validation_error(), 0.0);
      EXPECT_LT(point.validation_error(), 1.0);
      EXPECT_LE(point.validation_error(), previous_error) << "point " << i;
      previous_error = point.validation_error();
    }
    EXPECT_DOUBLE_EQ(result->curve(11).validation_error(), result->validation_error());
    if (result->validation_error() < 0.7) {
      EXPECT_GT(result->curve(0).validation_error(), result->validation_error() + 0.05)
          << "curves start high";
    }
    // A function of the task alone: the same curve again.
    absl::StatusOr<std::vector<v1::CurvePoint>> again =
        SyntheticCurve(task, 3, absl::ZeroDuration());
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->size(), 12u);
    for (int i = 0; i < 12; ++i) {
      EXPECT_EQ((*again)[static_cast<size_t>(i)].SerializeAsString(),
                result->curve(i).SerializeAsString());
    }
  }
}

TEST(SyntheticCurveTest, DefaultsToFourPointsPerEpochAndNoneWithoutALearningCurve) {
  v1::Task task = CurveTask(3, 0);
  absl::StatusOr<std::vector<v1::CurvePoint>> none = SyntheticCurve(task, 2, absl::Seconds(8));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  task.mutable_training()->mutable_learning_curve();  // present, fields unset
  absl::StatusOr<std::vector<v1::CurvePoint>> curve = SyntheticCurve(task, 2, absl::Seconds(8));
  ASSERT_TRUE(curve.ok());
  ASSERT_EQ(curve->size(), 8u);
  EXPECT_DOUBLE_EQ(curve->front().training_seconds(), 1.0) << "an eighth of the delay";
  EXPECT_DOUBLE_EQ(curve->back().epoch_fraction(), 2.0);
  EXPECT_DOUBLE_EQ(curve->back().training_seconds(), 8.0);
}

TEST(SyntheticCurveTest, CurvesOfDifferentArchitecturesDiffer) {
  absl::StatusOr<std::vector<v1::CurvePoint>> a =
      SyntheticCurve(CurveTask(1, 4), 1, absl::ZeroDuration());
  absl::StatusOr<std::vector<v1::CurvePoint>> b =
      SyntheticCurve(CurveTask(2, 4), 1, absl::ZeroDuration());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)[0].validation_error(), (*b)[0].validation_error());
}

// The coordinator's side of the worker protocol, scripted: one task (with a
// learning curve), then none; heartbeats are recorded and answered
// `stopped` once their curve has `stop_at_points` points.
class ScriptedCoordinator final : public v1::WorkerService::Service {
 public:
  ScriptedCoordinator(v1::Task task, int stop_at_points)
      : task_(std::move(task)), stop_at_points_(stop_at_points) {}

  grpc::Status RegisterWorker(grpc::ServerContext*, const v1::RegisterWorkerRequest*,
                              v1::RegisterWorkerResponse* response) override {
    response->set_worker_id("w-1");
    response->set_worker_secret("secret");
    // Far longer than the test: every heartbeat it sees was sent because a
    // curve point arrived, not because a timer fired.
    response->set_heartbeat_interval_seconds(600);
    return grpc::Status::OK;
  }

  grpc::Status AcquireTask(grpc::ServerContext* context, const v1::AcquireTaskRequest*,
                           v1::AcquireTaskResponse* response) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++acquires_;
    changed_.notify_all();
    if (acquires_ == 1) {
      *response->mutable_task() = task_;
      return grpc::Status::OK;
    }
    // A long poll with nothing to hand out, until the worker cancels it.
    changed_.wait_for(lock, std::chrono::milliseconds(200), [&] { return context->IsCancelled(); });
    return grpc::Status::OK;
  }

  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    heartbeats_.push_back(*request);
    if (request->curve_size() >= stop_at_points_) {
      response->set_keep_going(false);
      response->set_stopped(true);
      response->set_reason("median stopping rule: error 0.8 above the median 0.3");
    } else {
      response->set_keep_going(true);
      response->set_lease_ttl_seconds(60);
    }
    changed_.notify_all();
    return grpc::Status::OK;
  }

  grpc::Status CompleteTask(grpc::ServerContext*, const v1::CompleteTaskRequest*,
                            v1::CompleteTaskResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++reports_;
    response->set_accepted(true);
    return grpc::Status::OK;
  }

  grpc::Status FailTask(grpc::ServerContext*, const v1::FailTaskRequest*,
                        v1::FailTaskResponse*) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++reports_;
    return grpc::Status::OK;
  }

  // Waits (bounded) until the worker asks for a second task.
  bool WaitForSecondAcquire() {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return acquires_ >= 2; });
  }

  std::vector<v1::HeartbeatRequest> heartbeats() {
    std::lock_guard<std::mutex> lock(mu_);
    return heartbeats_;
  }
  int reports() {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }

 private:
  const v1::Task task_;
  const int stop_at_points_;
  std::mutex mu_;
  std::condition_variable changed_;
  int acquires_ = 0;
  int reports_ = 0;
  std::vector<v1::HeartbeatRequest> heartbeats_;
};

TEST(WorkerLoopCurveTest, SendsTheWholeCurveAtEachPointAndStopsWithoutAReportWhenTold) {
  // 2 epochs of 50 points over 100 s: a point every second, and the run
  // could not finish within the test's bounds; the stop comes at point 2.
  const v1::Task task = CurveTask(11, 50);
  ScriptedCoordinator coordinator(task, /*stop_at_points=*/2);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&coordinator);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(port, 0);

  SyntheticEvaluator evaluator(SyntheticOptions{absl::Seconds(100), 2});
  WorkerOptions options;
  options.coordinator = "127.0.0.1:" + std::to_string(port);
  options.name = "curve-worker";
  options.acquire_wait_seconds = 1;
  WorkerLoop loop(options, &evaluator);
  absl::Status run_status;
  std::thread runner([&] { run_status = loop.Run(); });

  // Stopped at its second point, the worker drops the candidate at once and
  // asks for the next task (the run had 98 s to go).
  const auto started = std::chrono::steady_clock::now();
  const bool acquired_again = coordinator.WaitForSecondAcquire();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const int stopped = loop.evaluations_stopped();
  loop.Stop();
  runner.join();
  server->Shutdown();
  ASSERT_TRUE(run_status.ok()) << run_status;
  ASSERT_TRUE(acquired_again) << "the worker never asked for another task";
  EXPECT_LT(seconds, 50) << "the evaluation ran on after the stop";
  EXPECT_EQ(stopped, 1);
  EXPECT_EQ(coordinator.reports(), 0) << "no CompleteTask or FailTask for a stopped candidate";

  // One heartbeat per point (the timer is 600 s), each with the whole curve
  // so far: 1 point, then 2, with the evaluator's own values.
  const std::vector<v1::HeartbeatRequest> heartbeats = coordinator.heartbeats();
  ASSERT_EQ(heartbeats.size(), 2u);
  absl::StatusOr<std::vector<v1::CurvePoint>> expected =
      SyntheticCurve(task, 2, absl::Seconds(100));
  ASSERT_TRUE(expected.ok());
  for (size_t h = 0; h < heartbeats.size(); ++h) {
    EXPECT_EQ(heartbeats[h].lease_id(), "lease-1");
    ASSERT_EQ(heartbeats[h].curve_size(), static_cast<int>(h + 1));
    for (int i = 0; i < heartbeats[h].curve_size(); ++i) {
      EXPECT_EQ(heartbeats[h].curve(i).SerializeAsString(),
                (*expected)[static_cast<size_t>(i)].SerializeAsString());
    }
  }
  EXPECT_DOUBLE_EQ(heartbeats[1].curve(1).epoch_fraction(), 2.0 / 50);
}

}  // namespace
}  // namespace unas::worker
