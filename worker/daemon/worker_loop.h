// The worker daemon's loop: register with the coordinator, then in each slot
// acquire a task, evaluate it while heartbeating, and report the result,
// retrying with backoff until the coordinator acknowledges it. Survives
// coordinator restarts (it keeps retrying; a result is never dropped while
// the coordinator may still want it). Heartbeats carry the learning curve
// measured so far; a candidate the coordinator's automated stopping rule
// stops is abandoned without any report.
#ifndef UNAS_WORKER_DAEMON_WORKER_LOOP_H_
#define UNAS_WORKER_DAEMON_WORKER_LOOP_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/rpc/channel.h"
#include "grpcpp/grpcpp.h"
#include "worker/daemon/evaluator.h"

namespace unas::worker {

struct WorkerOptions {
  std::string coordinator = "127.0.0.1:50051";
  // TLS and token (empty: plaintext, no token); Run() fails when its files
  // cannot be used.
  rpc::ChannelSecurity security;
  std::string name;  // stable across restarts: the coordinator keys workers by name
  std::string host;
  std::string device = "cpu";
  int slots = 1;  // candidates evaluated at once
  int acquire_wait_seconds = 30;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
  // Stop after this many evaluations (0 = run until Stop()): for tests.
  int max_evaluations = 0;
  // Append "JOB CANDIDATE" to this file for every result the coordinator
  // acknowledged (an audit trail; fault tests check nothing acknowledged
  // is ever lost). Empty: none.
  std::string ack_log;
};

class WorkerLoop {
 public:
  WorkerLoop(WorkerOptions options, Evaluator* evaluator);
  ~WorkerLoop();

  // Runs until Stop() (or max_evaluations). Leases held when stopping are
  // given back (FailTask), so the candidates are re-run at once elsewhere.
  absl::Status Run();

  // Thread-safe; Run() returns soon after.
  void Stop();

  int evaluations_reported() const { return reported_.load(); }
  // Evaluations the coordinator's automated stopping rule stopped (nothing
  // was reported for them).
  int evaluations_stopped() const { return stopped_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<int> reported_{0};
  std::atomic<int> stopped_{0};
};

}  // namespace unas::worker

#endif  // UNAS_WORKER_DAEMON_WORKER_LOOP_H_
