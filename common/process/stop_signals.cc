#include "common/process/stop_signals.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace unas {
namespace {

std::atomic<int> g_signal{0};

extern "C" void RecordStopSignal(int signal) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, signal);
}

}  // namespace

void RecordStopSignals() {
  struct sigaction action = {};
  action.sa_handler = RecordStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

struct StopSignalWatcher::Impl {
  std::atomic<bool> done{false};
  std::thread thread;
};

StopSignalWatcher::StopSignalWatcher(std::function<void(int)> on_stop)
    : impl_(std::make_unique<Impl>()) {
  RecordStopSignals();
  impl_->thread = std::thread([impl = impl_.get(), on_stop = std::move(on_stop)] {
    while (!impl->done.load()) {
      if (int signal = g_signal.load(); signal != 0) {
        on_stop(signal);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

StopSignalWatcher::~StopSignalWatcher() {
  impl_->done = true;
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace unas
