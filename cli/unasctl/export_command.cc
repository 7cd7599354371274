#include "cli/unasctl/export_command.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "codegen/cortex_m4.h"
#include "codegen/onnx_int8.h"
#include "codegen/tflite_model.h"
#include "codegen/write_files.h"
#include "common/process/subprocess.h"
#include "common/proto_io/proto_file.h"
#include "common/status/status_macros.h"

namespace unas::cli {
namespace {

std::string CSummary(const codegen::CProjectInfo& info) {
  std::string latency =
      info.cortex_m4_instructions > 0
          ? absl::StrCat(", ", info.cortex_m4_instructions,
                         " Cortex-M4 instructions per inference (QEMU, -icount)")
          : ", Cortex-M4 latency not measured (needs arm-none-eabi-gcc and qemu-system-arm)";
  return absl::StrCat("arena ", info.arena_bytes, " B (predicted peak memory with the input ",
                      info.pmu_with_input_bytes, " B), flash ", info.flash_bytes, " B", latency);
}

// The C project of `model`, with its Cortex-M4 latency measured on QEMU when
// the tools are installed (a failed measurement is an error: the program
// must run).
absl::StatusOr<codegen::CProject> CProjectWithLatency(const v1::QuantizedModel& model,
                                                      const std::string& source) {
  codegen::CProjectOptions options;
  options.source = source;
  UNAS_ASSIGN_OR_RETURN(codegen::CProject project, codegen::GenerateCProject(model, options));
  if (codegen::CortexM4ToolsAvailable()) {
    UNAS_RETURN_IF_ERROR(codegen::AddCortexM4Latency(&project));
  }
  return project;
}

void AddCProject(const codegen::CProject& project, const std::string& prefix,
                 std::map<std::string, std::string>& files) {
  for (const auto& [path, contents] : project.files) files[prefix + path] = contents;
}

// A QuantizedModel file: textproto or JSON by extension, else binary.
absl::StatusOr<v1::QuantizedModel> ReadInt8Model(const std::string& path) {
  v1::QuantizedModel model;
  if (ProtoFormatFromPath(path).ok()) {
    UNAS_RETURN_IF_ERROR(ReadProtoFile(path, &model));
    return model;
  }
  UNAS_ASSIGN_OR_RETURN(const std::string bytes, ReadTextFile(path));
  if (!model.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a binary QuantizedModel (use .textproto or .json for text)"));
  }
  return model;
}

// model.onnx by unas-onnx (it reads the LibTorch weights, which unasctl
// cannot), through a temporary folder.
absl::StatusOr<std::string> FloatOnnx(const v1::ExportCandidateResponse& response,
                                      std::string tool) {
  if (tool.empty()) tool = ExecutableDir() + "/unas-onnx";
  if (!std::filesystem::exists(tool)) {
    return absl::FailedPreconditionError(
        absl::StrCat(tool, " is not installed (it is built with the worker)"));
  }
  char pattern[] = "/tmp/unas-onnx-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return absl::InternalError("cannot make a temporary folder");
  const std::filesystem::path dir = pattern;
  auto cleanup = absl::MakeCleanup([&] { std::filesystem::remove_all(dir); });
  UNAS_RETURN_IF_ERROR(
      codegen::WriteFolder(dir, {{"architecture.textproto", ToTextproto(response.architecture())},
                                 {"candidate.json", ToJson(response.candidate())},
                                 {"weights.pt", response.trained_weights()}}));
  const v1::TensorShape& s = response.input_shape();
  const std::string command =
      absl::StrCat("'", tool, "' --arch '", (dir / "architecture.textproto").string(),
                   "' --weights '", (dir / "weights.pt").string(), "' --candidate '",
                   (dir / "candidate.json").string(), "' --input-shape ", s.height(), ",",
                   s.width(), ",", s.channels(), " --classes ", response.num_classes(), " --out '",
                   (dir / "model.onnx").string(), "' > '", (dir / "log").string(), "' 2>&1");
  const int status = std::system(command.c_str());
  if (status != 0) {
    absl::StatusOr<std::string> said = ReadTextFile((dir / "log").string());
    return absl::InternalError(said.ok() ? std::string(absl::StripAsciiWhitespace(*said))
                                         : "unas-onnx failed");
  }
  return ReadTextFile((dir / "model.onnx").string());
}

}  // namespace

absl::StatusOr<ExportFormats> ParseExportFormats(const std::string& text) {
  ExportFormats formats;
  for (absl::string_view name : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    if (name == "all") {
      formats.all = formats.c = formats.int8 = formats.onnx = formats.torch = formats.tflite = true;
    } else if (name == "tflite") {
      formats.tflite = true;
    } else if (name == "c") {
      formats.c = true;
    } else if (name == "int8") {
      formats.int8 = true;
    } else if (name == "onnx") {
      formats.onnx = true;
    } else if (name == "torch") {
      formats.torch = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--format: unknown format \"", name,
                                                     "\" (all, c, int8, onnx, tflite, torch)"));
    }
  }
  if (!formats.c && !formats.int8 && !formats.onnx && !formats.torch && !formats.tflite) {
    return absl::InvalidArgumentError("--format: name at least one format");
  }
  return formats;
}

absl::StatusOr<std::map<std::string, std::string>> CandidateExportFiles(
    const v1::ExportCandidateResponse& response, const ExportFormats& formats, std::ostream& log,
    codegen::CProjectInfo* c_info) {
  const v1::Candidate& c = response.candidate();
  const std::string who = absl::StrCat("candidate ", c.candidate_id(), " of job ", c.job_id());
  std::map<std::string, std::string> files;
  files["architecture.textproto"] = ToTextproto(response.architecture());
  files["candidate.json"] = ToJson(c);
  // A format the candidate lacks: an error when asked for by name, a warning under "all".
  auto missing = [&](const std::string& what) -> absl::Status {
    const std::string message = absl::StrCat(who, " has no stored ", what);
    if (!formats.all) return absl::FailedPreconditionError(message);
    log << "warning: " << message << ": not exported\n";
    return absl::OkStatus();
  };
  const bool has_model = response.quantized_model().ops_size() > 0;
  if ((formats.c || formats.int8 || formats.onnx || formats.tflite) && !has_model) {
    UNAS_RETURN_IF_ERROR(missing("int8 model (the job did not quantise)"));
  }
  if (formats.int8 && has_model) {
    files["model.int8.textproto"] = ToTextproto(response.quantized_model());
    files["model.int8.pb"] = response.quantized_model().SerializeAsString();
  }
  if (formats.onnx && has_model) {
    absl::StatusOr<std::string> onnx = codegen::Int8OnnxModel(response.quantized_model());
    if (!onnx.ok()) {
      return absl::Status(onnx.status().code(), absl::StrCat(who, ": ", onnx.status().message()));
    }
    files["model.int8.onnx"] = *std::move(onnx);
  }
  if (formats.onnx) {
    if (response.trained_weights().empty()) {
      UNAS_RETURN_IF_ERROR(missing("trained weights for model.onnx"));
    } else {
      absl::StatusOr<std::string> onnx = FloatOnnx(response, formats.float_onnx_tool);
      if (onnx.ok()) {
        files["model.onnx"] = *std::move(onnx);
      } else if (formats.all) {
        log << "warning: " << who << ": model.onnx not written: " << onnx.status().message()
            << "\n";
      } else {
        return absl::Status(onnx.status().code(), absl::StrCat(who, ": ", onnx.status().message()));
      }
    }
  }
  if (formats.tflite && has_model) {
    codegen::TfliteInfo info;
    absl::StatusOr<std::string> tflite = codegen::TfliteModel(response.quantized_model(), &info);
    if (!tflite.ok()) {
      return absl::Status(tflite.status().code(),
                          absl::StrCat(who, ": ", tflite.status().message()));
    }
    files["model.tflite"] = *std::move(tflite);
    for (const std::string& warning : codegen::TfliteWarnings(info)) {
      log << "warning: " << who << ": " << warning << "\n";
    }
  }
  if (formats.c && has_model) {
    absl::StatusOr<codegen::CProject> project =
        CProjectWithLatency(response.quantized_model(), who);
    if (!project.ok()) {
      return absl::Status(project.status().code(),
                          absl::StrCat(who, ": ", project.status().message()));
    }
    AddCProject(*project, "c/", files);
    if (c_info != nullptr) *c_info = project->info;
  }
  if (formats.torch) {
    if (response.trained_weights().empty()) {
      UNAS_RETURN_IF_ERROR(missing("trained weights (the job did not keep them)"));
    } else {
      files["weights.pt"] = response.trained_weights();
    }
  }
  return files;
}

absl::Status WriteCandidateExport(const v1::ExportCandidateResponse& response,
                                  const std::string& dir, const std::string& format_text,
                                  std::ostream& out, std::ostream& log,
                                  codegen::CProjectInfo* c_info_out) {
  UNAS_ASSIGN_OR_RETURN(const ExportFormats formats, ParseExportFormats(format_text));
  codegen::CProjectInfo c_info;
  UNAS_ASSIGN_OR_RETURN(const auto files, CandidateExportFiles(response, formats, log, &c_info));
  UNAS_RETURN_IF_ERROR(codegen::WriteFolder(dir, files));
  std::string written = "architecture.textproto, candidate.json";
  if (files.contains("weights.pt")) {
    absl::StrAppend(&written, ", weights.pt (", files.at("weights.pt").size(), " bytes)");
  }
  if (files.contains("model.int8.pb")) absl::StrAppend(&written, ", model.int8.textproto/.pb");
  if (files.contains("model.tflite")) {
    absl::StrAppend(&written, ", model.tflite (", files.at("model.tflite").size(), " bytes)");
  }
  if (files.contains("model.int8.onnx")) absl::StrAppend(&written, ", model.int8.onnx");
  if (files.contains("model.onnx")) absl::StrAppend(&written, ", model.onnx");
  if (files.contains("c/unas_model.c")) absl::StrAppend(&written, ", c/ (", CSummary(c_info), ")");
  out << "exported candidate " << response.candidate().candidate_id() << " of job "
      << response.candidate().job_id() << " to " << dir << ": " << written << "\n";
  if (c_info_out != nullptr) *c_info_out = c_info;
  return absl::OkStatus();
}

void AddExportCCommand(CLI::App& app, int* exit_code) {
  auto model_path = std::make_shared<std::string>();
  auto out_dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "export-c", "Generate the C project of an int8 model file (offline, no coordinator)");
  cmd->add_option("--int8-model", *model_path,
                  "QuantizedModel file: .pb (binary), .textproto or .json")
      ->required();
  cmd->add_option("-o,--out", *out_dir, "output folder (the C project)")->required();
  cmd->callback([=] {
    absl::Status status = [&]() -> absl::Status {
      UNAS_ASSIGN_OR_RETURN(const v1::QuantizedModel model, ReadInt8Model(*model_path));
      absl::StatusOr<codegen::CProject> project = CProjectWithLatency(model, *model_path);
      if (!project.ok()) {
        return absl::Status(project.status().code(),
                            absl::StrCat(*model_path, ": ", project.status().message()));
      }
      UNAS_RETURN_IF_ERROR(codegen::WriteFolder(*out_dir, project->files));
      std::cout << "wrote the C project of " << *model_path << " to " << *out_dir << ": "
                << CSummary(project->info) << "\n";
      return absl::OkStatus();
    }();
    if (!status.ok()) {
      std::cerr << "unasctl export-c: " << status.message() << "\n";
      *exit_code = 1;
    }
  });

  auto tflite_model_path = std::make_shared<std::string>();
  auto tflite_out = std::make_shared<std::string>();
  CLI::App* tflite = app.add_subcommand(
      "export-tflite", "Write the .tflite of an int8 model file (offline, no coordinator)");
  tflite
      ->add_option("--int8-model", *tflite_model_path,
                   "QuantizedModel file: .pb (binary), .textproto or .json")
      ->required();
  tflite->add_option("-o,--out", *tflite_out, "output file (model.tflite)")->required();
  auto dense_as_conv = std::make_shared<bool>(false);
  tflite->add_flag("--dense-as-conv2d", *dense_as_conv,
                   "write dense layers as 1x1 CONV_2D (for runtimes without per-channel "
                   "FULLY_CONNECTED)");
  tflite->callback([=] {
    absl::Status status = [&]() -> absl::Status {
      UNAS_ASSIGN_OR_RETURN(const v1::QuantizedModel model, ReadInt8Model(*tflite_model_path));
      codegen::TfliteInfo info;
      absl::StatusOr<std::string> bytes =
          codegen::TfliteModel(model, &info, {.dense_as_conv2d = *dense_as_conv});
      if (!bytes.ok()) {
        return absl::Status(bytes.status().code(),
                            absl::StrCat(*tflite_model_path, ": ", bytes.status().message()));
      }
      for (const std::string& warning : codegen::TfliteWarnings(info)) {
        std::cerr << "warning: " << *tflite_model_path << ": " << warning << "\n";
      }
      const std::filesystem::path out = *tflite_out;
      UNAS_RETURN_IF_ERROR(codegen::WriteFolder(
          out.has_parent_path() ? out.parent_path() : std::filesystem::path("."),
          {{out.filename().string(), *bytes}}));
      std::cout << "wrote the .tflite of " << *tflite_model_path << " to " << *tflite_out << ": "
                << bytes->size() << " bytes, " << info.operators << " operators\n";
      return absl::OkStatus();
    }();
    if (!status.ok()) {
      std::cerr << "unasctl export-tflite: " << status.message() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace unas::cli
