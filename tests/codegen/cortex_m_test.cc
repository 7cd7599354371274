// The generated project cross-compiled for a Cortex-M4 (arm-none-eabi-gcc,
// newlib-nano) and run under QEMU's mps2-an386 with semihosting: the logits
// it prints for the embedded inputs equal the host build's and the
// interpreter's, its exit status says none differ, .bss is exactly the
// planned arena and the model's const symbols are the flash bytes the
// generator reports, all inside .rodata.
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "codegen/c_project.h"
#include "codegen/cortex_m4.h"
#include "codegen/write_files.h"
#include "gtest/gtest.h"
#include "int8/interpreter.h"
#include "tests/codegen/codegen_test_util.h"
#include "tests/codegen/random_models.h"

namespace unas::codegen {
namespace {

using testing::Capture;
using testing::Shell;

// Section sizes from `arm-none-eabi-size -A`.
std::map<std::string, int64_t> Sections(const std::filesystem::path& elf) {
  int status = 0;
  const std::string text = Capture("arm-none-eabi-size -A '" + elf.string() + "'", &status);
  std::map<std::string, int64_t> sizes;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t size = 0;
    if (fields.size() >= 2 && absl::SimpleAtoi(fields[1], &size)) sizes[fields[0]] = size;
  }
  return sizes;
}

TEST(CortexM4, QemuRunGivesTheInterpretersLogitsInThePlannedMemory) {
  for (const char* tool : {"arm-none-eabi-gcc", "qemu-system-arm"}) {
    ASSERT_EQ(Shell(absl::StrCat("command -v ", tool, " > /dev/null")), 0)
        << tool << " is missing: scripts/install-deps installs it";
  }
  Rng rng(21);
  absl::StatusOr<v1::QuantizedModel> model =
      testing::RandomModel(SpaceKind::kCnn, {16, 16, 1, 10}, rng, 31);
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(*model);
  ASSERT_TRUE(interpreter.ok());
  CProjectOptions options;
  std::mt19937 values(3);
  std::uniform_int_distribution<int> value(-128, 127);
  for (int i = 0; i < 4; ++i) {
    std::vector<int8_t>& in = options.test_inputs.emplace_back(interpreter->input_size());
    for (int8_t& v : in) v = static_cast<int8_t>(value(values));
  }
  absl::StatusOr<CProject> project = GenerateCProject(*model, options);
  ASSERT_TRUE(project.ok()) << project.status();
  const std::filesystem::path dir = testing::FreshDir("cortex_m4");
  ASSERT_TRUE(WriteFolder(dir, project->files).ok());

  std::string run;
  ASSERT_EQ(testing::RunOnQemu(dir, &run), 0)
      << "the Cortex-M4 build failed or its logits differ from the interpreter's:\n"
      << run;
  int status = 0;

  // The printed logits, input by input, against the host build.
  std::vector<int8_t> host_inputs;
  for (const auto& in : options.test_inputs)
    host_inputs.insert(host_inputs.end(), in.begin(), in.end());
  const std::vector<int8_t> host = testing::BuildAndRun(dir, "gcc", "logits", host_inputs);
  std::vector<int8_t> printed;
  for (absl::string_view line : absl::StrSplit(run, '\n')) {
    if (!absl::ConsumePrefix(&line, "logits ")) continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ':');
    ASSERT_EQ(parts.size(), 2u) << line;
    for (absl::string_view v : absl::StrSplit(parts[1], ' ', absl::SkipEmpty())) {
      int value_read = 0;
      ASSERT_TRUE(absl::SimpleAtoi(v, &value_read)) << line;
      printed.push_back(static_cast<int8_t>(value_read));
    }
  }
  EXPECT_EQ(printed, host);
  EXPECT_EQ(static_cast<int64_t>(printed.size()),
            interpreter->output_size() * static_cast<int64_t>(options.test_inputs.size()));

  // Memory: .bss is the arena; the model's const data lies in .rodata.
  const std::map<std::string, int64_t> sections = Sections(dir / "unas_cm4.elf");
  ASSERT_TRUE(sections.contains(".bss") && sections.contains(".rodata")) << run;
  EXPECT_EQ(sections.at(".bss"), project->info.arena_bytes);
  const std::string symbols =
      Capture(absl::StrCat("arm-none-eabi-nm -S '", (dir / "unas_cm4.elf").string(), "'"), &status);
  int64_t model_rodata = 0, arena_symbol = -1;
  for (absl::string_view line : absl::StrSplit(symbols, '\n')) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() != 4) continue;
    int64_t size = 0;
    if (!absl::SimpleHexAtoi(f[1], &size)) continue;
    if (f[3].starts_with("unas_op") && (f[2] == "r" || f[2] == "R")) model_rodata += size;
    if (f[3] == "unas_arena" && (f[2] == "b" || f[2] == "B")) arena_symbol = size;
  }
  EXPECT_EQ(arena_symbol, project->info.arena_bytes);
  EXPECT_EQ(model_rodata, project->info.flash_bytes);
  EXPECT_GE(sections.at(".rodata"), project->info.flash_bytes);
  std::printf("arena %lld B (PMU with input %lld B), .bss %lld B; flash %lld B, .rodata %lld B\n",
              static_cast<long long>(project->info.arena_bytes),
              static_cast<long long>(project->info.pmu_with_input_bytes),
              static_cast<long long>(sections.at(".bss")),
              static_cast<long long>(project->info.flash_bytes),
              static_cast<long long>(sections.at(".rodata")));
  std::filesystem::remove_all(dir);
}

// What a worker reports with each quantised candidate: a positive count that
// a second, separate run of the same model repeats exactly (QEMU's -icount
// clock is deterministic), and an error, not a number, for a broken model.
TEST(CortexM4, InstructionsPerInferenceAreMeasuredAndRepeatable) {
  if (!CortexM4ToolsAvailable()) GTEST_SKIP() << "arm-none-eabi-gcc or qemu-system-arm missing";
  Rng rng(5);
  absl::StatusOr<v1::QuantizedModel> model =
      testing::RandomModel(SpaceKind::kCnn, {12, 12, 1, 10}, rng, 17);
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<int64_t> first = CortexM4InstructionsPerInference(*model);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GT(*first, 1000);
  absl::StatusOr<int64_t> second = CortexM4InstructionsPerInference(*model);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*first, *second);

  v1::QuantizedModel broken = *model;
  broken.mutable_ops(0)->add_inputs("no_such_tensor");
  EXPECT_FALSE(CortexM4InstructionsPerInference(broken).ok());
}

}  // namespace
}  // namespace unas::codegen
