// Graceful stop on SIGINT / SIGTERM for our daemons. A handler records the
// signal (whatever thread it lands on: libraries such as LibTorch start
// threads before main, so blocking signals in main is not enough) and a
// watcher thread calls the daemon's stop function.
#ifndef UNAS_COMMON_PROCESS_STOP_SIGNALS_H_
#define UNAS_COMMON_PROCESS_STOP_SIGNALS_H_

#include <functional>
#include <memory>

namespace unas {

// Starts recording SIGINT and SIGTERM now, before any StopSignalWatcher
// exists: a signal that arrives while the process is still starting is kept
// and handed to the first watcher at once, instead of killing the process
// with the default action. Idempotent.
void RecordStopSignals();

// Calls RecordStopSignals from the executable's .preinit_array: after the
// dynamic loader has mapped the shared libraries but before any of their
// initialisers run (LibTorch's register thousands of operators and take
// 0.4-2 s), which is as early as a process can install a handler. Use once,
// at namespace scope, in a daemon's main file.
#define UNAS_RECORD_STOP_SIGNALS_FROM_PROCESS_START()                                           \
  [[gnu::section(".preinit_array"), gnu::used]] static void (*const unas_record_stop_signals_)( \
      int, char**, char**) = [](int, char**, char**) { ::unas::RecordStopSignals(); }

class StopSignalWatcher {
 public:
  // Installs the handlers and starts watching; `on_stop(signal)` runs once,
  // on the watcher thread, at the first SIGINT or SIGTERM (at once if one was
  // recorded before, see RecordStopSignals).
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
