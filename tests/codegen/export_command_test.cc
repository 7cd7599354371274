// `unasctl export` and `export-c` without a coordinator: the files of every
// format, warnings or errors for what a candidate lacks (never an empty
// weights.pt), and a bad int8 model refused with nothing written.
#include "cli/unasctl/export_command.h"

#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "codegen/write_files.h"
#include "common/proto_io/proto_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/codegen/codegen_test_util.h"
#include "tests/codegen/random_models.h"

namespace unas::cli {
namespace {

using ::testing::HasSubstr;

v1::ExportCandidateResponse Response(bool with_model, bool with_weights) {
  v1::ExportCandidateResponse r;
  r.mutable_candidate()->set_job_id(1);
  r.mutable_candidate()->set_candidate_id(3);
  r.mutable_architecture()->mutable_mlp()->add_layers()->set_units(10);
  if (with_weights) r.set_trained_weights("torch archive bytes");
  if (with_model) {
    Rng rng(1);
    absl::StatusOr<v1::QuantizedModel> model =
        codegen::testing::RandomModel(SpaceKind::kCnn, {10, 10, 1, 4}, rng, 2);
    EXPECT_TRUE(model.ok());
    *r.mutable_quantized_model() = *model;
  }
  return r;
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(Export, AllFormatsOfACompleteCandidate) {
  const v1::ExportCandidateResponse r = Response(true, true);
  std::ostringstream log;
  codegen::CProjectInfo info;
  ExportFormats all = *ParseExportFormats("all");
  all.float_onnx_tool = "/nonexistent/unas-onnx";  // TrainedNetworks.* runs the real one
  absl::StatusOr<std::map<std::string, std::string>> files =
      CandidateExportFiles(r, all, log, &info);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(log.str(),
            "warning: candidate 3 of job 1: model.onnx not written: /nonexistent/unas-onnx is not "
            "installed (it is built with the worker)\n");
  for (const char* name :
       {"architecture.textproto", "candidate.json", "weights.pt", "model.int8.textproto",
        "model.int8.pb", "model.int8.onnx", "model.tflite", "c/unas_model.c", "c/unas_kernels.c",
        "c/Makefile", "c/README.md", "c/cortex-m4/mps2_an386.ld"}) {
    EXPECT_TRUE(files->contains(name)) << name;
  }
  v1::QuantizedModel back;
  ASSERT_TRUE(back.ParseFromString(files->at("model.int8.pb")));
  EXPECT_EQ(back.SerializeAsString(), r.quantized_model().SerializeAsString());
  EXPECT_GT(info.arena_bytes, 0);
  // The TFLite file identifier, and the measured latency in the README.
  EXPECT_EQ(files->at("model.tflite").substr(4, 4), "TFL3");
  EXPECT_GT(info.cortex_m4_instructions, 0);
  EXPECT_THAT(files->at("c/README.md"),
              HasSubstr(absl::StrCat(info.cortex_m4_instructions,
                                     " Cortex-M4 instructions per inference")));

  absl::StatusOr<std::map<std::string, std::string>> only_tflite =
      CandidateExportFiles(r, *ParseExportFormats("tflite"), log);
  ASSERT_TRUE(only_tflite.ok());
  EXPECT_TRUE(only_tflite->contains("model.tflite"));
  EXPECT_FALSE(only_tflite->contains("c/unas_model.c"));

  absl::StatusOr<std::map<std::string, std::string>> only_c =
      CandidateExportFiles(r, *ParseExportFormats("c"), log);
  ASSERT_TRUE(only_c.ok());
  EXPECT_FALSE(only_c->contains("weights.pt"));
  EXPECT_FALSE(only_c->contains("model.int8.pb"));
  EXPECT_TRUE(only_c->contains("c/unas_model.h"));
  EXPECT_THAT(Message(ParseExportFormats("c,pytorch").status()), HasSubstr("\"pytorch\""));
}

TEST(Export, WhatACandidateLacksIsAWarningUnderAllAndAnErrorByName) {
  const v1::ExportCandidateResponse r = Response(false, false);
  std::ostringstream log;
  absl::StatusOr<std::map<std::string, std::string>> files =
      CandidateExportFiles(r, *ParseExportFormats("all"), log);
  ASSERT_TRUE(files.ok());
  EXPECT_FALSE(files->contains("weights.pt"));
  EXPECT_FALSE(files->contains("c/unas_model.c"));
  EXPECT_THAT(log.str(), HasSubstr("warning: candidate 3 of job 1 has no stored trained weights"));
  EXPECT_THAT(log.str(), HasSubstr("has no stored int8 model"));
  absl::StatusOr<std::map<std::string, std::string>> torch =
      CandidateExportFiles(r, *ParseExportFormats("torch"), log);
  EXPECT_EQ(torch.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(CandidateExportFiles(r, *ParseExportFormats("int8"), log).status()),
              HasSubstr("no stored int8 model"));
  EXPECT_THAT(Message(CandidateExportFiles(r, *ParseExportFormats("tflite"), log).status()),
              HasSubstr("no stored int8 model"));

  // Written: no empty weights.pt.
  const std::filesystem::path dir = codegen::testing::FreshDir("export_lacking");
  std::ostringstream out;
  ASSERT_TRUE(WriteCandidateExport(r, dir.string(), "all", out, out).ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "architecture.textproto"));
  EXPECT_FALSE(std::filesystem::exists(dir / "weights.pt"));
  std::filesystem::remove_all(dir);
}

TEST(Export, ABadInt8ModelIsRefusedAndNothingIsWritten) {
  v1::ExportCandidateResponse r = Response(true, true);
  r.mutable_quantized_model()->mutable_ops(1)->clear_output_multiplier();
  const std::filesystem::path dir = codegen::testing::FreshDir("export_bad");
  std::ostringstream out;
  const absl::Status status = WriteCandidateExport(r, dir.string(), "all", out, out);
  EXPECT_THAT(Message(status), HasSubstr("candidate 3 of job 1: quantized_model.ops[1]"));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

// The summary line names model.tflite and the Cortex-M4 latency.
TEST(Export, TheSummaryReportsTheTfliteFileAndTheLatency) {
  const v1::ExportCandidateResponse r = Response(true, false);
  const std::filesystem::path dir = codegen::testing::FreshDir("export_summary");
  std::ostringstream out, log;
  codegen::CProjectInfo info;
  ASSERT_TRUE(WriteCandidateExport(r, dir.string(), "c,tflite", out, log, &info).ok());
  EXPECT_THAT(out.str(), HasSubstr("model.tflite ("));
  EXPECT_THAT(out.str(), HasSubstr(absl::StrCat(info.cortex_m4_instructions,
                                                " Cortex-M4 instructions per inference")));
  EXPECT_TRUE(std::filesystem::exists(dir / "model.tflite"));
  std::filesystem::remove_all(dir);
}

// An older model with a three-input Add: model.tflite computes it as a chain,
// and the export says so.
TEST(Export, AWideAddIsWrittenAsAChainWithAWarning) {
  v1::ExportCandidateResponse r = Response(false, false);
  // Two branches joined with the block input: a three-input Add in the plan,
  // which the converter now splits; merged back here as a model stored
  // before that would have it.
  Rng rng(4);
  v1::QuantizedModel model;
  for (uint32_t seed = 1; seed < 200 && model.ops_size() == 0; ++seed) {
    absl::StatusOr<v1::QuantizedModel> m =
        codegen::testing::RandomModel(SpaceKind::kCnn, {12, 12, 1, 4}, rng, seed);
    if (!m.ok()) continue;
    for (int i = 0; i + 1 < m->ops_size(); ++i) {
      const v1::QuantizedOp& a = m->ops(i);
      const v1::QuantizedOp& b = m->ops(i + 1);
      if (a.type() == v1::QUANTIZED_OP_TYPE_ADD && b.type() == v1::QUANTIZED_OP_TYPE_ADD &&
          b.inputs(0) == a.output()) {
        model = *m;
        v1::QuantizedOp merged = b;
        merged.clear_inputs();
        merged.add_inputs(a.inputs(0));
        merged.add_inputs(a.inputs(1));
        merged.add_inputs(b.inputs(1));
        merged.clear_input_multiplier();
        merged.clear_input_shift();
        for (int k = 0; k < 3; ++k) {
          merged.add_input_multiplier(1 << 30);
          merged.add_input_shift(-1);
        }
        *model.mutable_ops(i + 1) = merged;
        model.mutable_ops()->DeleteSubrange(i, 1);
        break;
      }
    }
  }
  ASSERT_GT(model.ops_size(), 0) << "no random model had a split Add";
  *r.mutable_quantized_model() = model;
  std::ostringstream log;
  absl::StatusOr<std::map<std::string, std::string>> files =
      CandidateExportFiles(r, *ParseExportFormats("tflite"), log);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(log.str(), HasSubstr("1 Add(s) of more than two inputs"));
}

TEST(ExportC, OfflineFromBinaryAndTextModelFiles) {
  const v1::ExportCandidateResponse r = Response(true, false);
  const std::filesystem::path dir = codegen::testing::FreshDir("export_c");
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(
      codegen::WriteFolder(dir, {{"model.pb", r.quantized_model().SerializeAsString()}}).ok());
  ASSERT_TRUE(WriteProtoFile((dir / "model.textproto").string(), r.quantized_model()).ok());
  for (const char* name : {"model.pb", "model.textproto"}) {
    CLI::App app;
    int exit_code = 0;
    AddExportCCommand(app, &exit_code);
    const std::string out = (dir / (std::string(name) + ".c")).string();
    app.parse(
        std::vector<std::string>{out, "-o", (dir / name).string(), "--int8-model", "export-c"});
    EXPECT_EQ(exit_code, 0) << name;
    EXPECT_TRUE(std::filesystem::exists(out + "/unas_model.c")) << name;
    EXPECT_EQ(codegen::testing::Shell("make -s -C '" + out + "' host > /dev/null 2>&1"), 0);
  }
  // A corrupt file: an error naming it, nothing written.
  ASSERT_TRUE(codegen::WriteFolder(dir, {{"broken.pb", "\x0a\xff\xff"}}).ok());
  CLI::App app;
  int exit_code = 0;
  AddExportCCommand(app, &exit_code);
  app.parse(std::vector<std::string>{(dir / "broken_c").string(), "-o",
                                     (dir / "broken.pb").string(), "--int8-model", "export-c"});
  EXPECT_EQ(exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir / "broken_c"));

  // export-tflite from the same binary file.
  CLI::App tflite;
  exit_code = 0;
  AddExportCCommand(tflite, &exit_code);
  tflite.parse(std::vector<std::string>{(dir / "model.tflite").string(), "-o",
                                        (dir / "model.pb").string(), "--int8-model",
                                        "export-tflite"});
  EXPECT_EQ(exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(dir / "model.tflite"));
  CLI::App portable;
  AddExportCCommand(portable, &exit_code);
  portable.parse(std::vector<std::string>{"--dense-as-conv2d", (dir / "conv.tflite").string(), "-o",
                                          (dir / "model.pb").string(), "--int8-model",
                                          "export-tflite"});
  EXPECT_EQ(exit_code, 0);
  ASSERT_TRUE(std::filesystem::exists(dir / "conv.tflite"));
  // The same network with two more RESHAPEs and no FULLY_CONNECTED: a different file.
  EXPECT_NE(std::filesystem::file_size(dir / "conv.tflite"),
            std::filesystem::file_size(dir / "model.tflite"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unas::cli
