// Subprocess: a child in its own process group is killed with everything it
// started (a timed-out `make run-qemu` must not leave QEMU running).
#include "common/process/subprocess.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace unas {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          absl::StrCat("unas-subprocess-", getpid(), "-", name))
      .string();
}

// Running: it exists and is not a zombie waiting for a reaper (in a
// container, pid 1 may never reap an orphan).
bool Alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren == std::string::npos || text.size() < paren + 3 || text[paren + 2] != 'Z';
}

// Starts a shell that starts a long sleep (a grandchild), waits for the
// grandchild's pid, kills the shell and reports whether the sleep is gone
// within `patience`.
bool GrandchildEndsWithKill(bool own_process_group, absl::Duration patience) {
  const std::string pid_file = TempPath(absl::StrCat("pid-", own_process_group));
  std::filesystem::remove(pid_file);
  SubprocessOptions options;
  options.own_process_group = own_process_group;
  Subprocess shell({"/bin/sh", "-c",
                    "sleep 300 & echo $! > '" + pid_file + ".tmp' && mv '" + pid_file + ".tmp' '" +
                        pid_file + "'; wait"},
                   TempPath("log"), options);
  pid_t grandchild = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (grandchild == 0 && absl::Now() < deadline) {
    std::ifstream(pid_file) >> grandchild;
    if (grandchild == 0) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GT(grandchild, 0) << "the shell never wrote its child's pid";
  if (grandchild <= 0) return false;
  shell.Kill();
  const absl::Time until = absl::Now() + patience;
  bool gone = false;
  while (!gone && absl::Now() < until) {
    gone = !Alive(grandchild);
    if (!gone) absl::SleepFor(absl::Milliseconds(10));
  }
  if (!gone) kill(grandchild, SIGKILL);  // tidy up after the default case
  std::filesystem::remove(pid_file);
  return gone;
}

TEST(Subprocess, KillEndsTheWholeProcessGroupOfAChildStartedInItsOwn) {
  EXPECT_TRUE(GrandchildEndsWithKill(/*own_process_group=*/true, absl::Seconds(20)));
}

TEST(Subprocess, WithoutItsOwnGroupAGrandchildOutlivesKill) {
  // The contrast that makes the test above mean something: the default
  // leaves the grandchild running.
  EXPECT_FALSE(GrandchildEndsWithKill(/*own_process_group=*/false, absl::Milliseconds(500)));
}

}  // namespace
}  // namespace unas
