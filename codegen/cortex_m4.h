// Builds a generated C project's Cortex-M4 program (arm-none-eabi-gcc) and
// runs it on QEMU's mps2-an386 with `-icount shift=0` (make run-qemu): the
// logits of the embedded test inputs are checked against the interpreter's
// and SysTick measures one inference. QEMU's clock then counts instructions
// (40 per SysTick tick at its 25 MHz): instructions per inference are a
// proxy for cycles, not cycles (QEMU is not cycle-accurate; on a Cortex-M4
// most data instructions take one cycle, loads two, taken branches two to
// four). docs/deploy.md, "Latency".
#ifndef UNAS_CODEGEN_CORTEX_M4_H_
#define UNAS_CODEGEN_CORTEX_M4_H_

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "codegen/c_project.h"

namespace unas::codegen {

struct CortexM4Run {
  int64_t inputs = 0;
  int64_t differing = 0;  // inputs whose logits differ from the interpreter's
  int64_t correct = -1;   // inputs classified as labelled (-1: no labels embedded)
  // SysTick ticks of one unas_model_run: mean, fewest, most over the inputs.
  int64_t ticks = 0, fewest_ticks = 0, most_ticks = 0;
  int64_t instructions() const { return ticks * 40; }  // on QEMU with -icount shift=0
  std::string printed;                                 // what the program printed
};

// Whether arm-none-eabi-gcc and qemu-system-arm are on the PATH.
bool CortexM4ToolsAvailable();

// `make cortex-m4` then `make run-qemu` in the project folder `dir` (extra
// make variables in `make_args`, e.g. "ARM_CFLAGS+=-DUNAS_POISON"); fails
// naming the step when a build fails, QEMU exceeds `timeout_s` or prints
// no summary. A run whose logits differ still returns (differing > 0).
absl::StatusOr<CortexM4Run> RunCortexM4(const std::filesystem::path& dir,
                                        const std::string& make_args = "", int timeout_s = 300);

// The same for `project`, written to a temporary folder that is removed.
absl::StatusOr<CortexM4Run> MeasureCortexM4(const CProject& project, int timeout_s = 300);

// Measures `project` (MeasureCortexM4): a run whose logits differ from the
// interpreter's is an error; else info.cortex_m4_instructions is set and the
// README's latency section filled in.
absl::Status AddCortexM4Latency(CProject* project, int timeout_s = 300);

// Instructions per inference of `model`'s generated C on QEMU (GenerateCProject
// with its default test inputs, then MeasureCortexM4): what a worker reports
// with each quantised candidate. Logits that differ from the interpreter's
// are an error, so a number is only ever reported for a bit-exact build.
// Each of the two steps (build, QEMU run) may take `timeout_s`; a step past
// it is killed with every process it started.
absl::StatusOr<int64_t> CortexM4InstructionsPerInference(const v1::QuantizedModel& model,
                                                         int timeout_s = 60);

// "N Cortex-M4 instructions per inference (QEMU mps2-an386, -icount)".
std::string DescribeCortexM4Run(const CortexM4Run& run);

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_CORTEX_M4_H_
