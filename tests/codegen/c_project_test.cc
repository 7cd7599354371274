// Generated C against the reference interpreter, without LibTorch: random
// CNN- and MLP-space architectures with random weights, quantised by the
// project's converter, generated, compiled with gcc and clang under
// -Wall -Wextra -Werror -pedantic, and run: every logit byte equals the
// interpreter's. Chains run in exactly their PMU; bad models get errors
// naming the op or tensor and write nothing.
#include "codegen/c_project.h"

#include <random>

#include "codegen/write_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "int8/interpreter.h"
#include "tests/codegen/codegen_test_util.h"
#include "tests/codegen/random_models.h"

namespace unas::codegen {
namespace {

using testing::BuildAndRun;
using testing::FreshDir;
using ::testing::HasSubstr;

std::string Message(const v1::QuantizedModel& model) {
  return std::string(GenerateCProject(model).status().message());
}

std::vector<int8_t> RandomInputs(int64_t size, int count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> value(-128, 127);
  std::vector<int8_t> inputs(size * count);
  for (int8_t& v : inputs) v = static_cast<int8_t>(value(rng));
  return inputs;
}

// Generates, writes, builds with `cc` and compares `count` random inputs.
void ExpectSameLogits(const v1::QuantizedModel& model, const std::string& name,
                      const std::string& cc, int count) {
  absl::StatusOr<CProject> project = GenerateCProject(model);
  ASSERT_TRUE(project.ok()) << project.status();
  const std::filesystem::path dir = FreshDir(name);
  ASSERT_TRUE(WriteFolder(dir, project->files).ok());
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(model);
  ASSERT_TRUE(interpreter.ok());
  const int64_t in = interpreter->input_size(), out = interpreter->output_size();
  const std::vector<int8_t> inputs = RandomInputs(in, count, 5);
  std::vector<int8_t> expected(out * count);
  for (int i = 0; i < count; ++i) interpreter->Run(&inputs[i * in], &expected[i * out]);
  const std::vector<int8_t> logits = BuildAndRun(dir, cc, "logits", inputs);
  EXPECT_EQ(logits, expected) << name;
  EXPECT_GE(project->info.arena_bytes, project->info.order_peak_bytes);
  EXPECT_GE(project->info.order_peak_bytes, project->info.pmu_with_input_bytes);
  std::filesystem::remove_all(dir);
}

TEST(CProject, RandomCnnModelsMatchTheInterpreterWithGcc) {
  Rng rng(3);
  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<v1::QuantizedModel> model = testing::RandomModel(
        SpaceKind::kCnn, {14, 14, i % 2 == 0 ? 1 : 3, i == 3 ? 2 : 10}, rng, 100 + i);
    ASSERT_TRUE(model.ok()) << model.status();
    ExpectSameLogits(*model, absl::StrCat("cnn", i), "gcc", 40);
  }
}

TEST(CProject, RandomMlpAndCnnModelsMatchTheInterpreterWithClang) {
  if (testing::Shell("command -v clang > /dev/null") != 0) {
    GTEST_SKIP() << "clang is not installed (scripts/install-deps lists it)";
  }
  Rng rng(4);
  absl::StatusOr<v1::QuantizedModel> mlp =
      testing::RandomModel(SpaceKind::kMlp, {1, 1, 40, 5}, rng, 7);
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  ExpectSameLogits(*mlp, "mlp_clang", "clang", 40);
  absl::StatusOr<v1::QuantizedModel> cnn =
      testing::RandomModel(SpaceKind::kCnn, {12, 12, 2, 3}, rng, 8);
  ASSERT_TRUE(cnn.ok()) << cnn.status();
  ExpectSameLogits(*cnn, "cnn_clang", "clang", 40);
}

TEST(CProject, RawImagesAreClassifiedAsByTheInterpreter) {
  Rng rng(5);
  absl::StatusOr<v1::QuantizedModel> model =
      testing::RandomModel(SpaceKind::kCnn, {10, 10, 1, 4}, rng, 9);
  ASSERT_TRUE(model.ok());
  absl::StatusOr<CProject> project = GenerateCProject(*model);
  ASSERT_TRUE(project.ok());
  ASSERT_TRUE(project->info.raw_image_input);
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(*model);
  const int count = 50;
  const std::vector<int8_t> images = RandomInputs(100, count, 6);
  std::vector<int8_t> expected;
  for (int i = 0; i < count; ++i) {
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(&images[i * 100]), 100);
    std::vector<int8_t> q = *interpreter->QuantizeBytes(bytes);
    std::vector<int8_t> logits(interpreter->output_size());
    interpreter->Run(q.data(), logits.data());
    expected.push_back(static_cast<int8_t>(interpreter->Predict(logits.data())));
  }
  const std::filesystem::path dir = FreshDir("classify");
  ASSERT_TRUE(WriteFolder(dir, project->files).ok());
  EXPECT_EQ(BuildAndRun(dir, "gcc", "classify", images), expected);
  std::filesystem::remove_all(dir);
}

TEST(CProject, ChainsRunInExactlyTheirPeakMemory) {
  Rng rng(6);
  int chains = 0;
  for (int i = 0; i < 200 && chains < 20; ++i) {
    absl::StatusOr<v1::QuantizedModel> model =
        testing::RandomModel(SpaceKind::kCnn, {16, 16, 1, 10}, rng, 200 + i);
    ASSERT_TRUE(model.ok());
    bool chain = true;
    for (const v1::QuantizedOp& op : model->ops())
      chain = chain && op.type() != v1::QUANTIZED_OP_TYPE_ADD;
    if (!chain) continue;
    ++chains;
    absl::StatusOr<CProject> project = GenerateCProject(*model);
    ASSERT_TRUE(project.ok());
    EXPECT_EQ(project->info.arena_bytes, project->info.pmu_with_input_bytes);
  }
  EXPECT_EQ(chains, 20);
}

TEST(CProject, BadModelsNameTheOpOrTensorAndWriteNothing) {
  Rng rng(7);
  absl::StatusOr<v1::QuantizedModel> good =
      testing::RandomModel(SpaceKind::kCnn, {10, 10, 1, 3}, rng, 10);
  ASSERT_TRUE(good.ok());
  v1::QuantizedModel truncated = *good;
  for (v1::QuantizedTensor& t : *truncated.mutable_tensors()) {
    if (!t.int8_data().empty()) {
      t.mutable_int8_data()->pop_back();
      break;
    }
  }
  EXPECT_THAT(Message(truncated), HasSubstr("weights shape or data size does not fit"));
  v1::QuantizedModel dangling = *good;
  dangling.mutable_ops(0)->set_inputs(0, "nowhere");
  EXPECT_THAT(Message(dangling), HasSubstr("\"nowhere\""));
  v1::QuantizedModel bad_shift = *good;
  bad_shift.mutable_ops(0)->set_output_shift(0, 40);
  EXPECT_THAT(Message(bad_shift), HasSubstr(absl::StrCat("ops[0] (", good->ops(0).output(), ")")));

  // In an existing folder each written entry (a subfolder as a whole)
  // replaces its namesake and the rest stays; paths outside the folder are
  // refused before anything is written.
  const std::filesystem::path dir = FreshDir("write");
  ASSERT_TRUE(WriteFolder(dir, {{"a.txt", "1"}, {"sub/b.txt", "2"}}).ok());
  ASSERT_TRUE(WriteFolder(dir, {{"c.txt", "3"}, {"sub/d.txt", "4"}}).ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "a.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "c.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir / "sub/b.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "sub/d.txt"));
  EXPECT_FALSE(WriteFolder(dir, {{"d.txt", "4"}, {"../escape.txt", "5"}}).ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "c.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir / "d.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir.parent_path() / "escape.txt"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unas::codegen
