// Graceful stop on SIGINT / SIGTERM for our daemons. A handler records the
// signal (whatever thread it lands on: libraries such as LibTorch start
// threads before main, so blocking signals in main is not enough) and a
// watcher thread calls the daemon's stop function.
#ifndef UNAS_COMMON_PROCESS_STOP_SIGNALS_H_
#define UNAS_COMMON_PROCESS_STOP_SIGNALS_H_

#include <functional>
#include <memory>

namespace unas {

class StopSignalWatcher {
 public:
  // Installs the handlers and starts watching; `on_stop(signal)` runs once,
  // on the watcher thread, at the first SIGINT or SIGTERM.
  explicit StopSignalWatcher(std::function<void(int)> on_stop);
  // Stops watching (without calling on_stop) and joins the thread.
  ~StopSignalWatcher();
  StopSignalWatcher(const StopSignalWatcher&) = delete;
  StopSignalWatcher& operator=(const StopSignalWatcher&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace unas

#endif  // UNAS_COMMON_PROCESS_STOP_SIGNALS_H_
