// Turns a stored int8 model (v1::QuantizedModel) into a self-contained C99
// project: const weights in flash, one static arena planned from the PMU's
// operator order, straight-line kernel calls, a Makefile for the host and a
// Cortex-M4 (QEMU mps2-an386) and a README (docs/deploy.md).
//
// The model is checked first by the reference interpreter's validation (it
// may come from an untrusted worker or a file): a bad model gets an error
// naming the op or tensor and no files.
#ifndef UNAS_CODEGEN_C_PROJECT_H_
#define UNAS_CODEGEN_C_PROJECT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "codegen/memory_plan.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::codegen {

struct CProjectOptions {
  // Inputs (int8, the model's input size each) embedded in the Cortex-M
  // program with the interpreter's logits; empty: three seeded random inputs.
  std::vector<std::vector<int8_t>> test_inputs;
  // Their labels (empty, or one per test input): the program then also
  // counts the inputs it classifies correctly.
  std::vector<int32_t> test_labels;
  // One line naming where the model came from, for the file headers.
  std::string source = "a unas int8 model";
};

// What the generator decided and what the project needs, for reports and tests.
struct CProjectInfo {
  int64_t arena_bytes = 0;       // the static arena (the model input included)
  int64_t order_peak_bytes = 0;  // bytes live at the fullest step of the order run
  // PMU of the model's graph with and without the input (resource_models);
  // the arena's target is pmu_with_input_bytes.
  int64_t pmu_with_input_bytes = 0;
  int64_t pmu_bytes = 0;
  bool pmu_optimal = true;   // false: the PMUs are upper bounds (search limit)
  bool stored_order = true;  // ran in the model's stored order (else the PMU's)
  Placement placement = Placement::kGreedyFirstFit;
  std::vector<int64_t> arena_by_placement;  // indexed by Placement
  int64_t weight_bytes = 0;                 // int8 weights and int32 biases
  int64_t flash_bytes = 0;  // all const model data (weights, requantisation, op parameters)
                            // on a 32-bit target: the unas_op* symbols
  std::vector<std::string> op_order;  // output tensor of each op, as run
  int64_t input_size = 0;
  int64_t output_size = 0;
  bool raw_image_input = false;  // input zero point -128: unas_model_classify exists
  int input_zero_point = 0;
  float input_scale = 1.0f;
  int output_zero_point = 0;
  float output_scale = 1.0f;
  // Cortex-M4 instructions per inference on QEMU (codegen/cortex_m4.h's
  // AddCortexM4Latency), 0 when not measured.
  int64_t cortex_m4_instructions = 0;
};

struct CProject {
  std::map<std::string, std::string> files;  // path relative to the project folder
  CProjectInfo info;
  std::string source;  // CProjectOptions::source
  MemoryPlan plan;     // the arena plan the code uses (steps index info.op_order)
};

absl::StatusOr<CProject> GenerateCProject(const v1::QuantizedModel& model,
                                          const CProjectOptions& options = {});

// The project's README.md for `info` (regenerated once the latency is known).
std::string CProjectReadme(const CProjectInfo& info, const std::string& source);

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_C_PROJECT_H_
