// Headless Chromium for the dashboard tests: finds the browser, loads a URL
// with a private profile and a bounded run time, and returns the rendered
// DOM (--dump-dom) or writes a screenshot. Runs in the foreground, or in the
// background (Start) for a test that changes the job while the page is open.
#ifndef UNAS_TESTS_DASHBOARD_HEADLESS_CHROMIUM_H_
#define UNAS_TESTS_DASHBOARD_HEADLESS_CHROMIUM_H_

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/process/subprocess.h"
#include "tests/util/find_chromium.h"

namespace unas::dashboard::testing {

using ::unas::testing::FindChromium;

inline std::string ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One browser run: `mode` is "--dump-dom" or "--screenshot=FILE". The page
// runs for `virtual_ms` of virtual time; a headless browser's virtual clock
// stands still while fetches are pending, so a page waiting on a long poll
// keeps running until the poll answers.
class BrowserRun {
 public:
  BrowserRun(const std::string& chromium, const std::filesystem::path& work,
             const std::string& mode, const std::string& url, int virtual_ms,
             int timeout_seconds = 120)
      : work_(work) {
    std::filesystem::create_directories(work);
    SubprocessOptions options;
    options.stderr_path = (work / "stderr.txt").string();
    process_ = std::make_unique<Subprocess>(
        std::vector<std::string>{"/usr/bin/timeout",
                                 "-k",
                                 "5",
                                 std::to_string(timeout_seconds),
                                 chromium,
                                 "--headless",
                                 "--no-sandbox",
                                 "--disable-gpu",
                                 "--hide-scrollbars",
                                 "--no-first-run",
                                 "--disable-extensions",
                                 "--disable-background-networking",
                                 "--mute-audio",
                                 absl::StrCat("--user-data-dir=", (work / "profile").string()),
                                 "--enable-logging=stderr",
                                 "--v=0",
                                 "--window-size=1280,2400",
                                 absl::StrCat("--virtual-time-budget=", virtual_ms),
                                 mode,
                                 url},
        (work / "stdout.txt").string(), options);
  }
  ~BrowserRun() {
    std::error_code ec;
    std::filesystem::remove_all(work_ / "profile", ec);  // large; the rest stays
  }

  // The exit status once the browser has exited, or nullopt on timeout.
  std::optional<int> Wait(absl::Duration timeout) { return process_->Wait(timeout); }
  std::string Stdout() const { return ReadWholeFile(work_ / "stdout.txt"); }
  std::string Log() const { return ReadWholeFile(work_ / "stderr.txt"); }
  // Messages the page wrote to its console.
  std::vector<std::string> ConsoleLines() const {
    std::vector<std::string> lines;
    for (absl::string_view line : absl::StrSplit(Log(), '\n')) {
      if (line.find(":CONSOLE") != absl::string_view::npos) lines.emplace_back(line);
    }
    return lines;
  }

 private:
  std::filesystem::path work_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace unas::dashboard::testing

#endif  // UNAS_TESTS_DASHBOARD_HEADLESS_CHROMIUM_H_
