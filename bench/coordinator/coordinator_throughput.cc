// Coordinator throughput with durable acknowledgements (synchronous=FULL):
//
// 1. end to end: a unas-coordinator process and several synthetic
//    unas-worker processes (no training, no delay) on loopback run one
//    aging-evolution job; evaluations per second count acquire -> complete ->
//    durably stored -> next proposal;
// 2. the coordinator core alone (no gRPC): as many threads as worker slots
//    drive the Coordinator API in this process on the same kind of job;
// 3. the raw rate of durable single-row SQLite commits (one fsync each) on
//    the same disk: what a store that commits once per event could reach.
//
// Group commit (coordinator/store/group_commit.h) is what lets 1 and 2 beat
// 3: concurrent events share one transaction and one fsync.
//
//   build/bench/coordinator_throughput [--rounds 4000] [--workers 4] [--slots 2]
#include <grpcpp/grpcpp.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/proto_io/proto_file.h"
#include "coordinator/core/coordinator.h"
#include "tests/util/test_dirs.h"
#include "unas/v1/job_service.grpc.pb.h"
#include "worker/daemon/synthetic_evaluator.h"

namespace {

using Clock = std::chrono::steady_clock;

// Single-row commits per second in WAL mode with the given synchronous
// setting (FULL: one fsync per commit, as a durable store needs).
double SqliteCommitsPerSecond(const std::string& path, const char* synchronous, int commits) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  std::string setup = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") + synchronous +
                      "; CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB);";
  sqlite3_exec(db, setup.c_str(), nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t (payload) VALUES (?)", -1, &insert, nullptr);
  std::string payload(300, 'x');  // about one candidate row
  auto start = Clock::now();
  for (int i = 0; i < commits; ++i) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_bind_blob(insert, 1, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
    sqlite3_step(insert);
    sqlite3_reset(insert);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return commits / seconds;
}

// The coordinator core in this process: `threads` synthetic workers loop
// acquire -> complete (with the next task piggy-backed) until the job ends.
// Returns steady evaluations per second (from 10 % of the job on).
double CoreEvaluationsPerSecond(const std::string& db, const unas::v1::JobSpec& spec, int threads) {
  absl::StatusOr<std::unique_ptr<unas::store::Store>> store = unas::store::Store::Open(db);
  if (!store.ok()) return 0;
  absl::StatusOr<std::unique_ptr<unas::coordinator::Coordinator>> coordinator =
      unas::coordinator::Coordinator::Create(*std::move(store));
  if (!coordinator.ok()) return 0;
  unas::coordinator::Coordinator& core = **coordinator;
  absl::StatusOr<unas::v1::Job> job = core.SubmitJob(spec);
  if (!job.ok()) return 0;
  const int rounds = spec.algorithm().rounds();
  const int64_t job_id = job->job_id();
  // Evaluations of the job (reports and reused results alike).
  auto evaluations_done = [&] {
    absl::StatusOr<unas::v1::Job> now = core.GetJob(job_id);
    return now.ok() ? now->progress().evaluations_done() : rounds;
  };
  auto running = [&] {
    absl::StatusOr<unas::v1::Job> now = core.GetJob(job_id);
    return now.ok() && now->state() == unas::v1::JOB_STATE_RUNNING;
  };
  std::optional<Clock::time_point> steady_start;
  int steady_from = 0;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      unas::v1::RegisterWorkerRequest registration;
      registration.set_name("core" + std::to_string(t));
      registration.set_slots(1);
      absl::StatusOr<unas::v1::RegisterWorkerResponse> me = core.RegisterWorker(registration);
      if (!me.ok()) return;
      std::optional<unas::v1::Task> task;
      while (true) {
        if (!task) {
          if (!running()) return;
          unas::v1::AcquireTaskRequest acquire;
          acquire.set_worker_id(me->worker_id());
          acquire.set_worker_secret(me->worker_secret());
          absl::StatusOr<unas::v1::AcquireTaskResponse> r =
              core.AcquireTask(acquire, absl::Milliseconds(100));
          if (!r.ok()) return;
          if (!r->has_task()) continue;
          task = r->task();
        }
        unas::v1::CompleteTaskRequest complete;
        complete.set_worker_id(me->worker_id());
        complete.set_worker_secret(me->worker_secret());
        complete.set_lease_id(task->lease_id());
        complete.set_job_id(task->job_id());
        complete.set_candidate_id(task->candidate_id());
        complete.set_acquire_next(true);
        absl::StatusOr<double> error = unas::worker::SyntheticError(*task);
        complete.mutable_result()->set_validation_error(error.value_or(0.5));
        complete.mutable_result()->set_test_error(error.value_or(0.5));
        absl::StatusOr<unas::v1::CompleteTaskResponse> r = core.CompleteTask(complete);
        if (!r.ok()) return;
        task.reset();
        if (r->has_next_task()) task = r->next_task();
      }
    });
  }
  // Steady state from 10 % of the job on, as end to end.
  while (running()) {
    if (!steady_start) {
      int done = evaluations_done();
      if (done >= rounds / 10) {
        steady_start = Clock::now();
        steady_from = done;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (std::thread& w : workers) w.join();
  if (!steady_start) return 0;
  double seconds = std::chrono::duration<double>(Clock::now() - *steady_start).count();
  return (evaluations_done() - steady_from) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"End-to-end coordinator throughput with synthetic workers"};
  int rounds = 4000, workers = 4, slots = 2;
  app.add_option("--rounds", rounds, "evaluations in the job");
  app.add_option("--workers", workers, "synthetic worker processes");
  app.add_option("--slots", slots, "slots per worker");
  CLI11_PARSE(app, argc, argv);

  std::string dir = unas::testing::MakeTestDir("throughput");
  std::string port_file = dir + "/port";
  unas::testing::Subprocess coordinator(
      {unas::testing::BinaryPath("unas-coordinator"), "--db", dir + "/bench.db", "--listen",
       "127.0.0.1:0", "--port-file", port_file, "--log-level", "warn"},
      dir + "/coordinator.log");
  std::optional<int> port = unas::testing::WaitForPortFile(port_file, absl::Seconds(20));
  if (!port) {
    std::fprintf(stderr, "coordinator did not start:\n%s\n", coordinator.ReadLog().c_str());
    return 1;
  }
  std::string address = "127.0.0.1:" + std::to_string(*port);

  unas::v1::JobSpec spec;
  absl::Status parsed = unas::ParseProto(
      R"pb(
        name: "throughput"
        dataset { name: DATASET_NAME_FASHION_MNIST }
        search_space {
          kind: SEARCH_SPACE_KIND_CNN
          cnn { max_conv_blocks: 4 max_filters: 32 }
        }
        algorithm { aging_evolution { population_size: 100 sample_size: 25 } }
        training {
          optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.001 }
          epochs: 1
        }
        bounds { error: 0.2 peak_memory_bytes: 16000 model_size_bytes: 16000 macs: 2000000 }
      )pb",
      unas::ProtoFormat::kTextproto, "bench", &spec);
  if (!parsed.ok()) return 1;
  spec.mutable_algorithm()->set_rounds(rounds);

  auto stub = unas::v1::JobService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  unas::v1::Job job;
  {
    grpc::ClientContext context;
    unas::v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    grpc::Status status = stub->SubmitJob(&context, request, &job);
    if (!status.ok()) {
      std::fprintf(stderr, "submit: %s\n", status.error_message().c_str());
      return 1;
    }
  }
  auto start = Clock::now();
  std::vector<std::unique_ptr<unas::testing::Subprocess>> procs;
  for (int i = 0; i < workers; ++i) {
    procs.push_back(std::make_unique<unas::testing::Subprocess>(
        std::vector<std::string>{unas::testing::BinaryPath("unas-worker"), "--coordinator", address,
                                 "--name", "bench" + std::to_string(i), "--slots",
                                 std::to_string(slots), "--synthetic", "--log-level", "warn"},
        dir + "/worker" + std::to_string(i) + ".log"));
  }
  // Steady state: from the moment 10 % of the job is done (workers started,
  // LibTorch loaded, connections up) to the end.
  int steady_from = rounds / 10;
  std::optional<Clock::time_point> steady_start;
  while (true) {
    grpc::ClientContext context;
    unas::v1::GetJobRequest request;
    request.set_job_id(job.job_id());
    if (stub->GetJob(&context, request, &job).ok()) {
      if (!steady_start && job.progress().evaluations_done() >= steady_from) {
        steady_start = Clock::now();
        steady_from = job.progress().evaluations_done();
      }
      if (job.state() != unas::v1::JOB_STATE_RUNNING) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto end = Clock::now();
  double seconds = std::chrono::duration<double>(end - start).count();
  double steady_seconds = std::chrono::duration<double>(end - *steady_start).count();
  double steady = (job.progress().evaluations_done() - steady_from) / steady_seconds;
  for (auto& p : procs) p->Kill();
  coordinator.Kill();

  double evals = job.progress().evaluations_done() / seconds;
  double core = CoreEvaluationsPerSecond(dir + "/core.db", spec, workers * slots);
  double durable_commits = SqliteCommitsPerSecond(dir + "/raw_full.db", "FULL", 2000);
  double normal_commits = SqliteCommitsPerSecond(dir + "/raw_normal.db", "NORMAL", 20000);
  std::printf("job state:                 %s\n", unas::v1::JobState_Name(job.state()).c_str());
  std::printf("evaluations:               %d in %.2f s (%d workers x %d slots)\n",
              job.progress().evaluations_done(), seconds, workers, slots);
  std::printf("durable evaluations/s, end to end, whole run: %.0f (worker start-up included)\n",
              evals);
  std::printf("durable evaluations/s, end to end, steady:    %.0f\n", steady);
  std::printf("durable evaluations/s, coordinator core:      %.0f (%d threads, no gRPC)\n", core,
              workers * slots);
  std::printf("raw durable single-row commits/s (FULL):      %.0f\n", durable_commits);
  std::printf("raw single-row commits/s without fsync (NORMAL): %.0f (reference)\n",
              normal_commits);
  std::printf("end-to-end steady / raw durable commit rate:  %.2f (target >= 1)\n",
              steady / durable_commits);
  std::printf("core / raw durable commit rate:               %.2f\n", core / durable_commits);
  std::filesystem::remove_all(dir);
  return 0;
}
