// Child processes: start one of our binaries with its output in a log file,
// signal it, wait for it. unasctl local runs its coordinator and workers this
// way; integration and fault tests too.
#ifndef UNAS_COMMON_PROCESS_SUBPROCESS_H_
#define UNAS_COMMON_PROCESS_SUBPROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace unas {

// The folder of the running executable (to find its sibling binaries).
std::string ExecutableDir();

struct SubprocessOptions {
  // Extra environment variables, "NAME=value".
  std::vector<std::string> env;
  // Deliver this signal to the child when the parent dies (0: none), so a
  // killed unasctl never leaves daemons behind.
  int parent_death_signal = 0;
  // Standard error to this file instead of the log (empty: the log).
  std::string stderr_path;
  // Start the child in a process group of its own, and let Kill() end the
  // whole group: for tools such as make that start the real work as
  // grandchildren, which would otherwise outlive a timeout.
  bool own_process_group = false;
};

class Subprocess {
 public:
  // Starts argv[0] with the given arguments; stdout and stderr go to `log`
  // (appended). A failed start shows as exit status 127.
  Subprocess(std::vector<std::string> argv, std::string log, SubprocessOptions options = {});
  ~Subprocess();  // SIGKILLs the process if it is still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int signal);
  void Kill();  // SIGKILL and reap
  // Waits for the exit; the exit status (128 + signal for a signal), or
  // nullopt on timeout.
  std::optional<int> Wait(absl::Duration timeout);
  std::string ReadLog() const;

 private:
  pid_t pid_ = -1;
  std::string log_;
  std::optional<int> exit_status_;
  bool own_process_group_ = false;
};

// Waits until `path` exists and holds a number; that number, or nullopt.
std::optional<int> WaitForPortFile(const std::string& path, absl::Duration timeout);

}  // namespace unas

#endif  // UNAS_COMMON_PROCESS_SUBPROCESS_H_
