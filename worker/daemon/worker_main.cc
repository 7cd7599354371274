// unas-worker: a daemon that trains candidates for a unas-coordinator.
//
//   unas-worker --coordinator head:50051 --name node07/gpu0
//   unas-worker --coordinator 127.0.0.1:50051 --slots 2 --threads 1   # a CPU box
//   unas-worker --synthetic ...   # no training: for tests and benchmarks
//   unas-worker --coordinator head:50051 --tls-ca ca.pem --token-file worker.token
//
// SIGTERM or SIGINT, at any moment after the dynamic loader has mapped the
// libraries: stop acquiring, give back leases still held, exit 0.
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "common/process/stop_signals.h"
#include "spdlog/spdlog.h"
#include "worker/daemon/synthetic_evaluator.h"
#include "worker/daemon/training_evaluator.h"
#include "worker/daemon/worker_loop.h"

// A SIGTERM during start-up (Slurm cancelling a job array that has just
// started, a test stopping a worker it just launched) is recorded from before
// LibTorch's initialisers run, and acted on once the loop exists: the worker
// exits 0 holding nothing, instead of dying from the default action.
UNAS_RECORD_STOP_SIGNALS_FROM_PROCESS_START();

int main(int argc, char** argv) {
  CLI::App app{"unas-worker: trains μNAS candidates for a coordinator"};
  unas::worker::WorkerOptions options;
  char hostname[256] = "localhost";
  gethostname(hostname, sizeof(hostname) - 1);
  options.host = hostname;
  options.name = hostname;
  int threads = 0;
  bool synthetic = false;
  int synthetic_delay_ms = 0;
  std::string log_level = "info";
  app.add_option("--coordinator", options.coordinator, "coordinator address host:port");
  app.add_option("--name", options.name,
                 "stable worker name (default: the host name); a restarted worker with the "
                 "same name is the same worker");
  app.add_option("--slots", options.slots, "candidates trained at once")->check(CLI::Range(1, 256));
  app.add_option("--threads", threads, "LibTorch threads (default: cores / slots)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--acquire-wait", options.acquire_wait_seconds, "long-poll seconds")
      ->check(CLI::Range(1, 60));
  app.add_option("--max-evaluations", options.max_evaluations,
                 "exit after reporting this many results (0: run until stopped)");
  app.add_option("--ack-log", options.ack_log,
                 "append 'JOB CANDIDATE' here for every acknowledged result");
  bool no_cortex_m4 = false;
  app.add_flag("--no-cortex-m4", no_cortex_m4,
               "do not measure int8 candidates' Cortex-M4 instructions per inference on QEMU");
  app.add_flag("--synthetic", synthetic,
               "do not train: report a synthetic error computed from the architecture");
  app.add_option("--synthetic-delay-ms", synthetic_delay_ms,
                 "with --synthetic, pretend each evaluation takes this long");
  app.add_option("--tls-ca", options.security.tls_ca_file,
                 "PEM CA that signed the coordinator's certificate: connect with TLS")
      ->envname("UNAS_TLS_CA");
  app.add_option("--token-file", options.security.token_file,
                 "file holding the worker token, sent with every call")
      ->envname("UNAS_TOKEN_FILE");
  app.add_option("--tls-server-name", options.security.tls_server_name,
                 "name to check in the coordinator's certificate (default: the host in "
                 "--coordinator)");
  app.add_option("--log-level", log_level)
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  // Debian's abseil is built with mutex deadlock detection on, which gRPC's
  // mutexes pay for on every lock (a graph of lock orders); we do not need it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::unique_ptr<unas::worker::Evaluator> evaluator;
  if (synthetic) {
    unas::worker::SyntheticOptions synthetic_options;
    synthetic_options.delay = absl::Milliseconds(synthetic_delay_ms);
    evaluator = std::make_unique<unas::worker::SyntheticEvaluator>(synthetic_options);
    options.device = "synthetic";
  } else {
    if (threads == 0) {
      unsigned cores = std::max(1u, std::thread::hardware_concurrency());
      threads = std::max(1, static_cast<int>(cores) / options.slots);
    }
    evaluator = std::make_unique<unas::worker::TrainingEvaluator>(threads, !no_cortex_m4);
  }

  unas::worker::WorkerLoop loop(options, evaluator.get());
  absl::Status status;
  {
    unas::StopSignalWatcher watcher([&loop](int signal) {
      spdlog::info("signal {}: stopping", signal);
      loop.Stop();
    });
    status = loop.Run();
  }
  if (!status.ok()) {
    spdlog::error("{}", status.ToString());
    return 1;
  }
  spdlog::info("stopped after {} evaluations", loop.evaluations_reported());
  return 0;
}
