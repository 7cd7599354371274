#include "codegen/cortex_m4.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "codegen/write_files.h"
#include "common/process/subprocess.h"
#include "common/status/status_macros.h"

namespace unas::codegen {
namespace {

// The program's full path on the PATH (Subprocess executes a path), or "".
std::string Which(const std::string& program) {
  const char* path = getenv("PATH");
  if (path == nullptr) return "";
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    const std::string candidate = absl::StrCat(dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Runs `argv` with its output in `log`; the output, or an error naming `what`.
absl::StatusOr<std::string> Step(const std::vector<std::string>& argv, const std::string& log,
                                 int timeout_s, const std::string& what, int* exit_status) {
  std::filesystem::remove(log);
  SubprocessOptions options;
  options.own_process_group = true;  // a timeout must also end QEMU, make's child
  Subprocess process(argv, log, options);
  const std::optional<int> status = process.Wait(absl::Seconds(timeout_s));
  std::string said = process.ReadLog();
  if (!status.has_value()) {
    process.Kill();
    return absl::DeadlineExceededError(
        absl::StrCat(what, " did not finish in ", timeout_s, " s:\n", said));
  }
  *exit_status = *status;
  return said;
}

// The numbers of main.c's summary line "unas: N inputs, M differ[, C
// correct], T ticks per inference (min A, max B)".
bool ParseSummary(absl::string_view printed, CortexM4Run* run) {
  for (absl::string_view line : absl::StrSplit(printed, '\n')) {
    if (!absl::ConsumePrefix(&line, "unas: ")) continue;
    std::vector<int64_t> numbers;
    for (absl::string_view word :
         absl::StrSplit(line, absl::ByAnyChar(" ,()"), absl::SkipEmpty())) {
      int64_t v = 0;
      if (absl::SimpleAtoi(word, &v)) numbers.push_back(v);
    }
    const bool labelled = absl::StrContains(line, " correct");
    if (numbers.size() != (labelled ? 6u : 5u)) return false;
    size_t i = 0;
    run->inputs = numbers[i++];
    run->differing = numbers[i++];
    if (labelled) run->correct = numbers[i++];
    run->ticks = numbers[i++];
    run->fewest_ticks = numbers[i++];
    run->most_ticks = numbers[i++];
    return true;
  }
  return false;
}

}  // namespace

bool CortexM4ToolsAvailable() {
  return !Which("make").empty() && !Which("arm-none-eabi-gcc").empty() &&
         !Which("qemu-system-arm").empty();
}

absl::StatusOr<CortexM4Run> RunCortexM4(const std::filesystem::path& dir,
                                        const std::string& make_args, int timeout_s) {
  std::vector<std::string> make = {Which("make"), "-s", "-C", dir.string()};
  for (absl::string_view arg : absl::StrSplit(make_args, ' ', absl::SkipEmpty())) {
    make.emplace_back(arg);
  }
  std::vector<std::string> build = make;
  build.push_back("cortex-m4");
  int status = 0;
  UNAS_ASSIGN_OR_RETURN(const std::string built, Step(build, (dir / "cortex-m4.log").string(),
                                                      timeout_s, "make cortex-m4", &status));
  if (status != 0) return absl::InternalError("make cortex-m4 failed:\n" + built);
  std::vector<std::string> qemu = make;
  qemu.push_back("run-qemu");
  UNAS_ASSIGN_OR_RETURN(const std::string printed,
                        Step(qemu, (dir / "qemu.log").string(), timeout_s, "QEMU", &status));
  CortexM4Run run;
  run.printed = printed;
  if (!ParseSummary(printed, &run)) {
    return absl::InternalError(absl::StrCat(
        "the Cortex-M4 program printed no summary (exit status ", status, "):\n", printed));
  }
  return run;
}

absl::StatusOr<CortexM4Run> MeasureCortexM4(const CProject& project, int timeout_s) {
  char pattern[] = "/tmp/unas-cm4-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return absl::InternalError("cannot make a temporary folder");
  const std::filesystem::path dir = pattern;
  auto cleanup = absl::MakeCleanup([&] { std::filesystem::remove_all(dir); });
  UNAS_RETURN_IF_ERROR(WriteFolder(dir, project.files));
  return RunCortexM4(dir, "", timeout_s);
}

absl::Status AddCortexM4Latency(CProject* project, int timeout_s) {
  UNAS_ASSIGN_OR_RETURN(const CortexM4Run run, MeasureCortexM4(*project, timeout_s));
  if (run.differing != 0) {
    return absl::InternalError(absl::StrCat("the Cortex-M4 build's logits differ from the ",
                                            "interpreter's on ", run.differing, " of ", run.inputs,
                                            " inputs:\n", run.printed));
  }
  project->info.cortex_m4_instructions = run.instructions();
  project->files["README.md"] = CProjectReadme(project->info, project->source);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CortexM4InstructionsPerInference(const v1::QuantizedModel& model,
                                                         int timeout_s) {
  UNAS_ASSIGN_OR_RETURN(CProject project, GenerateCProject(model));
  UNAS_RETURN_IF_ERROR(AddCortexM4Latency(&project, timeout_s));
  return project.info.cortex_m4_instructions;
}

std::string DescribeCortexM4Run(const CortexM4Run& run) {
  return absl::StrCat(run.instructions(),
                      " Cortex-M4 instructions per inference (QEMU mps2-an386, ",
                      "-icount; mean of ", run.inputs, " inputs)");
}

}  // namespace unas::codegen
