// Networks trained briefly on real Fashion-MNIST (a chain, a branch joined by an
// Add, pooling, an MLP) and a two-class network quantised on real images:
// their generated C, compiled with the host gcc (also as the poisoned debug
// build) and for the emulated Cortex-M4, gives on 500 test images logits
// identical byte for byte to the interpreter's, classes from raw bytes equal
// to the interpreter's, and so exactly the int8 test error the evaluation
// stored. Their model.tflite agrees with the interpreter under LiteRT.js and
// Arm NN on all 10,000 test images.
#include <torch/torch.h>

#include <future>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "cli/unasctl/export_command.h"
#include "codegen/c_project.h"
#include "codegen/cortex_m4.h"
#include "codegen/onnx_float.h"
#include "codegen/onnx_int8.h"
#include "codegen/tflite_model.h"
#include "codegen/write_files.h"
#include "common/job_spec/loader.h"
#include "gtest/gtest.h"
#include "int8/interpreter.h"
#include "tests/codegen/codegen_test_util.h"
#include "tests/worker/worker_test_util.h"
#include "worker/batch.h"
#include "worker/model.h"
#include "worker/quantize.h"
#include "worker/train_candidate.h"

namespace unas::codegen {
namespace {

using worker::testing::Arch;

constexpr int kTestImages = 500;

const worker::Dataset& Data() {
  static const worker::Dataset* data = [] {
    auto* d = new worker::Dataset(worker::testing::Truncated(
        worker::testing::FashionSubset(6000, kTestImages), 4000, 200, kTestImages));
    return d;
  }();
  return *data;
}

v1::JobSpec Spec(const std::string& kind) {
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpec(
      "name: \"c\" dataset { name: DATASET_NAME_FASHION_MNIST } search_space { kind: " + kind +
          " } bounds { error: 0.9 } training { optimizer { kind: OPTIMIZER_KIND_ADAMW "
          "learning_rate: 0.003 } epochs: 2 batch_size: 32 augmentation { enabled: false } "
          "device: DEVICE_CPU } seed: 3",
      ProtoFormat::kTextproto, "test");
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : v1::JobSpec();
}

absl::StatusOr<v1::EvaluationResult> Train(const std::string& arch, const std::string& kind,
                                           bool weights = false) {
  worker::TrainRequest request;
  request.spec = Spec(kind);
  request.architecture = Arch(arch);
  request.dataset = &Data();
  request.threads = 1;
  request.include_weights = weights;
  return worker::TrainCandidate(request);
}

// All 10,000 Fashion-MNIST test images (the .tflite agreement check).
const worker::ImageSet& FullTest() {
  static const worker::ImageSet* test =
      new worker::ImageSet(worker::testing::FashionSubset(6000, 10000).test);
  return *test;
}

// What the runtimes gave on model.tflite, summed over the trained networks.
struct TfliteTotals {
  testing::Agreement litert, armnn;
};

void Add(testing::Agreement& total, const testing::Agreement& a) {
  total.inputs += a.inputs;
  total.same_class += a.same_class;
  total.values += a.values;
  total.within_one += a.within_one;
  total.exact += a.exact;
  total.max_difference = std::max(total.max_difference, a.max_difference);
}

std::string Describe(const testing::Agreement& a) {
  return absl::StrFormat(
      "classes %lld/%lld (%.2f%%), values within 1: %lld/%lld (%.2f%%), "
      "exact %.2f%%, max difference %d",
      a.same_class, a.inputs, 100.0 * a.same_class / std::max<int64_t>(a.inputs, 1), a.within_one,
      a.values, 100.0 * a.within_one / std::max<int64_t>(a.values, 1),
      100.0 * a.exact / std::max<int64_t>(a.values, 1), a.max_difference);
}

// model.tflite on all 10,000 test images under LiteRT.js and Arm NN (its
// dense layers as 1x1 convolutions: Arm NN 20.08 aborts on per-channel
// FULLY_CONNECTED), against the interpreter: under LiteRT.js classes equal
// on >= 99.5 % of the images and logits within one step on >= 99 % of the
// values; under Arm NN >= 99 % and >= 99 %.
void CheckTflite(const v1::QuantizedModel& model, const std::string& name, TfliteTotals* totals) {
  const worker::ImageSet& test = FullTest();
  ASSERT_EQ(test.size(), 10000);
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(model);
  ASSERT_TRUE(interpreter.ok());
  const int64_t out = interpreter->output_size();
  std::vector<int8_t> inputs, want(out * test.size());
  for (int64_t i = 0; i < test.size(); ++i) {
    std::vector<int8_t> q =
        *interpreter->QuantizeBytes({test.image(i), size_t(test.image_bytes())});
    interpreter->Run(q.data(), &want[i * out]);
    inputs.insert(inputs.end(), q.begin(), q.end());
  }
  TfliteInfo info;
  absl::StatusOr<std::string> tflite = TfliteModel(model, &info);
  ASSERT_TRUE(tflite.ok()) << tflite.status();
  EXPECT_EQ(info.multiplier_mismatches, 0) << name;
  absl::StatusOr<std::string> portable = TfliteModel(model, nullptr, {.dense_as_conv2d = true});
  ASSERT_TRUE(portable.ok()) << portable.status();
  const std::filesystem::path dir = testing::FreshDir(name + "_tflite");
  ASSERT_TRUE(
      WriteFolder(dir, {{"litert/model.tflite", *tflite}, {"armnn/model.tflite", *portable}}).ok());
  // Both runtimes at once (separate processes).
  std::string refused;
  auto armnn = std::async(std::launch::async, [&] {
    return testing::RunArmNn(dir / "armnn" / "model.tflite", inputs, &refused);
  });
  const std::vector<int8_t> litert = testing::RunLiteRt(dir / "litert" / "model.tflite", inputs);
  const std::vector<int8_t> arm = armnn.get();
  auto classify = [&](const int8_t* logits) { return interpreter->Predict(logits); };
  const testing::Agreement a = testing::Compare(want, litert, out, classify);
  std::printf("%s: model.tflite (%d operators, %zu bytes) under LiteRT.js: %s\n", name.c_str(),
              info.operators, tflite->size(), Describe(a).c_str());
  ASSERT_EQ(a.inputs, test.size()) << name << ": LiteRT.js gave no outputs";
  EXPECT_GE(a.same_class * 1000, a.inputs * 995) << name;
  EXPECT_GE(a.within_one * 100, a.values * 99) << name;
  Add(totals->litert, a);
  EXPECT_EQ(refused, "") << name;
  // Arm NN's CpuRef averages pools in float32 (dequantise, average,
  // requantise), so where a window's sum is an exact tie float rounding
  // noise decides (docs/deploy.md; Tflite.ArmNnAveragePoolingIsFloat32 shows
  // it): a looser class bound for it, LiteRT.js is the gate above.
  const testing::Agreement b = testing::Compare(want, arm, out, classify);
  std::printf("%s: the same under Arm NN 20.08 (CpuRef): %s\n", name.c_str(), Describe(b).c_str());
  EXPECT_EQ(b.inputs, test.size()) << name << ": Arm NN gave no outputs";
  EXPECT_GE(b.same_class * 100, b.inputs * 99) << name;
  EXPECT_GE(b.within_one * 100, b.values * 99) << name;
  Add(totals->armnn, b);
  std::filesystem::remove_all(dir);
}

// Generates, builds and runs `model` on the test images; compares logits and
// classes with the interpreter. Returns the int8 test error of the C build.
// Also: a poisoned debug build (-DUNAS_POISON) gives the same logits; the
// Cortex-M4 build on QEMU computes the interpreter's logits and the stored
// accuracy on all the test images, and reports its instructions per
// inference; model.tflite agrees under two runtimes (CheckTflite).
double CheckOnTestImages(const v1::QuantizedModel& model, const std::string& name,
                         TfliteTotals* totals) {
  const worker::ImageSet& test = Data().test;
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(model);
  EXPECT_TRUE(interpreter.ok()) << interpreter.status();
  if (!interpreter.ok()) return 1.0;
  std::vector<int8_t> inputs, expected(interpreter->output_size() * test.size());
  std::vector<int8_t> expected_classes;
  CProjectOptions options;
  options.source = name;
  for (int64_t i = 0; i < test.size(); ++i) {
    std::vector<int8_t> q =
        *interpreter->QuantizeBytes({test.image(i), size_t(test.image_bytes())});
    interpreter->Run(q.data(), &expected[i * interpreter->output_size()]);
    expected_classes.push_back(
        static_cast<int8_t>(interpreter->Predict(&expected[i * interpreter->output_size()])));
    inputs.insert(inputs.end(), q.begin(), q.end());
    // Every test image goes into the Cortex-M4 program, with its label.
    options.test_inputs.push_back(std::move(q));
    options.test_labels.push_back(test.labels[i]);
  }
  absl::StatusOr<CProject> project = GenerateCProject(model, options);
  EXPECT_TRUE(project.ok()) << project.status();
  if (!project.ok()) return 1.0;
  std::printf("%s: %d ops, arena %lld B, PMU with input %lld B, flash %lld B (%s)\n", name.c_str(),
              model.ops_size(), static_cast<long long>(project->info.arena_bytes),
              static_cast<long long>(project->info.pmu_with_input_bytes),
              static_cast<long long>(project->info.flash_bytes),
              PlacementName(project->info.placement));
  const std::filesystem::path dir = testing::FreshDir(name);
  EXPECT_TRUE(WriteFolder(dir, project->files).ok());
  EXPECT_EQ(testing::BuildAndRun(dir, "gcc", "logits", inputs), expected) << name;
  const std::vector<int8_t> raw(test.pixels.begin(),
                                test.pixels.begin() + test.size() * test.image_bytes());
  const std::vector<int8_t> classes = testing::BuildAndRun(dir, "gcc", "classify", raw);
  EXPECT_EQ(classes, expected_classes) << name;
  // The debug build that poisons every buffer after its last use.
  std::filesystem::remove(dir / "unas_run");
  EXPECT_EQ(testing::BuildAndRun(dir, "gcc", "logits", inputs, "EXTRA_CFLAGS=-DUNAS_POISON"),
            expected)
      << name << ": the poisoned build differs";
  // model.int8.onnx under ONNX Runtime: classes as the interpreter's on
  // nearly every image (it computes in float between the quantisers).
  absl::StatusOr<std::string> onnx = Int8OnnxModel(model);
  EXPECT_TRUE(onnx.ok()) << onnx.status();
  if (onnx.ok()) {
    EXPECT_TRUE(WriteFolder(dir, {{"model.int8.onnx", *onnx}}).ok());
    EXPECT_EQ(testing::OnnxCheckerProblem(dir / "model.int8.onnx"), "");
    const auto& shape = model.tensors(interpreter->FindTensor(model.input())).shape();
    std::string json = "[1";
    for (int d = 1; d < shape.size(); ++d) absl::StrAppend(&json, ",", shape[d]);
    const std::vector<int8_t> ort =
        testing::RunOnnxRuntime(dir / "model.int8.onnx", inputs, json + "]");
    int agree = 0;
    for (int64_t i = 0; i < test.size() && ort.size() == expected.size(); ++i) {
      agree += interpreter->Predict(&ort[i * interpreter->output_size()]) == expected_classes[i];
    }
    std::printf("%s: ONNX Runtime agrees with the interpreter on %d of %lld classes\n",
                name.c_str(), agree, static_cast<long long>(test.size()));
    EXPECT_GE(agree, test.size() * 98 / 100) << name;
  }
  // The Cortex-M4 program on QEMU: every test image, the interpreter's
  // logits, the stored accuracy, and its instructions per inference.
  absl::StatusOr<CortexM4Run> run = RunCortexM4(dir, "", 600);
  EXPECT_TRUE(run.ok()) << run.status();
  int wrong = 0;
  for (int64_t i = 0; i < test.size() && i < static_cast<int64_t>(classes.size()); ++i) {
    wrong += classes[i] != test.labels[i] ? 1 : 0;
  }
  if (run.ok()) {
    EXPECT_EQ(run->inputs, test.size()) << name;
    EXPECT_EQ(run->differing, 0) << name << ":\n" << run->printed;
    EXPECT_EQ(run->correct, test.size() - wrong) << name;
    std::printf("%s: Cortex-M4 (QEMU): %lld of %lld test images correct, %s\n", name.c_str(),
                static_cast<long long>(run->correct), static_cast<long long>(run->inputs),
                DescribeCortexM4Run(*run).c_str());
  }
  std::filesystem::remove_all(dir);
  CheckTflite(model, name, totals);
  return static_cast<double>(wrong) / static_cast<double>(test.size());
}

struct Case {
  std::string name, kind, arch;
};

TfliteTotals& Totals() {
  static TfliteTotals totals;
  return totals;
}

TEST(TrainedNetworks, GeneratedCReproducesTheStoredInt8TestError) {
  torch::manual_seed(1);
  ASSERT_EQ(Data().test.size(), kTestImages);
  const std::vector<Case> cases = {
      {"chain", "SEARCH_SPACE_KIND_CNN",
       R"pb(cnn {
              conv_blocks {
                layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 8 has_relu: true }
              }
              conv_blocks {
                layers {
                  type: CONV_LAYER_TYPE_CONV2D
                  kernel_size: 3
                  filters: 12
                  stride2: true
                  has_relu: true
                }
              }
              dense_blocks { units: 16 }
            })pb"},
      {"branched_add", "SEARCH_SPACE_KIND_CNN",
       R"pb(cnn {
              conv_blocks {
                layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 8 has_relu: true }
              }
              conv_blocks {
                layers {
                  type: CONV_LAYER_TYPE_CONV2D
                  kernel_size: 3
                  filters: 16
                  stride2: true
                  has_prepool: true
                  has_relu: true
                }
              }
              conv_blocks {
                is_branch: true
                layers {
                  type: CONV_LAYER_TYPE_DEPTHWISE
                  kernel_size: 3
                  stride2: true
                  has_relu: true
                }
              }
              pooling { type: POOL_TYPE_MAX pool_size: 2 }
            })pb"},
      {"pooling", "SEARCH_SPACE_KIND_CNN",
       R"pb(cnn {
              conv_blocks {
                layers {
                  type: CONV_LAYER_TYPE_CONV2D
                  kernel_size: 5
                  filters: 6
                  has_bn: true
                  has_relu: true
                }
              }
              conv_blocks {
                layers {
                  type: CONV_LAYER_TYPE_DEPTHWISE
                  kernel_size: 3
                  has_prepool: true
                  has_relu: true
                }
              }
              pooling { type: POOL_TYPE_AVG pool_size: 2 }
              dense_blocks { units: 20 }
            })pb"},
      {"mlp", "SEARCH_SPACE_KIND_MLP", R"pb(mlp {
                                              layers { units: 32 }
                                              layers { units: 16 }
                                            })pb"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<v1::EvaluationResult> result = Train(c.arch, c.kind);
    ASSERT_TRUE(result.ok()) << c.name << ": " << result.status();
    ASSERT_TRUE(result->has_int8_test_error()) << c.name;
    const double error = CheckOnTestImages(result->quantized_model(), c.name, &Totals());
    std::printf("%s: int8 test error %.4f stored, %.4f from the compiled C\n", c.name.c_str(),
                result->int8_test_error(), error);
    EXPECT_NEAR(error, result->int8_test_error(), 1e-9) << c.name;
    EXPECT_LT(error, 0.5) << c.name;  // it learned something (chance: 0.9)
  }
}

TEST(TrainedNetworks, TwoClassNetworkQuantisedOnRealImages) {
  torch::manual_seed(2);
  const v1::Architecture arch =
      Arch(R"pb(cnn {
                  conv_blocks {
                    layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 6 has_relu: true }
                  }
                  pooling { type: POOL_TYPE_MAX pool_size: 2 }
                  dense_blocks { units: 12 }
                })pb");
  absl::StatusOr<worker::UnasNet> net = worker::BuildNetwork(arch, DataShape{28, 28, 1, 2});
  ASSERT_TRUE(net.ok()) << net.status();
  (*net)->eval();
  absl::StatusOr<v1::QuantizedModel> model =
      worker::QuantizeNetwork(*net, Data(), {.calibration_examples = 200}, torch::kCPU);
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(*model);
  ASSERT_TRUE(interpreter.ok());
  ASSERT_EQ(interpreter->output_size(), 1);
  CheckOnTestImages(*model, "two_class", &Totals());
  // The last of the five trained networks: the totals over all of them.
  std::printf(
      "model.tflite over the five trained networks and 10,000 test images each:\n"
      "  LiteRT.js: %s\n  Arm NN:    %s\n",
      Describe(Totals().litert).c_str(), Describe(Totals().armnn).c_str());
}

// model.onnx: the float network (batch normalisation folded) under ONNX
// Runtime gives LibTorch's logits within 1e-4 and its classes, on 200 test
// images, for networks with every op kind.
TEST(TrainedNetworks, FloatOnnxFollowsLibTorch) {
  torch::manual_seed(4);
  const std::vector<std::string> archs = {
      R"pb(cnn {
             conv_blocks {
               layers {
                 type: CONV_LAYER_TYPE_CONV2D
                 kernel_size: 3
                 filters: 8
                 has_bn: true
                 has_relu: true
               }
             }
             conv_blocks {
               layers {
                 type: CONV_LAYER_TYPE_CONV2D
                 kernel_size: 3
                 filters: 16
                 stride2: true
                 has_prepool: true
                 has_relu: true
               }
             }
             conv_blocks {
               is_branch: true
               layers {
                 type: CONV_LAYER_TYPE_DEPTHWISE
                 kernel_size: 3
                 stride2: true
                 has_bn: true
                 has_relu: true
               }
             }
             pooling { type: POOL_TYPE_AVG pool_size: 2 }
             dense_blocks { units: 12 }
           })pb",
      R"pb(mlp { layers { units: 24 } })pb"};
  const worker::ImageSet& test = Data().test;
  const int count = 200;
  for (size_t k = 0; k < archs.size(); ++k) {
    absl::StatusOr<worker::UnasNet> net =
        worker::BuildNetwork(Arch(archs[k]), DataShape{28, 28, 1, 10});
    ASSERT_TRUE(net.ok()) << net.status();
    {
      torch::NoGradGuard no_grad;
      for (auto& b : (*net)->named_buffers()) {
        if (b.key().ends_with("running_mean")) b.value().uniform_(-0.3, 0.3);
        if (b.key().ends_with("running_var")) b.value().uniform_(0.5, 2.0);
      }
    }
    (*net)->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor x =
        worker::ImagesToTensor(test.image(0), count, 28, 28, 1, Data().preprocessing);
    const torch::Tensor expected = (*net)->forward(x).contiguous();
    absl::StatusOr<std::string> onnx = FloatOnnxModel(worker::ExtractFloatNetwork(**net));
    ASSERT_TRUE(onnx.ok()) << onnx.status();
    const std::filesystem::path dir = testing::FreshDir(absl::StrCat("float_onnx", k));
    ASSERT_TRUE(WriteFolder(dir, {{"model.onnx", *onnx}}).ok());
    EXPECT_EQ(testing::OnnxCheckerProblem(dir / "model.onnx"), "");
    const torch::Tensor nhwc = x.permute({0, 2, 3, 1}).contiguous();
    const auto* bytes = reinterpret_cast<const int8_t*>(nhwc.data_ptr<float>());
    const std::vector<int8_t> out = testing::RunOnnxRuntime(
        dir / "model.onnx", std::vector<int8_t>(bytes, bytes + nhwc.numel() * 4), "[1,28,28,1]",
        "float32");
    ASSERT_EQ(static_cast<int64_t>(out.size()), expected.numel() * 4);
    const auto* logits = reinterpret_cast<const float*>(out.data());
    const int64_t classes = expected.size(1);
    float worst = 0;
    int same = 0;
    for (int64_t i = 0; i < count; ++i) {
      const float* want = expected.data_ptr<float>() + i * classes;
      for (int64_t c = 0; c < classes; ++c) {
        worst = std::max(worst, std::abs(want[c] - logits[i * classes + c]));
      }
      same += std::max_element(want, want + classes) - want ==
              std::max_element(logits + i * classes, logits + (i + 1) * classes) -
                  (logits + i * classes);
    }
    std::printf("float ONNX %zu: logits within %g of LibTorch's, %d of %d classes equal\n", k,
                worst, same, count);
    EXPECT_LE(worst, 1e-4);
    EXPECT_EQ(same, count);
    std::filesystem::remove_all(dir);
  }
}

// unasctl export --format onnx of a trained candidate: unas-onnx turns its
// LibTorch weights into model.onnx, whose classes under ONNX Runtime give the
// float test error LibTorch measured.
TEST(TrainedNetworks, ExportedFloatOnnxGivesTheStoredTestError) {
  torch::manual_seed(5);
  const std::string arch =
      R"pb(cnn {
             conv_blocks {
               layers {
                 type: CONV_LAYER_TYPE_CONV2D
                 kernel_size: 3
                 filters: 8
                 has_bn: true
                 has_relu: true
               }
             }
             conv_blocks {
               is_branch: true
               layers { type: CONV_LAYER_TYPE_DEPTHWISE kernel_size: 3 has_relu: true }
             }
             pooling { type: POOL_TYPE_MAX pool_size: 2 }
             dense_blocks { units: 16 }
           })pb";
  absl::StatusOr<v1::EvaluationResult> result = Train(arch, "SEARCH_SPACE_KIND_CNN", true);
  ASSERT_TRUE(result.ok()) << result.status();
  v1::ExportCandidateResponse response;
  response.mutable_candidate()->set_job_id(1);
  response.mutable_candidate()->set_candidate_id(2);
  *response.mutable_candidate()->mutable_evaluation() = *result;
  response.mutable_candidate()->mutable_evaluation()->clear_trained_weights();
  response.mutable_candidate()->mutable_evaluation()->clear_quantized_model();
  *response.mutable_architecture() = Arch(arch);
  response.mutable_input_shape()->set_height(28);
  response.mutable_input_shape()->set_width(28);
  response.mutable_input_shape()->set_channels(1);
  response.set_num_classes(10);
  response.set_trained_weights(result->trained_weights());
  *response.mutable_quantized_model() = result->quantized_model();
  cli::ExportFormats onnx = *cli::ParseExportFormats("onnx");
  onnx.float_onnx_tool = UNAS_ONNX_TOOL;
  std::ostringstream log;
  absl::StatusOr<std::map<std::string, std::string>> files =
      cli::CandidateExportFiles(response, onnx, log);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_TRUE(files->contains("model.onnx") && files->contains("model.int8.onnx"));

  const std::filesystem::path dir = testing::FreshDir("exported_onnx");
  ASSERT_TRUE(WriteFolder(dir, {{"model.onnx", files->at("model.onnx")}}).ok());
  EXPECT_EQ(testing::OnnxCheckerProblem(dir / "model.onnx"), "");
  const worker::ImageSet& test = Data().test;
  torch::NoGradGuard no_grad;
  const torch::Tensor x =
      worker::ImagesToTensor(test.image(0), test.size(), 28, 28, 1, Data().preprocessing)
          .permute({0, 2, 3, 1})
          .contiguous();
  const auto* bytes = reinterpret_cast<const int8_t*>(x.data_ptr<float>());
  const std::vector<int8_t> out =
      testing::RunOnnxRuntime(dir / "model.onnx", std::vector<int8_t>(bytes, bytes + x.numel() * 4),
                              "[1,28,28,1]", "float32");
  ASSERT_EQ(static_cast<int64_t>(out.size()), test.size() * 10 * 4);
  const auto* logits = reinterpret_cast<const float*>(out.data());
  int wrong = 0;
  for (int64_t i = 0; i < test.size(); ++i) {
    wrong += std::max_element(logits + i * 10, logits + (i + 1) * 10) - (logits + i * 10) !=
             test.labels[i];
  }
  const double error = static_cast<double>(wrong) / static_cast<double>(test.size());
  std::printf("exported model.onnx: test error %.4f under ONNX Runtime, %.4f stored (LibTorch)\n",
              error, result->test_error());
  EXPECT_NEAR(error, result->test_error(), 1e-9);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unas::codegen
