// The deploy tests catch bugs: a debug build that poisons every buffer after
// its last use still gives the interpreter's logits, and bugs planted in a
// generated project (a flipped rounding, a zero point off by one, a buffer
// moved by one byte onto its neighbour, a wrong DSP byte extraction) make
// the host or the Cortex-M4 comparison fail. A comparison that passed on
// these would be a comparison that checks nothing.
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "codegen/c_project.h"
#include "codegen/cortex_m4.h"
#include "codegen/write_files.h"
#include "gtest/gtest.h"
#include "int8/interpreter.h"
#include "tests/codegen/codegen_test_util.h"
#include "tests/codegen/random_models.h"

namespace unas::codegen {
namespace {

struct Subject {
  v1::QuantizedModel model;
  CProject project;
  std::vector<int8_t> inputs;    // all inputs, one after another
  std::vector<int8_t> expected;  // the interpreter's logits of each
};

// A random branched CNN (an Add, so buffers share the arena in several
// ways) with `count` random inputs embedded in its Cortex-M4 program.
Subject MakeSubject(uint32_t seed, int count) {
  Subject s;
  Rng rng(seed);
  for (;;) {
    absl::StatusOr<v1::QuantizedModel> model =
        testing::RandomModel(SpaceKind::kCnn, {16, 16, 1, 10}, rng, seed);
    EXPECT_TRUE(model.ok()) << model.status();
    if (!model.ok()) return s;
    bool has_add = false;
    for (const auto& op : model->ops()) has_add |= op.type() == v1::QUANTIZED_OP_TYPE_ADD;
    if (!has_add) continue;
    s.model = *model;
    break;
  }
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(s.model);
  EXPECT_TRUE(interpreter.ok());
  CProjectOptions options;
  std::mt19937 values(seed);
  std::uniform_int_distribution<int> value(-128, 127);
  for (int i = 0; i < count; ++i) {
    std::vector<int8_t>& in = options.test_inputs.emplace_back(interpreter->input_size());
    for (int8_t& v : in) v = static_cast<int8_t>(value(values));
    s.inputs.insert(s.inputs.end(), in.begin(), in.end());
    std::vector<int8_t> logits(interpreter->output_size());
    interpreter->Run(in.data(), logits.data());
    s.expected.insert(s.expected.end(), logits.begin(), logits.end());
  }
  absl::StatusOr<CProject> project = GenerateCProject(s.model, options);
  EXPECT_TRUE(project.ok()) << project.status();
  if (project.ok()) s.project = *std::move(project);
  return s;
}

// `files` with `from` replaced by `to` in file `path` (which must contain it).
std::map<std::string, std::string> Plant(std::map<std::string, std::string> files,
                                         const std::string& path, const std::string& from,
                                         const std::string& to) {
  EXPECT_NE(files[path].find(from), std::string::npos) << path << " has no \"" << from << "\"";
  files[path] = absl::StrReplaceAll(files[path], {{from, to}});
  return files;
}

// Host build (with `make_args`) of `files`: its logits on the subject's inputs.
std::vector<int8_t> HostLogits(const Subject& s, const std::map<std::string, std::string>& files,
                               const std::string& name, const std::string& make_args = "") {
  const std::filesystem::path dir = testing::FreshDir(name);
  EXPECT_TRUE(WriteFolder(dir, files).ok());
  std::vector<int8_t> logits = testing::BuildAndRun(dir, "gcc", "logits", s.inputs, make_args);
  std::filesystem::remove_all(dir);
  return logits;
}

TEST(Poison, PoisonedDebugBuildsGiveTheInterpretersLogits) {
  for (uint32_t seed : {3u, 8u, 13u, 21u}) {
    const Subject s = MakeSubject(seed, 20);
    ASSERT_FALSE(s.project.files.empty());
    EXPECT_NE(s.project.files.at("unas_model.c").find("UNAS_POISON_BUFFER("), std::string::npos);
    EXPECT_EQ(
        HostLogits(s, s.project.files, absl::StrCat("poison", seed), "EXTRA_CFLAGS=-DUNAS_POISON"),
        s.expected)
        << "seed " << seed;
  }
}

TEST(PlantedBugs, AFlippedRoundingIsCaughtOnTheHostAndOnTheCortexM4) {
  const Subject s = MakeSubject(5, 20);
  ASSERT_EQ(HostLogits(s, s.project.files, "rounding_ok"), s.expected);
  // Ties of the rounding division by a power of two go toward zero instead.
  const auto bug = Plant(s.project.files, "unas_kernels.c", "(remainder > threshold ? 1 : 0)",
                         "(remainder >= threshold ? 1 : 0)");
  EXPECT_NE(HostLogits(s, bug, "rounding_bug"), s.expected);
  const std::filesystem::path dir = testing::FreshDir("rounding_bug_cm4");
  ASSERT_TRUE(WriteFolder(dir, bug).ok());
  absl::StatusOr<CortexM4Run> run = RunCortexM4(dir);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_GT(run->differing, 0) << run->printed;
  std::filesystem::remove_all(dir);
}

TEST(PlantedBugs, AZeroPointOffByOneIsCaught) {
  const Subject s = MakeSubject(6, 20);
  const auto bug =
      Plant(s.project.files, "unas_kernels.c",
            "return (int8_t)((v < lo ? lo : (v > hi ? hi : v)) + p->output_offset);",
            "return (int8_t)((v < lo ? lo : (v > hi ? hi : v)) + p->output_offset + 1);");
  EXPECT_NE(HostLogits(s, bug, "offset_bug"), s.expected);
}

TEST(PlantedBugs, AWrongDspByteExtractionIsCaughtOnTheCortexM4) {
  const Subject s = MakeSubject(7, 10);
  // Bytes 2 and 3 instead of 1 and 3: only the Cortex-M4 build runs this path.
  const auto bug =
      Plant(s.project.files, "unas_kernels.c", "sxtb16 %0, %1, ror #8", "sxtb16 %0, %1, ror #16");
  ASSERT_EQ(HostLogits(s, bug, "dsp_bug_host"), s.expected);  // the portable path is intact
  const std::filesystem::path dir = testing::FreshDir("dsp_bug");
  ASSERT_TRUE(WriteFolder(dir, bug).ok());
  absl::StatusOr<CortexM4Run> run = RunCortexM4(dir);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->differing, run->inputs) << run->printed;
  std::filesystem::remove_all(dir);
}

// A buffer moved one byte down onto a neighbour that is live at the same
// time: the poisoned build (and so the tests that run it) sees the overlap
// even when the plain build happens to survive it.
TEST(PlantedBugs, ABufferMovedOntoItsNeighbourIsCaughtByThePoisonedBuild) {
  int caught = 0, tried = 0, plain_caught = 0;
  for (uint32_t seed : {3u, 8u, 13u, 21u, 34u}) {
    const Subject s = MakeSubject(seed, 20);
    const MemoryPlan& plan = s.project.plan;
    // Buffers a, b with b right after a in memory and lifetimes that overlap.
    const ArenaBuffer* moved = nullptr;
    for (const ArenaBuffer& a : plan.buffers) {
      for (const ArenaBuffer& b : plan.buffers) {
        if (b.offset == a.offset + a.size && a.first_step <= b.last_step &&
            b.first_step <= a.last_step) {
          moved = &b;
        }
      }
    }
    if (moved == nullptr) continue;
    ++tried;
    // Every use of the moved buffer's offset: its producer, readers and
    // poisoning (and any buffer sharing the offset at other times, which
    // moves too).
    auto bug = s.project.files;
    const std::string before = bug["unas_model.c"];
    for (const auto& [prefix, pattern] : std::vector<std::pair<std::string, std::string>>{
             {"unas_arena + ", "unas_arena \\+ "},
             {"unas_arena[", "unas_arena\\["},
             {"UNAS_POISON_BUFFER(", "UNAS_POISON_BUFFER\\("}}) {
      bug["unas_model.c"] = std::regex_replace(
          bug["unas_model.c"], std::regex(absl::StrCat(pattern, moved->offset, "(?![0-9])")),
          absl::StrCat(prefix, moved->offset - 1));
    }
    ASSERT_NE(bug["unas_model.c"], before);
    const std::vector<int8_t> poisoned =
        HostLogits(s, bug, absl::StrCat("moved", seed), "EXTRA_CFLAGS=-DUNAS_POISON");
    caught += poisoned != s.expected ? 1 : 0;
    plain_caught += HostLogits(s, bug, absl::StrCat("moved_plain", seed)) != s.expected ? 1 : 0;
  }
  std::printf(
      "buffer moved by one byte in %d models: the poisoned build caught %d, the plain "
      "build %d\n",
      tried, caught, plain_caught);
  ASSERT_GT(tried, 0) << "no random model had adjacent buffers with overlapping lifetimes";
  EXPECT_EQ(caught, tried);
}

}  // namespace
}  // namespace unas::codegen
