// In-process coordinators over a temporary database, a controllable clock,
// and a synthetic worker that drives the Coordinator API directly.
#ifndef UNAS_TESTS_COORDINATOR_COORDINATOR_TEST_UTIL_H_
#define UNAS_TESTS_COORDINATOR_COORDINATOR_TEST_UTIL_H_

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "common/proto_io/proto_file.h"
#include "coordinator/core/coordinator.h"
#include "gtest/gtest.h"
#include "worker/daemon/synthetic_evaluator.h"

namespace unas::coordinator::testing {

// The running test's name (a per-test database name, a per-test folder).
inline std::string TestName() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

inline std::string TempDbPath(const std::string& name) {
  std::string path = (std::filesystem::path(::testing::TempDir()) / (name + ".db")).string();
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) std::filesystem::remove(path + suffix);
  return path;
}

struct FakeClock {
  std::atomic<int64_t> ms{1'700'000'000'000};
  std::function<int64_t()> fn() {
    return [this] { return ms.load(); };
  }
  void Advance(int64_t delta_ms) { ms += delta_ms; }
};

inline std::unique_ptr<Coordinator> MakeCoordinator(const std::string& db, FakeClock* clock,
                                                    CoordinatorOptions options = {}) {
  absl::StatusOr<std::unique_ptr<store::Store>> store = store::Store::Open(db);
  EXPECT_TRUE(store.ok()) << store.status();
  if (clock != nullptr) options.now_ms = clock->fn();
  absl::StatusOr<std::unique_ptr<Coordinator>> c = Coordinator::Create(*std::move(store), options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

// A small, fast aging-evolution spec on Fashion-MNIST's shape.
inline v1::JobSpec SmallSpec(int rounds = 30, uint64_t seed = 1) {
  v1::JobSpec spec;
  EXPECT_TRUE(ParseProto(R"pb(
                           name: "small"
                           dataset { name: DATASET_NAME_FASHION_MNIST }
                           search_space {
                             kind: SEARCH_SPACE_KIND_CNN
                             cnn { max_conv_blocks: 3 max_filters: 16 }
                           }
                           algorithm { aging_evolution { population_size: 8 sample_size: 4 } }
                           training {
                             optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.001 }
                             epochs: 1
                           }
                           bounds { error: 0.3 peak_memory_bytes: 20000 model_size_bytes: 20000 }
                         )pb",
                         ProtoFormat::kTextproto, "small", &spec)
                  .ok());
  spec.mutable_algorithm()->set_rounds(rounds);
  // Short jobs get a population that fits their rounds.
  int population = std::min(8, rounds);
  spec.mutable_algorithm()->mutable_aging_evolution()->set_population_size(population);
  spec.mutable_algorithm()->mutable_aging_evolution()->set_sample_size(std::min(4, population));
  spec.set_seed(seed);
  // Plain μNAS draws: these tests count trained candidates and replay fixed
  // sequences; drawing within the bounds in this small space makes more
  // children repeat evaluated networks (reused, not trained).
  // feasible_restart_test.cc covers the bounded draws.
  spec.mutable_algorithm()->mutable_feasible_proposals()->set_enabled(false);
  return spec;
}

// A registered worker: its id and the secret its calls carry.
struct TestWorker {
  std::string id;
  std::string secret;
};

// Sets a worker request's worker_id and worker_secret.
template <typename Request>
void Identify(const TestWorker& worker, Request* request) {
  request->set_worker_id(worker.id);
  request->set_worker_secret(worker.secret);
}

inline TestWorker Register(Coordinator& c, const std::string& name, int slots = 1,
                           const std::string& secret = "") {
  v1::RegisterWorkerRequest request;
  request.set_name(name);
  request.set_slots(slots);
  request.set_worker_secret(secret);
  absl::StatusOr<v1::RegisterWorkerResponse> r = c.RegisterWorker(request);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  return {r->worker_id(), r->worker_secret()};
}

inline std::optional<v1::Task> Acquire(Coordinator& c, const TestWorker& worker) {
  v1::AcquireTaskRequest request;
  Identify(worker, &request);
  absl::StatusOr<v1::AcquireTaskResponse> r = c.AcquireTask(request, absl::ZeroDuration());
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok() || !r->has_task()) return std::nullopt;
  return r->task();
}

inline absl::StatusOr<v1::CompleteTaskResponse> Complete(Coordinator& c, const TestWorker& worker,
                                                         const v1::Task& task,
                                                         v1::EvaluationResult result) {
  v1::CompleteTaskRequest request;
  Identify(worker, &request);
  request.set_lease_id(task.lease_id());
  request.set_job_id(task.job_id());
  request.set_candidate_id(task.candidate_id());
  *request.mutable_result() = std::move(result);
  return c.CompleteTask(request);
}

inline v1::EvaluationResult SyntheticResult(const v1::Task& task) {
  absl::StatusOr<double> error = worker::SyntheticError(task);
  EXPECT_TRUE(error.ok()) << error.status();
  v1::EvaluationResult result;
  result.set_validation_error(error.value_or(0.5));
  result.set_test_error(error.value_or(0.5));
  result.set_trained_weights("w" + std::to_string(task.candidate_id()));
  return result;
}

// Acquires and completes tasks until none is available; returns how many.
inline int DrainSynthetic(Coordinator& c, const TestWorker& worker, int limit = 100000) {
  int n = 0;
  while (n < limit) {
    std::optional<v1::Task> task = Acquire(c, worker);
    if (!task) break;
    absl::StatusOr<v1::CompleteTaskResponse> r = Complete(c, worker, *task, SyntheticResult(*task));
    EXPECT_TRUE(r.ok()) << r.status();
    ++n;
  }
  return n;
}

}  // namespace unas::coordinator::testing

#endif  // UNAS_TESTS_COORDINATOR_COORDINATOR_TEST_UTIL_H_
