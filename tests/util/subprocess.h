// Real processes for integration and fault tests: start a binary of ours
// with its output in a log file, wait for it, SIGKILL it.
#ifndef UNAS_TESTS_UTIL_SUBPROCESS_H_
#define UNAS_TESTS_UTIL_SUBPROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace unas::testing {

// build/bin/<name>, found from the test binary's own location.
std::string BinaryPath(const std::string& name);

// A fresh, empty directory for one test.
std::string MakeTestDir(const std::string& name);

class Subprocess {
 public:
  // Starts argv[0] with the given arguments; stdout and stderr go to `log`.
  Subprocess(std::vector<std::string> argv, std::string log);
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
};

// Waits until `path` exists and holds a number; that number, or nullopt.
std::optional<int> WaitForPortFile(const std::string& path, absl::Duration timeout);

}  // namespace unas::testing

#endif  // UNAS_TESTS_UTIL_SUBPROCESS_H_
