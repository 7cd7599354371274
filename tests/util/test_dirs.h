// Where tests find our binaries and put their files.
#ifndef UNAS_TESTS_UTIL_TEST_DIRS_H_
#define UNAS_TESTS_UTIL_TEST_DIRS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/process/subprocess.h"

namespace unas::testing {

// build/bin/<name>: tests live in build/tests/.
inline std::string BinaryPath(const std::string& name) {
  return (std::filesystem::path(ExecutableDir()).parent_path() / "bin" / name).string();
}

// A fresh, empty directory for one test.
inline std::string MakeTestDir(const std::string& name) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("unas-test-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

struct CommandResult {
  int exit_code = -1;  // -1: timed out (the process was killed)
  std::string out;
  std::string err;
};

// Runs a command to completion with stdout and stderr captured apart.
inline CommandResult RunCommand(std::vector<std::string> argv,
                                absl::Duration timeout = absl::Seconds(120)) {
  static int counter = 0;
  std::string base = (std::filesystem::temp_directory_path() /
                      ("unas-cmd-" + std::to_string(getpid()) + "-" + std::to_string(++counter)))
                         .string();
  SubprocessOptions options;
  options.stderr_path = base + ".err";
  CommandResult result;
  {
    Subprocess p(std::move(argv), base + ".out", options);
    std::optional<int> code = p.Wait(timeout);
    result.exit_code = code.value_or(-1);
  }
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    std::filesystem::remove(path);
    return s.str();
  };
  result.out = slurp(base + ".out");
  result.err = slurp(base + ".err");
  return result;
}

// Waits until the process's log contains `text` (a line it writes once it has
// reached a state, e.g. "registered as"); false when the deadline passes or
// the process exits first. For tests that must act at a known point of a
// process's life without assuming how fast it gets there.
inline bool WaitForLogLine(Subprocess& process, const std::string& text, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (process.ReadLog().find(text) != std::string::npos) return true;
    if (!process.running()) return process.ReadLog().find(text) != std::string::npos;
    usleep(20'000);
  }
  return false;
}

// Waits until nothing accepts connections on 127.0.0.1:`port` any more (the
// server that listened there has exited); false when the deadline passes.
inline bool WaitForPortClosed(int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool accepted = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    if (!accepted) return true;
    usleep(50'000);
  }
  return false;
}

using ::unas::Subprocess;
using ::unas::WaitForPortFile;

}  // namespace unas::testing

#endif  // UNAS_TESTS_UTIL_TEST_DIRS_H_
