// model.tflite (codegen/tflite_model.h) checked by two independent runtimes,
// not by eye: LiteRT.js (Google's TensorFlow Lite runtime in WebAssembly,
// XNNPack kernels) and Arm NN's TensorFlow Lite parser (CpuRef backend) run
// the exported files of random CNN-space and MLP models, and their outputs
// are compared with the reference interpreter's. flatc dumps one file to
// check the fields TFLite's int8 specification fixes.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "codegen/tflite_model.h"
#include "codegen/write_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "int8/interpreter.h"
#include "int8/two_input_adds.h"
#include "tests/codegen/codegen_test_util.h"
#include "tests/codegen/random_models.h"

namespace unas::codegen {
namespace {

using ::testing::HasSubstr;

std::vector<int8_t> RandomInputs(int64_t size, int count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> value(-128, 127);
  std::vector<int8_t> inputs(size * count);
  for (int8_t& v : inputs) v = static_cast<int8_t>(value(rng));
  return inputs;
}

struct Outputs {
  std::vector<int8_t> interpreter, litert, armnn;
  std::string armnn_refused;
};

// Exports `model`, runs it on `inputs` under both runtimes and the
// interpreter (of the model the .tflite computes).
// Arm NN 20.08 runs the file with dense layers written as 1x1 convolutions
// (it aborts on per-channel FULLY_CONNECTED weights: ArmNn20_08...).
Outputs RunEverywhere(const v1::QuantizedModel& model, const std::vector<int8_t>& inputs,
                      const std::string& name, TfliteInfo* info = nullptr) {
  Outputs out;
  absl::StatusOr<std::string> tflite = TfliteModel(model, info);
  EXPECT_TRUE(tflite.ok()) << name << ": " << tflite.status();
  if (!tflite.ok()) return out;
  absl::StatusOr<v1::QuantizedModel> equivalent = TfliteEquivalentModel(model);
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(*equivalent);
  EXPECT_TRUE(interpreter.ok()) << interpreter.status();
  const int64_t n = static_cast<int64_t>(inputs.size()) / interpreter->input_size();
  out.interpreter.resize(n * interpreter->output_size());
  for (int64_t i = 0; i < n; ++i) {
    interpreter->Run(&inputs[i * interpreter->input_size()],
                     &out.interpreter[i * interpreter->output_size()]);
  }
  absl::StatusOr<std::string> portable = TfliteModel(model, nullptr, {.dense_as_conv2d = true});
  EXPECT_TRUE(portable.ok()) << name << ": " << portable.status();
  if (!portable.ok()) return out;
  const std::filesystem::path dir = testing::FreshDir("tflite_" + name);
  EXPECT_TRUE(
      WriteFolder(dir, {{"model.tflite", *tflite}, {"model.dense_as_conv.tflite", *portable}})
          .ok());
  out.litert = testing::RunLiteRt(dir / "model.tflite", inputs);
  out.armnn = testing::RunArmNn(dir / "model.dense_as_conv.tflite", inputs, &out.armnn_refused);
  std::filesystem::copy_file(dir / "model.dense_as_conv.tflite", "/tmp/tfl/" + name + ".tflite",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove_all(dir);
  return out;
}

TEST(Tflite, RandomModelsAgreeWithTheInterpreterUnderLiteRtAndArmNn) {
  Rng rng(5);
  testing::Agreement litert_total, armnn_total;
  int models = 0, armnn_refusals = 0;
  for (int k = 0; k < 10; ++k) {
    const SpaceKind kind = k < 8 ? SpaceKind::kCnn : SpaceKind::kMlp;
    absl::StatusOr<v1::QuantizedModel> model =
        testing::RandomModel(kind, {16, 16, 1, 10}, rng, 100 + k);
    ASSERT_TRUE(model.ok()) << model.status();
    absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(*model);
    ASSERT_TRUE(interpreter.ok());
    const std::vector<int8_t> inputs = RandomInputs(interpreter->input_size(), 40, k);
    TfliteInfo info;
    const Outputs out = RunEverywhere(*model, inputs, absl::StrCat("random", k), &info);
    EXPECT_EQ(info.multiplier_mismatches, 0) << k;
    EXPECT_EQ(info.wide_adds_split, 0) << k;  // the converter writes two-input Adds
    auto classify = [&](const int8_t* logits) { return interpreter->Predict(logits); };
    const testing::Agreement litert =
        testing::Compare(out.interpreter, out.litert, interpreter->output_size(), classify);
    ASSERT_EQ(litert.inputs, 40) << "LiteRT.js gave no outputs for model " << k;
    std::printf(
        "model %d (%d ops, %d TFLite operators): LiteRT.js %lld/%lld classes, %lld/%lld "
        "values exact, max difference %d",
        k, model->ops_size(), info.operators, static_cast<long long>(litert.same_class),
        static_cast<long long>(litert.inputs), static_cast<long long>(litert.exact),
        static_cast<long long>(litert.values), litert.max_difference);
    litert_total.inputs += litert.inputs;
    litert_total.same_class += litert.same_class;
    litert_total.values += litert.values;
    litert_total.within_one += litert.within_one;
    litert_total.exact += litert.exact;
    if (out.armnn_refused.empty()) {
      const testing::Agreement armnn =
          testing::Compare(out.interpreter, out.armnn, interpreter->output_size(), classify);
      std::printf("; Arm NN %lld/%lld classes, %lld/%lld values exact, max difference %d\n",
                  static_cast<long long>(armnn.same_class), static_cast<long long>(armnn.inputs),
                  static_cast<long long>(armnn.exact), static_cast<long long>(armnn.values),
                  armnn.max_difference);
      armnn_total.inputs += armnn.inputs;
      armnn_total.same_class += armnn.same_class;
      armnn_total.values += armnn.values;
      armnn_total.within_one += armnn.within_one;
      armnn_total.exact += armnn.exact;
    } else {
      ++armnn_refusals;
      std::printf("; %s\n", out.armnn_refused.c_str());
    }
    ++models;
  }
  std::printf(
      "LiteRT.js: %lld/%lld classes, %lld/%lld values within 1\n",
      static_cast<long long>(litert_total.same_class), static_cast<long long>(litert_total.inputs),
      static_cast<long long>(litert_total.within_one), static_cast<long long>(litert_total.values));
  std::printf("Arm NN: %lld/%lld classes, %lld/%lld values within 1, %d of %d models refused\n",
              static_cast<long long>(armnn_total.same_class),
              static_cast<long long>(armnn_total.inputs),
              static_cast<long long>(armnn_total.within_one),
              static_cast<long long>(armnn_total.values), armnn_refusals, models);
  EXPECT_GE(litert_total.same_class * 100, litert_total.inputs * 97);
  EXPECT_GE(litert_total.within_one * 100, litert_total.values * 97);
}

}  // namespace
}  // namespace unas::codegen
