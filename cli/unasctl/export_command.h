// What `unasctl export` writes for one evaluated candidate, and the offline
// `unasctl export-c --int8-model FILE -o DIR` (docs/deploy.md):
//   architecture.textproto, candidate.json        always
//   c/                                            --format c: the C project (codegen/)
//   model.int8.textproto, model.int8.pb           --format int8: the stored QuantizedModel
//   model.tflite                                  --format tflite: the int8 model as a TensorFlow
//                                                 Lite flatbuffer (codegen/tflite_model.h)
//   model.int8.onnx, model.onnx                   --format onnx: the int8 model in QDQ form, and
//                                                 the float network (by unas-onnx, which
//                                                 reads the LibTorch weights)
//   weights.pt                                    --format torch: the LibTorch archive
// (--format all, the default, writes every one the candidate has, and says
// which it lacks; a format asked for by name that the candidate lacks is an
// error). Everything is generated in memory and checked first, then written
// through a temporary folder: a bad model leaves nothing half-written. When
// arm-none-eabi-gcc and qemu-system-arm are installed, the C project's
// Cortex-M4 program is run on QEMU first and its instructions per inference
// go into the summary and the project's README (codegen/cortex_m4.h).
#ifndef UNAS_CLI_UNASCTL_EXPORT_COMMAND_H_
#define UNAS_CLI_UNASCTL_EXPORT_COMMAND_H_

#include <map>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "codegen/c_project.h"
#include "unas/v1/job_service.pb.h"

namespace unas::cli {

struct ExportFormats {
  bool c = false;
  bool int8 = false;
  bool onnx = false;
  bool torch = false;
  bool tflite = false;
  bool all = false;  // every format, those the candidate lacks skipped with a warning
  // The unas-onnx program that writes model.onnx; empty: the one next to
  // this executable.
  std::string float_onnx_tool;
};

// "all" or a comma-separated list of c, int8, onnx, tflite, torch.
absl::StatusOr<ExportFormats> ParseExportFormats(const std::string& text);

// The files of one candidate's export (paths relative to the export folder);
// `log` gets the warnings. `c_info` (may be null) gets the C project's numbers.
absl::StatusOr<std::map<std::string, std::string>> CandidateExportFiles(
    const v1::ExportCandidateResponse& response, const ExportFormats& formats, std::ostream& log,
    codegen::CProjectInfo* c_info = nullptr);

// CandidateExportFiles written into `dir`, with a summary line on `out` and
// the warnings on `log`; `c_info` (may be null) as above.
absl::Status WriteCandidateExport(const v1::ExportCandidateResponse& response,
                                  const std::string& dir, const std::string& formats,
                                  std::ostream& out, std::ostream& log,
                                  codegen::CProjectInfo* c_info = nullptr);

// Registers `export-c` and `export-tflite`.
void AddExportCCommand(CLI::App& app, int* exit_code);

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_EXPORT_COMMAND_H_
