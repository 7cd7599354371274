// Coordinator throughput, end to end: a unas-coordinator process and several
// synthetic unas-worker processes (no training, no delay) on loopback run one
// aging-evolution job; evaluations per second count acquire -> complete ->
// stored -> next proposal. Beside it, the raw rate of single-row SQLite
// commits on the same disk, the floor any one-transaction-per-event store
// stands on.
//
//   build/bench/coordinator_throughput [--rounds 4000] [--workers 4] [--slots 2]
#include <grpcpp/grpcpp.h>
#include <sqlite3.h>

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
#include "tests/util/test_dirs.h"
#include "unas/v1/job_service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

double SqliteCommitsPerSecond(const std::string& path, int commits) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               "CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB);",
               nullptr, nullptr, nullptr);
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
  double commits = SqliteCommitsPerSecond(dir + "/raw.db", 20000);
  std::printf("job state:                 %s\n", unas::v1::JobState_Name(job.state()).c_str());
  std::printf("evaluations:               %d in %.2f s (%d workers x %d slots)\n",
              job.progress().evaluations_done(), seconds, workers, slots);
  std::printf("evaluations/s, whole run:  %.0f (worker start-up included)\n", evals);
  std::printf("evaluations/s, steady:     %.0f\n", steady);
  std::printf("raw SQLite commits/s:      %.0f\n", commits);
  std::printf("steady evaluations per raw commit: %.3f (each evaluation is 2 commits)\n",
              steady / commits);
  std::filesystem::remove_all(dir);
  return 0;
}
