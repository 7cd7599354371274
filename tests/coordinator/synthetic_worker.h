// A synthetic worker in the test process (no LibTorch): the real worker
// loop over gRPC with SyntheticEvaluator, for tests that run a real
// unas-coordinator without the unas-worker binary.
#ifndef UNAS_TESTS_COORDINATOR_SYNTHETIC_WORKER_H_
#define UNAS_TESTS_COORDINATOR_SYNTHETIC_WORKER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "worker/daemon/synthetic_evaluator.h"
#include "worker/daemon/worker_loop.h"

namespace unas::coordinator::testing {

class SyntheticWorker {
 public:
  // `delay`: how long each evaluation takes; 3 epochs each.
  SyntheticWorker(const std::string& address, const std::string& name, absl::Duration delay)
      : evaluator_(worker::SyntheticOptions{delay, 3}) {
    worker::WorkerOptions options;
    options.coordinator = address;
    options.name = name;
    options.host = "test-host";
    options.acquire_wait_seconds = 1;
    options.device = "synthetic";
    loop_ = std::make_unique<worker::WorkerLoop>(options, &evaluator_);
    thread_ = std::thread([this] { status_ = loop_->Run(); });
  }
  ~SyntheticWorker() {
    loop_->Stop();
    thread_.join();
    EXPECT_TRUE(status_.ok()) << status_;
  }

 private:
  worker::SyntheticEvaluator evaluator_;
  std::unique_ptr<worker::WorkerLoop> loop_;
  std::thread thread_;
  absl::Status status_;
};

}  // namespace unas::coordinator::testing

#endif  // UNAS_TESTS_COORDINATOR_SYNTHETIC_WORKER_H_
