// Where the headless browser of the browser tests (the report, the
// dashboard) is: $UNAS_CHROMIUM, else chromium (Debian's, which
// scripts/install-deps installs), chromium-browser or google-chrome on PATH.
#ifndef UNAS_TESTS_UTIL_FIND_CHROMIUM_H_
#define UNAS_TESTS_UTIL_FIND_CHROMIUM_H_

#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace unas::testing {

// $UNAS_CHROMIUM, else chromium (Debian's), chromium-browser or google-chrome on PATH.
inline std::optional<std::string> FindChromium() {
  if (const char* env = std::getenv("UNAS_CHROMIUM"); env != nullptr && *env != '\0') {
    if (access(env, X_OK) == 0) return std::string(env);
  }
  std::vector<std::string> dirs = {"/usr/bin"};
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    for (absl::string_view dir : absl::StrSplit(path, ':')) dirs.emplace_back(dir);
  }
  for (const std::string& dir : dirs) {
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
      const std::string candidate = absl::StrCat(dir, "/", name);
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return std::nullopt;
}

}  // namespace unas::testing

#endif  // UNAS_TESTS_UTIL_FIND_CHROMIUM_H_
