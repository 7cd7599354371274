// Builds and runs generated C projects for the codegen tests.
#ifndef UNAS_TESTS_CODEGEN_CODEGEN_TEST_UTIL_H_
#define UNAS_TESTS_CODEGEN_CODEGEN_TEST_UTIL_H_

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
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

// `make host` with compiler `cc` (warnings are errors; `make_args` adds
// variables, e.g. EXTRA_CFLAGS=-DUNAS_POISON), then `./unas_run mode` on
// `inputs`; the bytes it wrote, empty on failure (with a test failure).
inline std::vector<int8_t> BuildAndRun(const std::filesystem::path& dir, const std::string& cc,
                                       const std::string& mode, const std::vector<int8_t>& inputs,
                                       const std::string& make_args = "") {
  const std::string make = absl::StrCat("make -s -C '", dir.string(), "' host CC=", cc, " ",
                                        make_args, " > '", dir.string(), "/build.log' 2>&1");
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

// stdout (and stderr) of a shell command; *status gets its exit status.
inline std::string Capture(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return out;
  }
  std::array<char, 4096> buffer;
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int raw = pclose(pipe);
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

// `make cortex-m4` then `make run-qemu` in a generated project: QEMU's exit
// status (the number of embedded inputs whose logits differ from the
// interpreter's) and what the program printed.
inline int RunOnQemu(const std::filesystem::path& dir, std::string* printed) {
  int status = 0;
  *printed = Capture(absl::StrCat("make -s -C '", dir.string(), "' cortex-m4"), &status);
  if (status != 0) return -1;
  *printed =
      Capture(absl::StrCat("cd '", dir.string(), "' && timeout 300 make -s run-qemu"), &status);
  return status;
}

// onnx.checker (Debian's python3-onnx) on a model file: "" when it passes,
// else what it said.
inline std::string OnnxCheckerProblem(const std::filesystem::path& model) {
  int status = 0;
  const std::string said =
      Capture(absl::StrCat("/usr/bin/python3 -c 'import onnx, sys; "
                           "onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)' '",
                           model.string(), "'"),
              &status);
  return status == 0 ? "" : said.empty() ? "python3-onnx is missing" : said;
}

// The "logits" ONNX Runtime (onnxruntime-node, installed by
// scripts/install-deps under .cache/node) computes for `inputs` of `shape`
// each, as raw bytes; `type` "int8" or "float32" (inputs and outputs). Empty
// on failure (with a test failure).
inline std::vector<int8_t> RunOnnxRuntime(const std::filesystem::path& model,
                                          const std::vector<int8_t>& inputs,
                                          const std::string& shape_json,
                                          const std::string& type = "int8") {
  const std::filesystem::path dir = model.parent_path();
  WriteBytes(dir / "ort_inputs.bin", inputs);
  int status = 0;
  const std::string said = Capture(
      absl::StrCat("NODE_PATH='", UNAS_SOURCE_DIR, "/.cache/node/node_modules' UNAS_INPUT_SHAPE='",
                   shape_json, "' node '", UNAS_SOURCE_DIR, "/tests/codegen/ort_run.js' '",
                   model.string(), "' '", (dir / "ort_inputs.bin").string(), "' '",
                   (dir / "ort_outputs.bin").string(), "' ", type),
      &status);
  if (status != 0) {
    ADD_FAILURE() << "ONNX Runtime failed (scripts/install-deps installs onnxruntime-node): "
                  << said;
    return {};
  }
  return ReadBytes(dir / "ort_outputs.bin");
}

// The outputs LiteRT.js (@litertjs/core, installed by scripts/install-deps
// under .cache/node) computes for the int8 `inputs` of a .tflite file, one
// after another. Empty on failure (with a test failure).
inline std::vector<int8_t> RunLiteRt(const std::filesystem::path& model,
                                     const std::vector<int8_t>& inputs) {
  const std::filesystem::path dir = model.parent_path();
  WriteBytes(dir / "litert_inputs.bin", inputs);
  int status = 0;
  const std::string said = Capture(
      absl::StrCat("UNAS_NODE_MODULES='", UNAS_SOURCE_DIR, "/.cache/node/node_modules' node '",
                   UNAS_SOURCE_DIR, "/tests/codegen/litert_run.mjs' '", model.string(), "' '",
                   (dir / "litert_inputs.bin").string(), "' '",
                   (dir / "litert_outputs.bin").string(), "'"),
      &status);
  if (status != 0) {
    ADD_FAILURE() << "LiteRT.js failed (scripts/install-deps installs @litertjs/core): " << said;
    return {};
  }
  return ReadBytes(dir / "litert_outputs.bin");
}

// The same with Arm NN's TensorFlow Lite parser and CpuRef backend (Debian's
// python3-pyarmnn). When Arm NN refuses the model (an error, or an assertion
// that aborts it), *refused gets what it said and the result is empty (no
// test failure: the caller decides).
inline std::vector<int8_t> RunArmNn(const std::filesystem::path& model,
                                    const std::vector<int8_t>& inputs, std::string* refused) {
  const std::filesystem::path dir = model.parent_path();
  WriteBytes(dir / "armnn_inputs.bin", inputs);
  int status = 0;
  const std::string said =
      Capture(absl::StrCat("/usr/bin/python3 '", UNAS_SOURCE_DIR, "/tests/codegen/armnn_run.py' '",
                           model.string(), "' '", (dir / "armnn_inputs.bin").string(), "' '",
                           (dir / "armnn_outputs.bin").string(), "'"),
              &status);
  refused->clear();
  const size_t refusal = said.find("Arm NN refused");
  const size_t assertion = said.find("Assertion");
  if (status != 0 && (refusal != std::string::npos || assertion != std::string::npos)) {
    const size_t from = refusal != std::string::npos ? refusal : said.rfind('\n', assertion) + 1;
    *refused = std::string(absl::StripAsciiWhitespace(said.substr(from)));
    return {};
  }
  if (status != 0) {
    ADD_FAILURE() << "Arm NN failed (scripts/install-deps installs python3-pyarmnn): " << said;
    return {};
  }
  return ReadBytes(dir / "armnn_outputs.bin");
}

// Agreement of int8 outputs `got` with the reference `want` (`size` values
// per input): inputs whose class (`classify` of an input's outputs, e.g.
// int8::Interpreter::Predict) is the same, values within one quantisation
// step, and the largest difference.
struct Agreement {
  int64_t inputs = 0, same_class = 0;
  int64_t values = 0, within_one = 0, exact = 0;
  int max_difference = 0;
};
inline Agreement Compare(const std::vector<int8_t>& want, const std::vector<int8_t>& got,
                         int64_t size, const std::function<int32_t(const int8_t*)>& classify) {
  Agreement a;
  if (want.size() != got.size() || size <= 0) return a;
  a.inputs = static_cast<int64_t>(want.size()) / size;
  for (int64_t i = 0; i < a.inputs; ++i) {
    const int8_t* w = want.data() + i * size;
    const int8_t* g = got.data() + i * size;
    a.same_class += classify(w) == classify(g) ? 1 : 0;
    for (int64_t k = 0; k < size; ++k) {
      const int d = std::abs(int{w[k]} - int{g[k]});
      a.max_difference = std::max(a.max_difference, d);
      a.within_one += d <= 1;
      a.exact += d == 0;
      ++a.values;
    }
  }
  return a;
}

}  // namespace unas::codegen::testing

#endif  // UNAS_TESTS_CODEGEN_CODEGEN_TEST_UTIL_H_
