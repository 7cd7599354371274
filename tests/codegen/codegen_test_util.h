// Builds and runs generated C projects for the codegen tests.
#ifndef UNAS_TESTS_CODEGEN_CODEGEN_TEST_UTIL_H_
#define UNAS_TESTS_CODEGEN_CODEGEN_TEST_UTIL_H_

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace unas::codegen::testing {

// A fresh folder under the test's temporary directory.
inline std::filesystem::path FreshDir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    absl::StrCat("unas_codegen_", getpid(), "_", name);
  std::filesystem::remove_all(dir);
  return dir;
}

// Runs a shell command; its exit status (-1 if it did not run).
inline int Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return status == -1 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status);
}

inline void WriteBytes(const std::filesystem::path& path, const std::vector<int8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<int8_t> ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::vector<int8_t>(bytes.begin(), bytes.end());
}

// `make host` with compiler `cc` (warnings are errors), then `./unas_run
// mode` on `inputs`; the bytes it wrote, empty on failure (with a test failure).
inline std::vector<int8_t> BuildAndRun(const std::filesystem::path& dir, const std::string& cc,
                                       const std::string& mode, const std::vector<int8_t>& inputs) {
  const std::string make = absl::StrCat("make -s -C '", dir.string(), "' host CC=", cc, " > '",
                                        dir.string(), "/build.log' 2>&1");
  if (Shell(make) != 0) {
    std::ifstream log(dir / "build.log");
    ADD_FAILURE() << "make host failed:\n" << std::string(std::istreambuf_iterator<char>(log), {});
    return {};
  }
  WriteBytes(dir / "inputs.bin", inputs);
  const std::string run =
      absl::StrCat("cd '", dir.string(), "' && ./unas_run ", mode, " < inputs.bin > outputs.bin");
  if (Shell(run) != 0) {
    ADD_FAILURE() << run << " failed";
    return {};
  }
  return ReadBytes(dir / "outputs.bin");
}

}  // namespace unas::codegen::testing

#endif  // UNAS_TESTS_CODEGEN_CODEGEN_TEST_UTIL_H_
