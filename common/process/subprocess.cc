#include "common/process/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace unas {

std::string ExecutableDir() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

Subprocess::Subprocess(std::vector<std::string> argv, std::string log, SubprocessOptions options)
    : log_(std::move(log)), own_process_group_(options.own_process_group) {
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    if (options.own_process_group) setpgid(0, 0);
    if (options.parent_death_signal != 0) {
      prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
      if (getppid() != parent) _exit(1);  // the parent died before prctl
    }
    for (std::string& var : options.env) putenv(var.data());
    int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (!options.stderr_path.empty()) {
      int err = open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (err >= 0) {
        dup2(err, 2);
        close(err);
      }
    }
    // Our test runner may block signals; the child must get them.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  // Also here, so a Kill() right after the start finds the group made.
  if (pid_ > 0 && own_process_group_) setpgid(pid_, pid_);
}

Subprocess::~Subprocess() {
  if (running()) Kill();
}

bool Subprocess::running() {
  if (pid_ <= 0 || exit_status_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

void Subprocess::Signal(int signal) {
  if (running()) kill(pid_, signal);
}

void Subprocess::Kill() {
  if (!running()) return;
  kill(own_process_group_ ? -pid_ : pid_, SIGKILL);
  Wait(absl::Seconds(10));
}

std::optional<int> Subprocess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (running()) {
    if (absl::Now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

std::string Subprocess::ReadLog() const {
  std::ifstream in(log_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<int> WaitForPortFile(const std::string& path, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::ifstream in(path);
    std::string text;
    int port = 0;
    if (in && std::getline(in, text) && absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port) &&
        port > 0) {
      return port;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

}  // namespace unas
