// The int8 arithmetic and the integer-only interpreter without LibTorch:
// fixed-point helpers on hand-computed cases (rounding and saturation edges),
// quantisation parameters, small hand-built models whose outputs are worked
// out by hand, model validation, and the proto round trip of a converted
// network.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "int8/converter.h"
#include "int8/fixed_point.h"
#include "int8/interpreter.h"

namespace unas::int8 {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kHalf = int32_t{1} << 30;  // 0.5 as a multiplier

// --- Fixed point --------------------------------------------------------------------------

TEST(FixedPoint, SaturatingRoundingDoublingHighMul) {
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kHalf, kHalf), 1 << 29);  // 2^60 / 2^31
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin, kMin), kMax);       // the one overflow
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin, kMax), -kMax);      // exact
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMax, kMax), kMax - 1);   // 2147483646.0000000005
  // Ties (x.5) go toward +infinity.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1, kHalf), 1);    // 0.5
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-1, kHalf), 0);   // -0.5
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(3, kHalf), 2);    // 1.5
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-3, kHalf), -1);  // -1.5
  // Just below and above a half.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1, kHalf - 1), 0);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(-1, kHalf + 1), -1);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(0, kMax), 0);
}

TEST(FixedPoint, RoundingDivideByPOTRoundsHalfAwayFromZero) {
  EXPECT_EQ(RoundingDivideByPOT(5, 1), 3);    // 2.5
  EXPECT_EQ(RoundingDivideByPOT(-5, 1), -3);  // -2.5
  EXPECT_EQ(RoundingDivideByPOT(4, 1), 2);
  EXPECT_EQ(RoundingDivideByPOT(7, 2), 2);    // 1.75
  EXPECT_EQ(RoundingDivideByPOT(6, 2), 2);    // 1.5
  EXPECT_EQ(RoundingDivideByPOT(-6, 2), -2);  // -1.5
  EXPECT_EQ(RoundingDivideByPOT(5, 2), 1);    // 1.25
  EXPECT_EQ(RoundingDivideByPOT(-5, 2), -1);  // -1.25
  EXPECT_EQ(RoundingDivideByPOT(-7, 2), -2);  // -1.75
  EXPECT_EQ(RoundingDivideByPOT(123, 0), 123);
  EXPECT_EQ(RoundingDivideByPOT(kMax, 31), 1);       // 0.99999999953
  EXPECT_EQ(RoundingDivideByPOT(kMin, 31), -1);      // exactly -1
  EXPECT_EQ(RoundingDivideByPOT(-kHalf, 31), -1);    // -0.5
  EXPECT_EQ(RoundingDivideByPOT(kHalf - 1, 31), 0);  // just below 0.5
}

TEST(FixedPoint, MultiplyByQuantizedMultiplier) {
  EXPECT_EQ(MultiplyByQuantizedMultiplier(3, kHalf, 0), 2);   // 1.5 -> 2
  EXPECT_EQ(MultiplyByQuantizedMultiplier(3, kHalf, -1), 1);  // 0.75: 2 then 2/2
  EXPECT_EQ(MultiplyByQuantizedMultiplier(3, kHalf, 2), 6);   // 3 * 0.5 * 4
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-3, kHalf, 2), -6);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1000, 1610612736, -3), 94);  // 1000 * 0.75 / 8 = 93.75
  // A positive shift that overflows int32 saturates before the multiply.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(kHalf, kHalf, 2), 1073741824);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-kHalf, kHalf, 2), kMin / 2);
  // Two roundings, as in TFLite: (2^31 - 1) / 2 -> 2^30, then 2^30 / 2^31 = 0.5 -> 1.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(kMax, kHalf, -31), 1);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(kMax, kHalf, -30), 1);  // 2^30 / 2^30
}

TEST(FixedPoint, QuantizeMultiplier) {
  auto q = [](double real) {
    QuantizedMultiplier m = QuantizeMultiplier(real);
    return std::pair<int32_t, int>(m.multiplier, m.shift);
  };
  EXPECT_EQ(q(0.5), std::make_pair(kHalf, 0));
  EXPECT_EQ(q(1.0), std::make_pair(kHalf, 1));
  EXPECT_EQ(q(0.75), std::make_pair(1610612736, 0));
  EXPECT_EQ(q(0.25), std::make_pair(kHalf, -1));
  EXPECT_EQ(q(std::ldexp(1.0, -20)), std::make_pair(kHalf, -19));
  // A mantissa that rounds up to 1.0 is renormalised.
  EXPECT_EQ(q(1.0 - std::ldexp(1.0, -40)), std::make_pair(kHalf, 1));
  EXPECT_EQ(q(0.0), std::make_pair(0, 0));
  EXPECT_EQ(q(1e-12), std::make_pair(0, 0));  // below 2^-32: zero
  EXPECT_EQ(q(std::ldexp(1.0, 40)), std::make_pair(kMax, 30));
  // Round trip: the multiplier represents the real value to 2^-31 relative.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> log_scale(-20, 10);
  for (int i = 0; i < 1000; ++i) {
    const double real = std::exp2(log_scale(rng));
    const QuantizedMultiplier m = QuantizeMultiplier(real);
    ASSERT_GE(m.multiplier, kHalf);
    const double back = std::ldexp(m.multiplier / 2147483648.0, m.shift);
    ASSERT_NEAR(back / real, 1.0, 1e-9) << real;
  }
}

TEST(FixedPoint, ActivationParamsIncludeZero) {
  AffineParams p = ChooseActivationParams(0.0f, 2.55f);
  EXPECT_FLOAT_EQ(p.scale, 0.01f);
  EXPECT_EQ(p.zero_point, -128);
  p = ChooseActivationParams(-1.28f, 1.27f);
  EXPECT_FLOAT_EQ(p.scale, 0.01f);
  EXPECT_EQ(p.zero_point, 0);
  p = ChooseActivationParams(1.0f, 2.0f);  // widened to [0, 2]
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 255);
  EXPECT_EQ(p.zero_point, -128);
  p = ChooseActivationParams(-2.0f, -1.0f);  // widened to [-2, 0]
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 255);
  EXPECT_EQ(p.zero_point, 127);
  p = ChooseActivationParams(-0.5f, 1.0f);  // -128 + 0.5 / (1.5 / 255) = -43
  EXPECT_EQ(p.zero_point, -43);
  p = ChooseActivationParams(0.0f, 0.0f);
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, 0);
  // Real zero is exact for any range.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-5, 5);
  for (int i = 0; i < 200; ++i) {
    float a = u(rng), b = u(rng);
    p = ChooseActivationParams(std::min(a, b), std::max(a, b));
    EXPECT_EQ(QuantizeValue(0.0, p.scale, p.zero_point, -128, 127), p.zero_point);
  }
}

TEST(FixedPoint, WeightsAndClamps) {
  EXPECT_FLOAT_EQ(SymmetricWeightScale(2.54f), 0.02f);
  EXPECT_EQ(SymmetricWeightScale(0.0f), 1.0f);
  EXPECT_EQ(QuantizeValue(2.54, 0.02, 0, -127, 127), 127);
  EXPECT_EQ(QuantizeValue(-2.54, 0.02, 0, -127, 127), -127);  // never -128
  EXPECT_EQ(QuantizeValue(-9.0, 0.02, 0, -127, 127), -127);
  EXPECT_EQ(QuantizeValue(0.05, 0.02, 0, -127, 127), 3);  // 2.5 -> 3 (away from zero)
  EXPECT_EQ(QuantizeValue(-0.05, 0.02, 0, -127, 127), -3);
  EXPECT_EQ(QuantizeValue(std::nan(""), 1.0, 0, -128, 127), -128);
  EXPECT_EQ(FusedActivationRange(false, -5).min, -128);
  EXPECT_EQ(FusedActivationRange(true, -5).min, -5);
  EXPECT_EQ(FusedActivationRange(true, -128).min, -128);
  EXPECT_EQ(FusedActivationRange(true, 3).max, 127);
}

// --- Hand-built models ----------------------------------------------------------------------

v1::QuantizedModel Parse(const std::string& text) {
  v1::QuantizedModel model;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &model)) << text;
  return model;
}

Interpreter Make(const v1::QuantizedModel& model) {
  absl::StatusOr<Interpreter> interpreter = Interpreter::Create(model);
  EXPECT_TRUE(interpreter.ok()) << interpreter.status();
  return *std::move(interpreter);
}

std::vector<int8_t> Tensor(const Interpreter& interpreter, const std::vector<int8_t>& input,
                           const std::string& name) {
  const int t = interpreter.FindTensor(name);
  EXPECT_GE(t, 0) << name;
  return interpreter.RunKeepingTensors(input.data())[t];
}

// 2x2x1 raw image -> 1x1 conv (w = 2, multiplier 0.5, output zero point
// -10), with and without fused ReLU.
constexpr char kConvModel[] = R"pb(
  input: "input"
  output: "relu"
  tensors {
    name: "input"
    shape: [ 1, 2, 2, 1 ]
    scale: 0.00392157
    zero_point: -128
  }
  tensors {
    name: "conv"
    shape: [ 1, 2, 2, 1 ]
    scale: 1
    zero_point: -10
  }
  tensors {
    name: "relu"
    shape: [ 1, 2, 2, 1 ]
    scale: 1
    zero_point: -10
  }
  tensors {
    name: "w"
    shape: [ 1, 1, 1, 1 ]
    scale: 1
    zero_point: 0
    int8_data: "\002"
  }
  tensors {
    name: "b"
    shape: [ 1 ]
    scale: 1
    zero_point: 0
    int32_data: -20
  }
  ops {
    type: QUANTIZED_OP_TYPE_CONV2D
    inputs: [ "input", "w", "b" ]
    output: "conv"
    kernel_height: 1
    kernel_width: 1
    stride_height: 1
    stride_width: 1
    output_multiplier: 1073741824
    output_shift: 0
    activation_min: -128
    activation_max: 127
  }
  ops {
    type: QUANTIZED_OP_TYPE_CONV2D
    inputs: [ "input", "w", "b" ]
    output: "relu"
    kernel_height: 1
    kernel_width: 1
    stride_height: 1
    stride_width: 1
    fused_relu: true
    output_multiplier: 1073741824
    output_shift: 0
    activation_min: -10
    activation_max: 127
  })pb";

TEST(Interpreter, ConvRequantisesAndClampsByHand) {
  const Interpreter interpreter = Make(Parse(kConvModel));
  const std::vector<uint8_t> image = {0, 1, 2, 255};
  absl::StatusOr<std::vector<int8_t>> input = interpreter.QuantizeBytes(image);
  ASSERT_TRUE(input.ok());
  EXPECT_THAT(*input, ElementsAre(-128, -127, -126, 127));
  // acc = 2 * (q + 128) - 20 = -20, -18, -16, 490; * 0.5 = -10, -9, -8, 245; + (-10).
  EXPECT_THAT(Tensor(interpreter, *input, "conv"), ElementsAre(-20, -19, -18, 127));
  EXPECT_THAT(Tensor(interpreter, *input, "relu"), ElementsAre(-10, -10, -10, 127));
  std::vector<int8_t> logits(4);
  interpreter.Run(input->data(), logits.data());
  EXPECT_THAT(logits, ElementsAre(-10, -10, -10, 127));
  EXPECT_EQ(interpreter.Predict(logits.data()), 3);
}

// 2x2x3 -> 2x2 average and max pooling.
constexpr char kPoolModel[] = R"pb(
  input: "input"
  output: "avg"
  tensors {
    name: "input"
    shape: [ 1, 2, 2, 3 ]
    scale: 0.1
    zero_point: 0
  }
  tensors {
    name: "avg"
    shape: [ 1, 1, 1, 3 ]
    scale: 0.1
    zero_point: 0
  }
  tensors {
    name: "max"
    shape: [ 1, 1, 1, 3 ]
    scale: 0.1
    zero_point: 0
  }
  ops {
    type: QUANTIZED_OP_TYPE_AVG_POOL
    inputs: "input"
    output: "avg"
    kernel_height: 2
    kernel_width: 2
    stride_height: 2
    stride_width: 2
    activation_min: -128
    activation_max: 127
  }
  ops {
    type: QUANTIZED_OP_TYPE_MAX_POOL
    inputs: "input"
    output: "max"
    kernel_height: 2
    kernel_width: 2
    stride_height: 2
    stride_width: 2
    activation_min: -128
    activation_max: 127
  })pb";

TEST(Interpreter, PoolsRoundLikeTflite) {
  const Interpreter interpreter = Make(Parse(kPoolModel));
  // Channel 0: 1, 1, 0, 0 (sum 2: 0.5 -> 1); channel 1: -1, -1, 0, 0 (-0.5 -> -1);
  // channel 2: 3, 0, 0, -128 (-125 / 4 = -31.25 -> -31).
  const std::vector<int8_t> input = {1, -1, 3, 1, -1, 0, 0, 0, 0, 0, 0, -128};
  EXPECT_THAT(Tensor(interpreter, input, "avg"), ElementsAre(1, -1, -31));
  EXPECT_THAT(Tensor(interpreter, input, "max"), ElementsAre(1, 0, 3));
  // Not a raw-byte model: its input takes quantised reals.
  EXPECT_FALSE(interpreter.QuantizeBytes(std::vector<uint8_t>(12)).ok());
  EXPECT_THAT(interpreter.QuantizeReals(std::vector<float>{0.04f, 0.05f, -0.05f, 100.0f}),
              ElementsAre(0, 1, -1, 127));
}

// input I (2x2x2, scale 0.5) + P = max pool of I (1x1x2) + C = 1x1 conv of
// I summing its channels (2x2x1), into a 2x2x2 output of scale 1, zero point
// 3: P is padded spatially, C along channels, with real zeros. A dense
// layer reads I flattened in NHWC order.
constexpr char kAddModel[] = R"pb(
  input: "input"
  output: "add"
  tensors {
    name: "input"
    shape: [ 1, 2, 2, 2 ]
    scale: 0.5
    zero_point: 0
  }
  tensors {
    name: "pool"
    shape: [ 1, 1, 1, 2 ]
    scale: 0.5
    zero_point: 0
  }
  tensors {
    name: "conv"
    shape: [ 1, 2, 2, 1 ]
    scale: 0.5
    zero_point: 0
  }
  tensors {
    name: "add"
    shape: [ 1, 2, 2, 2 ]
    scale: 1
    zero_point: 3
  }
  tensors {
    name: "dense"
    shape: [ 1, 2 ]
    scale: 0.5
    zero_point: -1
  }
  tensors {
    name: "cw"
    shape: [ 1, 1, 1, 2 ]
    scale: 1
    zero_point: 0
    int8_data: "\001\001"
  }
  tensors {
    name: "cb"
    shape: [ 1 ]
    scale: 0.5
    zero_point: 0
    int32_data: 0
  }
  tensors {
    name: "dw"
    shape: [ 2, 8 ]
    scale: [ 1, 1 ]
    zero_point: [ 0, 0 ]
    int8_data: "\000\000\000\000\000\001\000\000\001\001\001\001\001\001\001\001"
  }
  tensors {
    name: "db"
    shape: [ 2 ]
    scale: [ 0.5, 0.5 ]
    zero_point: [ 0, 0 ]
    int32_data: [ 0, 0 ]
  }
  ops {
    type: QUANTIZED_OP_TYPE_MAX_POOL
    inputs: "input"
    output: "pool"
    kernel_height: 2
    kernel_width: 2
    stride_height: 2
    stride_width: 2
    activation_min: -128
    activation_max: 127
  }
  ops {
    type: QUANTIZED_OP_TYPE_CONV2D
    inputs: [ "input", "cw", "cb" ]
    output: "conv"
    kernel_height: 1
    kernel_width: 1
    stride_height: 1
    stride_width: 1
    output_multiplier: 1073741824
    output_shift: 1
    activation_min: -128
    activation_max: 127
  }
  ops {
    type: QUANTIZED_OP_TYPE_ADD
    inputs: [ "input", "pool", "conv" ]
    output: "add"
    output_multiplier: 1073741824
    output_shift: -19
    input_multiplier: [ 1073741824, 1073741824, 1073741824 ]
    input_shift: [ 0, 0, 0 ]
    input_left_shift: 20
    activation_min: -128
    activation_max: 127
  }
  ops {
    type: QUANTIZED_OP_TYPE_FULLY_CONNECTED
    inputs: [ "input", "dw", "db" ]
    output: "dense"
    output_multiplier: [ 1073741824, 1073741824 ]
    output_shift: [ 1, 1 ]
    activation_min: -128
    activation_max: 127
  })pb";

TEST(Interpreter, ZeroPaddedAddAndDenseByHand) {
  const Interpreter interpreter = Make(Parse(kAddModel));
  // NHWC: (0,0) = 2, 4; (0,1) = 6, -2; (1,0) = -8, 10; (1,1) = 1, 3.
  const std::vector<int8_t> input = {2, 4, 6, -2, -8, 10, 1, 3};
  EXPECT_THAT(Tensor(interpreter, input, "pool"), ElementsAre(6, 10));
  EXPECT_THAT(Tensor(interpreter, input, "conv"), ElementsAre(6, 4, 2, 4));
  // q = round((I + P + C) / 2) + 3, P only at (0,0), C only on channel 0:
  // (0,0): 14 -> 7, 14 -> 7; (0,1): 10 -> 5, -2 -> -1; (1,0): -6 -> -3,
  // 10 -> 5; (1,1): 5 -> 2.5 -> 3 (away from zero), 3 -> 1.5 -> 2.
  EXPECT_THAT(Tensor(interpreter, input, "add"), ElementsAre(10, 10, 8, 2, 0, 8, 6, 5));
  // Dense: unit 0 picks index (h * W + w) * C + c = (1 * 2 + 0) * 2 + 1 = 5 (10);
  // unit 1 sums everything (16); zero point -1.
  EXPECT_THAT(Tensor(interpreter, input, "dense"), ElementsAre(9, 15));
}

TEST(Interpreter, PredictsArgMaxOrSingleLogitSign) {
  const Interpreter many = Make(Parse(kAddModel));  // 8 outputs
  const int8_t logits[8] = {-3, 7, 7, 1, 0, 0, 0, 0};
  EXPECT_EQ(many.Predict(logits), 1);  // first of the equal maxima
  v1::QuantizedModel model = Parse(kConvModel);
  // A one-logit model: conv over a 1x1 input; class 1 when q > zero point.
  model.mutable_tensors(0)->set_shape(1, 1);
  model.mutable_tensors(0)->set_shape(2, 1);
  for (int t = 1; t <= 2; ++t) {
    model.mutable_tensors(t)->set_shape(1, 1);
    model.mutable_tensors(t)->set_shape(2, 1);
  }
  const Interpreter one = Make(model);
  ASSERT_EQ(one.output_size(), 1);
  const int8_t at_zero[1] = {-10}, above[1] = {-9};
  EXPECT_EQ(one.Predict(at_zero), 0);
  EXPECT_EQ(one.Predict(above), 1);
}

TEST(Interpreter, ClassifyIsIndependentOfThreads) {
  const Interpreter interpreter = Make(Parse(kAddModel));
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<int8_t> inputs(37 * 8);
  for (int8_t& v : inputs) v = static_cast<int8_t>(byte(rng));
  const std::vector<int32_t> one = interpreter.Classify(inputs.data(), 37, 1);
  EXPECT_EQ(interpreter.Classify(inputs.data(), 37, 3), one);
  std::vector<int32_t> labels = one;
  labels[0] = labels[0] == 0 ? 1 : 0;
  EXPECT_NEAR(interpreter.Accuracy(inputs.data(), labels, 2), 36.0 / 37, 1e-12);
}

TEST(Interpreter, RejectsBrokenModels) {
  auto error = [](const v1::QuantizedModel& model) {
    absl::StatusOr<Interpreter> i = Interpreter::Create(model);
    return i.ok() ? std::string("ok") : std::string(i.status().message());
  };
  v1::QuantizedModel m = Parse(kAddModel);
  m.mutable_ops(2)->set_inputs(1, "nope");
  EXPECT_THAT(error(m), HasSubstr("ops[2] (add): input \"nope\""));
  m = Parse(kAddModel);
  m.mutable_ops()->SwapElements(0, 2);  // add before the pool it reads
  EXPECT_THAT(error(m), HasSubstr("computed before this op"));
  m = Parse(kAddModel);
  m.mutable_tensors(5)->set_int8_data("\001");
  EXPECT_THAT(error(m), HasSubstr("weights shape or data size"));
  m = Parse(kAddModel);
  m.mutable_tensors(1)->set_zero_point(0, 1);
  EXPECT_THAT(error(m), HasSubstr("a pool's output has its input's scale"));
  m = Parse(kAddModel);
  m.mutable_tensors(3)->set_shape(3, 3);
  EXPECT_THAT(error(m), HasSubstr("largest input extent"));
  m = Parse(kAddModel);
  m.mutable_ops(1)->set_output_shift(0, 31);
  EXPECT_THAT(error(m), HasSubstr("shift outside"));
  m = Parse(kAddModel);
  m.set_output("cw");
  EXPECT_THAT(error(m), HasSubstr("quantized_model.output"));
  m = Parse(kConvModel);
  m.mutable_ops(1)->set_output("conv");
  EXPECT_THAT(error(m), HasSubstr("written twice"));
  m = Parse(kConvModel);
  m.mutable_ops(0)->set_kernel_height(3);
  EXPECT_THAT(error(m), HasSubstr("kernel within the input"));
  m = Parse(kConvModel);
  m.mutable_ops(0)->set_activation_min(10);
  m.mutable_ops(0)->set_activation_max(5);
  EXPECT_THAT(error(m), HasSubstr("activation_min/max"));

  // A dense layer whose int32 accumulator could overflow: 70,000 inputs
  // with weights of 127 reach 70,000 * 255 * 127 > 2^31.
  v1::QuantizedModel big = Parse(R"pb(
    input: "input"
    output: "dense"
    tensors {
      name: "input"
      shape: [ 1, 70000 ]
      scale: 1
      zero_point: 0
    }
    tensors {
      name: "dense"
      shape: [ 1, 1 ]
      scale: 1
      zero_point: 0
    }
    tensors {
      name: "b"
      shape: [ 1 ]
      scale: 1
      zero_point: 0
      int32_data: 0
    }
    ops {
      type: QUANTIZED_OP_TYPE_FULLY_CONNECTED
      inputs: [ "input", "w", "b" ]
      output: "dense"
      output_multiplier: 1073741824
      output_shift: 0
      activation_min: -128
      activation_max: 127
    })pb");
  v1::QuantizedTensor* w = big.add_tensors();
  w->set_name("w");
  w->add_shape(1);
  w->add_shape(70000);
  w->add_scale(1);
  w->add_zero_point(0);
  w->set_int8_data(std::string(70000, '\x7f'));
  EXPECT_THAT(error(big), HasSubstr("overflow the int32 accumulator"));
  w->set_int8_data(std::string(60000, '\x7f') + std::string(10000, '\0'));
  EXPECT_EQ(error(big), "ok");
}

// --- Converter without LibTorch ---------------------------------------------------------------

// A model from a worker is validated on the coordinator: one op with 100000
// inputs among 100000 tensors took seconds with a scan per reference
// (10^10 name comparisons); with the hash index it is linear.
TEST(Interpreter, ValidationIsLinearInTheModelSize) {
  constexpr int kTensors = 100000;
  v1::QuantizedModel model;
  for (int i = 0; i < kTensors; ++i) {
    v1::QuantizedTensor* t = model.add_tensors();
    t->set_name("t" + std::to_string(i));
    t->add_shape(1);
    t->add_scale(1.0f);
    t->add_zero_point(0);
  }
  for (const char* name : {"x", "y"}) {
    v1::QuantizedTensor* t = model.add_tensors();
    t->set_name(name);
    t->add_shape(1);
    t->add_shape(1);
    t->add_scale(1.0f);
    t->add_zero_point(0);
  }
  model.set_input("x");
  model.set_output("y");
  v1::QuantizedOp* add = model.add_ops();
  add->set_type(v1::QUANTIZED_OP_TYPE_ADD);
  add->set_output("y");
  for (int i = 0; i < kTensors; ++i) add->add_inputs("x");
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Interpreter> compiled = Interpreter::Create(std::move(model));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  (void)compiled;  // valid or not: only the time it took matters here
  std::printf("validated %d references in %.3f s\n", kTensors, seconds);
  EXPECT_LT(seconds, 2.0) << "validating " << kTensors << " references took " << seconds << " s";
}

// Names in error messages are cut: they end up in stored failure reasons.
TEST(Interpreter, ErrorMessagesShowAtMostTheStartOfAName) {
  v1::QuantizedModel model;
  model.set_input(std::string(100000, 'n'));
  absl::StatusOr<Interpreter> compiled = Interpreter::Create(model);
  ASSERT_FALSE(compiled.ok());
  EXPECT_LT(compiled.status().message().size(), 200u) << compiled.status().message().size();
}

TEST(Converter, FoldsBatchNormPerOutputChannel) {
  // A depthwise 1x1 kernel over 2 channels: layout [1, 1, 1, C].
  FloatLayer dw{{2.0f, -1.0f}, {0.5f, 1.0f}};
  const std::vector<float> gamma = {3, 1}, beta = {0.25f, -1}, mean = {1, 2}, var = {3, 0.999f};
  FoldBatchNorm(OpKind::kDepthwiseConv2D, gamma, beta, mean, var, 1e-3, &dw);
  // channel 0: factor 3 / sqrt(3.001); channel 1: 1 / sqrt(1) = 1.
  const double f0 = 3 / std::sqrt(3.001);
  EXPECT_NEAR(dw.weights[0], 2 * f0, 1e-6);
  EXPECT_NEAR(dw.weights[1], -1.0, 1e-6);
  EXPECT_NEAR(dw.bias[0], (0.5 - 1) * f0 + 0.25, 1e-6);
  EXPECT_NEAR(dw.bias[1], (1.0 - 2) + -1, 1e-6);
  // A conv (OHWI) with 2 outputs of 3 weights each: the first three scale together.
  FloatLayer conv{{1, 1, 1, 1, 1, 1}, {0, 0}};
  const std::vector<float> g2 = {2, 4}, zero = {0, 0}, one = {0.999f, 0.999f};
  FoldBatchNorm(OpKind::kConv2D, g2, zero, zero, one, 1e-3, &conv);
  EXPECT_THAT(conv.weights, Pointwise(FloatNear(1e-5), {2, 2, 2, 4, 4, 4}));
}

// The plan of a tiny CNN (conv with ReLU -> max pool -> dense output) on
// 6x6x2 inputs, with deterministic float weights.
FloatNetwork TinyNetwork() {
  FloatNetwork net;
  net.plan.input = Shape{6, 6, 2};
  net.plan.num_classes = 3;
  PlannedOp conv;
  conv.kind = OpKind::kConv2D;
  conv.name = "conv";
  conv.inputs = {kNetworkInput};
  conv.output = Shape{4, 4, 3};
  conv.kernel_height = conv.kernel_width = 3;
  conv.stride_height = conv.stride_width = 1;
  conv.relu = true;
  conv.kernel_elements = 3 * 3 * 2 * 3;
  conv.bias_elements = 3;
  PlannedOp pool;
  pool.kind = OpKind::kMaxPool;
  pool.name = "pool";
  pool.inputs = {0};
  pool.output = Shape{2, 2, 3};
  pool.kernel_height = pool.kernel_width = pool.stride_height = pool.stride_width = 2;
  PlannedOp dense;
  dense.kind = OpKind::kDense;
  dense.name = "output";
  dense.inputs = {1};
  dense.output = Shape{1, 1, 3};
  dense.kernel_elements = 12 * 3;
  dense.bias_elements = 3;
  net.plan.ops = {conv, pool, dense};
  net.layers.resize(3);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int i : {0, 2}) {
    net.layers[i].weights.resize(net.plan.ops[i].kernel_elements);
    for (float& w : net.layers[i].weights) w = u(rng);
    net.layers[i].bias = {0.1f, -0.2f, 0.3f};
  }
  return net;
}

TEST(Converter, ModelRoundTripsThroughTheProto) {
  FloatNetwork net = TinyNetwork();
  net.mean = {0.5f, 0.25f};
  net.stddev = {0.2f, 0.4f};
  const std::vector<ValueRange> ranges = {{0, 6}, {0, 6}, {-4, 5}};
  ConversionInfo info;
  absl::StatusOr<v1::QuantizedModel> model = Convert(net, ranges, &info);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_TRUE(info.memory_optimal_order);
  ASSERT_EQ(model->ops_size(), 3);
  EXPECT_EQ(model->ops(0).type(), v1::QUANTIZED_OP_TYPE_CONV2D);
  EXPECT_TRUE(model->ops(0).fused_relu());
  EXPECT_EQ(model->ops(0).output_multiplier_size(), 3);
  EXPECT_EQ(model->ops(2).type(), v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED);
  EXPECT_EQ(model->input(), "input");
  EXPECT_EQ(model->output(), "output");
  EXPECT_EQ(model->tensors(0).zero_point(0), -128);  // raw bytes in

  std::string bytes;
  ASSERT_TRUE(model->SerializeToString(&bytes));
  v1::QuantizedModel back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  EXPECT_EQ(back.SerializeAsString(), bytes);
  const Interpreter a = Make(*model);
  const Interpreter b = Make(back);
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<uint8_t> images(20 * 72);
  for (uint8_t& v : images) v = static_cast<uint8_t>(byte(rng));
  absl::StatusOr<std::vector<int8_t>> q = a.QuantizeBytes(images);
  ASSERT_TRUE(q.ok());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(a.RunKeepingTensors(q->data() + i * 72), b.RunKeepingTensors(q->data() + i * 72));
  }
}

TEST(Converter, RejectsMismatchedWeightsAndBrokenRanges) {
  FloatNetwork net = TinyNetwork();
  std::vector<ValueRange> ranges = {{0, 6}, {0, 6}, {-4, 5}};
  net.layers[2].weights.pop_back();
  EXPECT_THAT(std::string(Convert(net, ranges).status().message()), HasSubstr("output: weights"));
  net = TinyNetwork();
  ranges[0].max = std::numeric_limits<float>::infinity();
  EXPECT_THAT(std::string(Convert(net, ranges).status().message()), HasSubstr("not finite"));
  EXPECT_FALSE(Convert(net, std::vector<ValueRange>(2)).ok());
}

}  // namespace
}  // namespace unas::int8
