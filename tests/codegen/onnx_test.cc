// model.int8.onnx (QDQ, opset 13) of random CNN- and MLP-space models with
// random weights: onnx.checker accepts it, ONNX Runtime runs it, and its
// int8 logits stay within a few quantisation steps of the interpreter's
// (ONNX Runtime computes the operators in float between the quantisers, and
// rounds ties to even where TFLite rounds them away from zero).
#include <algorithm>
#include <cstdlib>
#include <random>

#include "codegen/onnx_int8.h"
#include "codegen/write_files.h"
#include "gtest/gtest.h"
#include "int8/interpreter.h"
#include "tests/codegen/codegen_test_util.h"
#include "tests/codegen/random_models.h"

namespace unas::codegen {
namespace {

TEST(Int8Onnx, CheckerAcceptsAndOnnxRuntimeFollowsTheInterpreter) {
  Rng rng(9);
  const std::vector<std::pair<SpaceKind, DataShape>> cases = {{SpaceKind::kCnn, {14, 14, 1, 10}},
                                                              {SpaceKind::kCnn, {14, 14, 1, 10}},
                                                              {SpaceKind::kCnn, {12, 12, 3, 10}},
                                                              {SpaceKind::kCnn, {14, 14, 1, 2}},
                                                              {SpaceKind::kMlp, {1, 1, 30, 5}}};
  int64_t agree = 0, total = 0, max_step = 0;
  for (size_t k = 0; k < cases.size(); ++k) {
    absl::StatusOr<v1::QuantizedModel> model =
        testing::RandomModel(cases[k].first, cases[k].second, rng, 40 + k);
    ASSERT_TRUE(model.ok()) << model.status();
    absl::StatusOr<std::string> onnx = Int8OnnxModel(*model);
    ASSERT_TRUE(onnx.ok()) << onnx.status();
    const std::filesystem::path dir = testing::FreshDir(absl::StrCat("onnx", k));
    ASSERT_TRUE(WriteFolder(dir, {{"model.int8.onnx", *onnx}}).ok());
    EXPECT_EQ(testing::OnnxCheckerProblem(dir / "model.int8.onnx"), "") << k;

    absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(*model);
    ASSERT_TRUE(interpreter.ok());
    const int64_t in = interpreter->input_size(), out = interpreter->output_size();
    const int count = 100;
    std::mt19937 values(k);
    std::uniform_int_distribution<int> value(-128, 127);
    std::vector<int8_t> inputs(in * count);
    for (int8_t& v : inputs) v = static_cast<int8_t>(value(values));
    std::string shape = "[1";
    for (int d = 1; d < model->tensors(interpreter->FindTensor(model->input())).shape_size(); ++d) {
      absl::StrAppend(&shape, ",",
                      model->tensors(interpreter->FindTensor(model->input())).shape(d));
    }
    shape += "]";
    const std::vector<int8_t> ort = testing::RunOnnxRuntime(dir / "model.int8.onnx", inputs, shape);
    ASSERT_EQ(static_cast<int64_t>(ort.size()), out * count) << k;
    for (int i = 0; i < count; ++i) {
      std::vector<int8_t> logits(out);
      interpreter->Run(&inputs[i * in], logits.data());
      for (int64_t c = 0; c < out; ++c) {
        max_step = std::max<int64_t>(max_step, std::abs(logits[c] - ort[i * out + c]));
      }
      agree += interpreter->Predict(logits.data()) == interpreter->Predict(&ort[i * out]) ? 1 : 0;
      ++total;
    }
    std::filesystem::remove_all(dir);
  }
  std::printf(
      "ONNX Runtime vs interpreter: %lld of %lld classes agree, logits differ by at most "
      "%lld steps\n",
      static_cast<long long>(agree), static_cast<long long>(total),
      static_cast<long long>(max_step));
  // Measured: 493 of 500 agree, at most 2 steps apart.
  EXPECT_GE(agree, total * 97 / 100);
  EXPECT_LE(max_step, 3);
}

TEST(Int8Onnx, ABadModelIsRefusedNamingTheOp) {
  Rng rng(10);
  absl::StatusOr<v1::QuantizedModel> model =
      testing::RandomModel(SpaceKind::kCnn, {10, 10, 1, 3}, rng, 3);
  ASSERT_TRUE(model.ok());
  model->mutable_ops(0)->set_kernel_height(0);
  EXPECT_NE(std::string(Int8OnnxModel(*model).status().message()).find("ops[0]"),
            std::string::npos);
}

}  // namespace
}  // namespace unas::codegen
