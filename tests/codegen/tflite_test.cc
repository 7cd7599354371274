// model.tflite (codegen/tflite_model.h) checked by two independent runtimes,
// not by eye: LiteRT.js (Google's TensorFlow Lite runtime in WebAssembly,
// XNNPack kernels) and Arm NN's TensorFlow Lite parser (CpuRef backend) run
// the exported files of random CNN-space and MLP models, and their outputs
// are compared with the reference interpreter's. flatc dumps one file to
// check the fields TFLite's int8 specification fixes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "codegen/tflite_model.h"
#include "codegen/write_files.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "int8/fixed_point.h"
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

// flatc (Debian's flatbuffers-compiler) dumps a file with our schema: the
// fields TFLite's int8 specification fixes are there.
TEST(Tflite, FlatcDumpShowsTheInt8Specification) {
  Rng rng(9);
  absl::StatusOr<v1::QuantizedModel> model;
  // A model with every weighted op kind.
  for (uint32_t seed = 1; seed < 100; ++seed) {
    model = testing::RandomModel(SpaceKind::kCnn, {16, 16, 1, 10}, rng, seed);
    ASSERT_TRUE(model.ok());
    bool conv = false, depthwise = false;
    for (const auto& op : model->ops()) {
      conv |= op.type() == v1::QUANTIZED_OP_TYPE_CONV2D;
      depthwise |= op.type() == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D;
    }
    if (conv && depthwise) break;
  }
  absl::StatusOr<std::string> tflite = TfliteModel(*model);
  ASSERT_TRUE(tflite.ok()) << tflite.status();
  const std::filesystem::path dir = testing::FreshDir("tflite_flatc");
  ASSERT_TRUE(WriteFolder(dir, {{"model.tflite", *tflite}}).ok());
  int status = 0;
  const std::string said = testing::Capture(
      absl::StrCat("cd '", dir.string(), "' && flatc --json --strict-json --raw-binary '",
                   UNAS_SOURCE_DIR, "/codegen/tflite_schema.fbs' -- model.tflite"),
      &status);
  ASSERT_EQ(status, 0) << said;
  // The checks, in Python (Debian's python3): one line per finding.
  const std::string checked =
      testing::Capture(absl::StrCat("/usr/bin/python3 -c '", R"py(
import json, sys
m = json.load(open(sys.argv[1]))
codes = [c["builtin_code"] for c in m["operator_codes"]]
print("version", m["version"], "subgraphs", len(m["subgraphs"]), "empty buffer 0", m["buffers"][0].get("data") is None)
g = m["subgraphs"][0]
t = g["tensors"]
print("input", t[g["inputs"][0]]["type"], t[g["inputs"][0]]["quantization"]["zero_point"])
for op in g["operators"]:
    code = codes[op["opcode_index"]]
    if code in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        w, b = t[op["inputs"][1]], t[op["inputs"][2]]
        q = w["quantization"]
        per_channel = len(q["scale"]) == (w["shape"][3] if code == "DEPTHWISE_CONV_2D" else w["shape"][0])
        print(code, "weights", w["type"], "dim", q["quantized_dimension"], "per-channel", per_channel,
              "symmetric", set(q["zero_point"]) == {0}, "bias", b["type"], set(b["quantization"]["zero_point"]) == {0},
              "padding", op["builtin_options"].get("padding", "-"))
    out = t[op["outputs"][0]]
    if out["type"] != "INT8" or len(out["quantization"]["scale"]) != 1:
        print("bad activation", out["name"])
)py",
                                    "' '", (dir / "model.json").string(), "'"),
                       &status);
  ASSERT_EQ(status, 0) << checked;
  std::printf("%s", checked.c_str());
  EXPECT_THAT(checked, HasSubstr("version 3 subgraphs 1 empty buffer 0 True"));
  EXPECT_THAT(checked, HasSubstr("input INT8 [-128]"));
  EXPECT_THAT(checked, HasSubstr("CONV_2D weights INT8 dim 0 per-channel True symmetric True "
                                 "bias INT32 True padding VALID"));
  EXPECT_THAT(checked, HasSubstr("DEPTHWISE_CONV_2D weights INT8 dim 3 per-channel True "
                                 "symmetric True bias INT32 True padding VALID"));
  EXPECT_THAT(checked, HasSubstr("FULLY_CONNECTED weights INT8 dim 0 per-channel True"));
  EXPECT_THAT(checked, ::testing::Not(HasSubstr("bad activation")));
  std::filesystem::remove_all(dir);
}

// Arm NN 20.08 aborts on FULLY_CONNECTED with per-channel weights (a legal
// model since TFLite 2.13); the same layer written as a 1x1 CONV_2D runs.
TEST(Tflite, ArmNn2008RejectsPerChannelDenseButRunsItAsAConvolution) {
  Rng rng(2);
  absl::StatusOr<v1::QuantizedModel> model =
      testing::RandomModel(SpaceKind::kMlp, {8, 8, 1, 10}, rng, 4);
  ASSERT_TRUE(model.ok());
  absl::StatusOr<std::string> plain = TfliteModel(*model);
  absl::StatusOr<std::string> portable = TfliteModel(*model, nullptr, {.dense_as_conv2d = true});
  ASSERT_TRUE(plain.ok() && portable.ok());
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(*model);
  const std::vector<int8_t> inputs = RandomInputs(interpreter->input_size(), 10, 1);
  const std::filesystem::path dir = testing::FreshDir("armnn_dense");
  ASSERT_TRUE(
      WriteFolder(dir, {{"plain/model.tflite", *plain}, {"conv/model.tflite", *portable}}).ok());
  std::string refused;
  EXPECT_TRUE(testing::RunArmNn(dir / "plain" / "model.tflite", inputs, &refused).empty());
  std::printf("Arm NN on per-channel FULLY_CONNECTED: %s\n", refused.c_str());
  EXPECT_THAT(refused, HasSubstr("GetBiasTypeFromWeightsType"));
  const std::vector<int8_t> conv =
      testing::RunArmNn(dir / "conv" / "model.tflite", inputs, &refused);
  EXPECT_EQ(refused, "");
  EXPECT_EQ(conv.size(), 10 * static_cast<size_t>(interpreter->output_size()));
  // Both forms compute the same under LiteRT.js.
  EXPECT_EQ(testing::RunLiteRt(dir / "plain" / "model.tflite", inputs),
            testing::RunLiteRt(dir / "conv" / "model.tflite", inputs));
  std::filesystem::remove_all(dir);
}

// Why the runtimes differ from the interpreter at all: LiteRT.js (XNNPack)
// requantises a convolution in float32 with one rounding (to nearest even),
// where TFLite's reference kernels and ours use the fixed-point multiplier
// with two roundings. A float32 emulation reproduces LiteRT.js exactly.
TEST(Tflite, LiteRtRequantisesConvolutionsInFloat32) {
  Rng rng(5);
  v1::QuantizedModel model;
  for (uint32_t seed = 100;; ++seed) {
    absl::StatusOr<v1::QuantizedModel> m =
        testing::RandomModel(SpaceKind::kCnn, {16, 16, 1, 10}, rng, seed);
    ASSERT_TRUE(m.ok());
    if (m->ops(0).type() != v1::QUANTIZED_OP_TYPE_CONV2D) continue;
    model = *m;
    break;
  }
  model.mutable_ops()->DeleteSubrange(1, model.ops_size() - 1);
  model.set_output(model.ops(0).output());
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(model);
  ASSERT_TRUE(interpreter.ok()) << interpreter.status();
  const int n = 100;
  const std::vector<int8_t> inputs = RandomInputs(interpreter->input_size(), n, 7);
  absl::StatusOr<std::string> tflite = TfliteModel(model);
  const std::filesystem::path dir = testing::FreshDir("litert_conv");
  ASSERT_TRUE(WriteFolder(dir, {{"model.tflite", *tflite}}).ok());
  const std::vector<int8_t> litert = testing::RunLiteRt(dir / "model.tflite", inputs);
  std::filesystem::remove_all(dir);
  const v1::QuantizedOp& op = model.ops(0);
  const v1::QuantizedTensor& x = model.tensors(interpreter->FindTensor(op.inputs(0)));
  const v1::QuantizedTensor& w = model.tensors(interpreter->FindTensor(op.inputs(1)));
  const v1::QuantizedTensor& b = model.tensors(interpreter->FindTensor(op.inputs(2)));
  const v1::QuantizedTensor& y = model.tensors(interpreter->FindTensor(op.output()));
  const int in_w = x.shape(2), in_c = x.shape(3), out_h = y.shape(1), out_w = y.shape(2),
            out_c = y.shape(3), k = op.kernel_height(), stride = op.stride_height();
  int64_t total = 0, float_equal = 0, fixed_equal = 0;
  for (int i = 0; i < n; ++i) {
    const int8_t* in = &inputs[i * interpreter->input_size()];
    std::vector<int8_t> fixed(interpreter->output_size());
    interpreter->Run(in, fixed.data());
    for (int oy = 0; oy < out_h; ++oy) {
      for (int ox = 0; ox < out_w; ++ox) {
        for (int oc = 0; oc < out_c; ++oc) {
          int32_t acc = b.int32_data(oc);
          for (int ky = 0; ky < k; ++ky) {
            for (int kx = 0; kx < k; ++kx) {
              for (int c = 0; c < in_c; ++c) {
                acc += (in[((oy * stride + ky) * in_w + ox * stride + kx) * in_c + c] -
                        x.zero_point(0)) *
                       static_cast<int8_t>(w.int8_data()[((oc * k + ky) * k + kx) * in_c + c]);
              }
            }
          }
          const float scale = x.scale(0) * w.scale(oc) / y.scale(0);
          const long q = std::lrintf(static_cast<float>(acc) * scale) + y.zero_point(0);
          const int emulated =
              static_cast<int>(std::clamp<long>(q, op.activation_min(), op.activation_max()));
          const int64_t index =
              int64_t{i} * interpreter->output_size() + (oy * out_w + ox) * out_c + oc;
          float_equal += litert[index] == emulated;
          fixed_equal += litert[index] == fixed[(oy * out_w + ox) * out_c + oc];
          ++total;
        }
      }
    }
  }
  std::printf(
      "one CONV_2D, %lld values: LiteRT.js equals a float32 requantisation on %lld, the "
      "fixed-point one on %lld\n",
      static_cast<long long>(total), static_cast<long long>(float_equal),
      static_cast<long long>(fixed_equal));
  EXPECT_EQ(float_equal, total);
  EXPECT_LT(fixed_equal, total);  // the rounding differs somewhere
  EXPECT_GT(fixed_equal * 100, total * 99);
}

// Arm NN's CpuRef averages pools in float32 (dequantise, sum, divide,
// requantise rounding half away from zero), so exact ties of a window sum
// fall either way by float rounding; a float32 emulation reproduces it.
TEST(Tflite, ArmNnAveragePoolingIsFloat32) {
  v1::QuantizedModel model;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
                                                              tensors {
                                                                name: "input"
                                                                shape: [ 1, 8, 8, 4 ]
                                                                scale: 0.05
                                                                zero_point: -37
                                                              }
                                                              tensors {
                                                                name: "pool"
                                                                shape: [ 1, 4, 4, 4 ]
                                                                scale: 0.05
                                                                zero_point: -37
                                                              }
                                                              ops {
                                                                type: QUANTIZED_OP_TYPE_AVG_POOL
                                                                inputs: "input"
                                                                output: "pool"
                                                                kernel_height: 2
                                                                kernel_width: 2
                                                                stride_height: 2
                                                                stride_width: 2
                                                                activation_min: -128
                                                                activation_max: 127
                                                              }
                                                              input: "input"
                                                              output: "pool"
                                                            )pb",
                                                            &model));
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(model);
  ASSERT_TRUE(interpreter.ok()) << interpreter.status();
  const int n = 100;
  const std::vector<int8_t> inputs = RandomInputs(256, n, 3);
  const Outputs out = RunEverywhere(model, inputs, "avg_pool");
  int64_t total = 0, float_equal = 0, armnn_equal = 0, litert_equal = 0;
  for (int i = 0; i < n; ++i) {
    for (int oy = 0; oy < 4; ++oy) {
      for (int ox = 0; ox < 4; ++ox) {
        for (int c = 0; c < 4; ++c) {
          float sum = 0;
          for (int ky = 0; ky < 2; ++ky) {
            for (int kx = 0; kx < 2; ++kx) {
              const int8_t q = inputs[i * 256 + ((2 * oy + ky) * 8 + 2 * ox + kx) * 4 + c];
              sum += (static_cast<float>(q) - (-37.0f)) * 0.05f;
            }
          }
          const float v = (sum / 4.0f) / 0.05f;
          const int emulated = static_cast<int>(std::clamp(std::round(v) - 37.0f, -128.0f, 127.0f));
          const int64_t index = i * 64 + (oy * 4 + ox) * 4 + c;
          float_equal += out.armnn[index] == emulated;
          armnn_equal += out.armnn[index] == out.interpreter[index];
          litert_equal += out.litert[index] == out.interpreter[index];
          ++total;
        }
      }
    }
  }
  std::printf(
      "AVERAGE_POOL_2D 2x2, %lld values: Arm NN equals a float32 average on %lld and the "
      "interpreter on %lld; LiteRT.js equals the interpreter on %lld\n",
      static_cast<long long>(total), static_cast<long long>(float_equal),
      static_cast<long long>(armnn_equal), static_cast<long long>(litert_equal));
  EXPECT_EQ(float_equal, total);
  EXPECT_EQ(litert_equal, total);
  EXPECT_LT(armnn_equal, total);
}

// A model stored before the converter split Adds: every Add of a chain the
// converter wrote merged back into one n-input Add (recomputing its
// parameters as the converter did then). Null when the model has no chain.
std::optional<v1::QuantizedModel> WithWideAdds(const v1::QuantizedModel& model) {
  v1::QuantizedModel out = model;
  bool merged = false;
  for (int i = 0; i + 1 < out.ops_size(); ++i) {
    const v1::QuantizedOp a = out.ops(i);
    const v1::QuantizedOp b = out.ops(i + 1);
    if (a.type() != v1::QUANTIZED_OP_TYPE_ADD || b.type() != v1::QUANTIZED_OP_TYPE_ADD ||
        b.inputs(0) != a.output() || a.output().find("/partial") == std::string::npos) {
      continue;
    }
    v1::QuantizedOp wide = b;
    wide.clear_inputs();
    for (const std::string& in : {a.inputs(0), a.inputs(1), b.inputs(1)}) wide.add_inputs(in);
    auto scale = [&](const std::string& name) {
      for (const auto& t : out.tensors())
        if (t.name() == name) return static_cast<double>(t.scale(0));
      return 1.0;
    };
    double max_scale = 0;
    for (const std::string& in : wide.inputs()) max_scale = std::max(max_scale, scale(in));
    wide.clear_input_multiplier();
    wide.clear_input_shift();
    for (const std::string& in : wide.inputs()) {
      const int8::QuantizedMultiplier m = int8::QuantizeMultiplier(scale(in) / (2 * max_scale));
      wide.add_input_multiplier(m.multiplier);
      wide.add_input_shift(m.shift);
    }
    const int8::QuantizedMultiplier m =
        int8::QuantizeMultiplier(2 * max_scale / (std::ldexp(1.0, 20) * scale(b.output())));
    wide.set_output_multiplier(0, m.multiplier);
    wide.set_output_shift(0, m.shift);
    *out.mutable_ops(i + 1) = wide;
    out.mutable_ops()->DeleteSubrange(i, 1);
    for (int t = 0; t < out.tensors_size(); ++t) {
      if (out.tensors(t).name() == a.output()) out.mutable_tensors()->DeleteSubrange(t, 1);
    }
    merged = true;
  }
  if (!merged) return std::nullopt;
  return out;
}

// What splitting an n-input Add costs: the stored n-input model against the
// chained one model.tflite computes (which LiteRT.js follows as closely as
// any model), on random CNN-space models with three-input joins.
TEST(Tflite, WideAddsOfOlderModelsAreComputedAsChains) {
  Rng rng(12);
  int models = 0;
  testing::Agreement total;
  for (uint32_t seed = 1; seed < 400 && models < 4; ++seed) {
    absl::StatusOr<v1::QuantizedModel> split =
        testing::RandomModel(SpaceKind::kCnn, {16, 16, 1, 10}, rng, seed);
    ASSERT_TRUE(split.ok());
    const std::optional<v1::QuantizedModel> wide = WithWideAdds(*split);
    if (!wide.has_value()) continue;
    absl::StatusOr<int8::Interpreter> stored = int8::Interpreter::Create(*wide);
    ASSERT_TRUE(stored.ok()) << stored.status();
    ASSERT_GT(int8::WideAddCount(*wide), 0);
    const std::vector<int8_t> inputs = RandomInputs(stored->input_size(), 50, seed);
    TfliteInfo info;
    const Outputs out = RunEverywhere(*wide, inputs, absl::StrCat("wide", seed), &info);
    EXPECT_EQ(info.wide_adds_split, int8::WideAddCount(*wide));
    std::vector<int8_t> n_ary(out.interpreter.size());
    for (int i = 0; i < 50; ++i) {
      stored->Run(&inputs[i * stored->input_size()], &n_ary[i * stored->output_size()]);
    }
    auto classify = [&](const int8_t* logits) { return stored->Predict(logits); };
    const testing::Agreement chain_vs_stored =
        testing::Compare(n_ary, out.interpreter, stored->output_size(), classify);
    const testing::Agreement litert_vs_chain =
        testing::Compare(out.interpreter, out.litert, stored->output_size(), classify);
    EXPECT_GE(litert_vs_chain.same_class * 100, litert_vs_chain.inputs * 90);
    total.inputs += chain_vs_stored.inputs;
    total.same_class += chain_vs_stored.same_class;
    total.values += chain_vs_stored.values;
    total.within_one += chain_vs_stored.within_one;
    total.exact += chain_vs_stored.exact;
    total.max_difference = std::max(total.max_difference, chain_vs_stored.max_difference);
    ++models;
  }
  ASSERT_GT(models, 0);
  std::printf(
      "%d models with wide Adds, the chained model against the stored one: %lld/%lld "
      "classes, %lld/%lld values within 1, %lld exact, max difference %d\n",
      models, static_cast<long long>(total.same_class), static_cast<long long>(total.inputs),
      static_cast<long long>(total.within_one), static_cast<long long>(total.values),
      static_cast<long long>(total.exact), total.max_difference);
}

// A model TFLite cannot express is refused, naming the op.
TEST(Tflite, AClampThatIsNoFusedActivationIsRefusedNamingTheOp) {
  Rng rng(3);
  absl::StatusOr<v1::QuantizedModel> model =
      testing::RandomModel(SpaceKind::kCnn, {12, 12, 1, 4}, rng, 2);
  ASSERT_TRUE(model.ok());
  model->mutable_ops(0)->set_activation_max(100);
  absl::StatusOr<std::string> tflite = TfliteModel(*model);
  EXPECT_THAT(std::string(tflite.status().message()),
              HasSubstr("quantized_model.ops[0] (" + model->ops(0).output() + ")"));
  EXPECT_THAT(std::string(tflite.status().message()), HasSubstr("no TFLite fused activation"));
}

}  // namespace
}  // namespace unas::codegen
