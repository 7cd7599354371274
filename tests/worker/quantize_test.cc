// int8 quantisation of real UnasNets: every op of the integer-only model
// matches a float LibTorch reference within one output quantisation step on
// random inputs (conv with and without batch normalisation / ReLU, stride 2,
// depthwise, pointwise, max and average pooling, Add with and without zero
// padding, dense with ReLU and the single-logit output, preprocessing folded
// through a pool), and a model trained on real Fashion-MNIST keeps its
// accuracy when quantised.
#include "worker/quantize.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/job_spec/loader.h"
#include "gtest/gtest.h"
#include "int8/interpreter.h"
#include "tests/worker/worker_test_util.h"
#include "worker/batch.h"
#include "worker/model.h"
#include "worker/train_candidate.h"

namespace unas::worker {
namespace {

using testing::Arch;

// Non-trivial batch normalisation statistics and biases, so that folding
// them into the convolutions matters.
void Randomise(UnasNetImpl& net) {
  torch::NoGradGuard no_grad;
  for (auto& p : net.named_parameters()) {
    const std::string& name = p.key();
    if (name.ends_with("_bn.weight")) {
      p.value().uniform_(0.5, 1.5);
    } else if (name.ends_with(".bias")) {
      p.value().uniform_(-0.3, 0.3);
    }
  }
  for (auto& b : net.named_buffers()) {
    if (b.key().ends_with("running_mean")) b.value().uniform_(-0.5, 0.5);
    if (b.key().ends_with("running_var")) b.value().uniform_(0.5, 2.0);
  }
}

ImageSet RandomImages(const Shape& shape, int count, uint32_t seed) {
  ImageSet set;
  set.height = static_cast<int>(shape.height);
  set.width = static_cast<int>(shape.width);
  set.channels = static_cast<int>(shape.channels);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  set.pixels.resize(count * shape.elements());
  for (uint8_t& v : set.pixels) v = static_cast<uint8_t>(byte(rng));
  set.labels.assign(count, 0);
  return set;
}

// A linear op (conv, depthwise, dense) with given weights in torch's layout.
torch::Tensor Linear(const PlannedOp& op, const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias) {
  if (op.kind == OpKind::kDense) {
    return torch::linear(x.dim() == 4 ? x.permute({0, 2, 3, 1}).flatten(1) : x, weight, bias);
  }
  return torch::conv2d(x, weight, bias, at::IntArrayRef{op.stride_height, op.stride_width},
                       at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1},
                       op.kind == OpKind::kDepthwiseConv2D ? x.size(1) : 1);
}

// The float op of the network on real-valued NCHW inputs, as model.cc runs
// it (batch normalisation unfolded).
torch::Tensor FloatOp(UnasNetImpl& net, const PlannedOp& op, const std::vector<torch::Tensor>& in) {
  auto params = net.named_parameters();
  auto buffers = net.named_buffers();
  const std::string name = ModuleName(op.name);
  torch::Tensor y;
  switch (op.kind) {
    case OpKind::kConv2D:
    case OpKind::kDepthwiseConv2D:
    case OpKind::kDense:
      y = Linear(op, in[0], params[name + ".weight"], params[name + ".bias"]);
      if (op.batch_norm) {
        y = torch::batch_norm(y, params[name + "_bn.weight"], params[name + "_bn.bias"],
                              buffers[name + "_bn.running_mean"], buffers[name + "_bn.running_var"],
                              false, 0.0, kBatchNormEpsilon, false);
      }
      break;
    case OpKind::kMaxPool:
      y = torch::max_pool2d(in[0], {op.kernel_height, op.kernel_width},
                            {op.stride_height, op.stride_width});
      break;
    case OpKind::kAvgPool:
      y = torch::avg_pool2d(in[0], {op.kernel_height, op.kernel_width},
                            {op.stride_height, op.stride_width});
      break;
    case OpKind::kAdd:
      for (const torch::Tensor& x : in) {
        torch::Tensor p =
            torch::constant_pad_nd(x,
                                   {0, op.output.width - x.size(3), 0, op.output.height - x.size(2),
                                    0, op.output.channels - x.size(1)},
                                   0);
        y = y.defined() ? y + p : p;
      }
      break;
  }
  return op.relu ? torch::relu(y) : y;
}

// A kernel or bias of the QuantizedModel, dequantised, in torch's layout;
// `bound` gets half a quantisation step of each element (its rounding error).
torch::Tensor Dequantised(const v1::QuantizedModel& model, const std::string& name, OpKind kind,
                          torch::Tensor* bound) {
  const v1::QuantizedTensor* t = nullptr;
  for (const v1::QuantizedTensor& candidate : model.tensors()) {
    if (candidate.name() == name) t = &candidate;
  }
  EXPECT_NE(t, nullptr) << name;
  std::vector<int64_t> shape(t->shape().begin(), t->shape().end());
  const int64_t n =
      t->int32_data_size() > 0 ? t->int32_data_size() : static_cast<int64_t>(t->int8_data().size());
  std::vector<float> values(n), half(n);
  const int64_t channels = t->scale_size();
  for (int64_t k = 0; k < n; ++k) {
    // Output channel: the quantized dimension (0, or 3 = last for depthwise).
    const int64_t c = t->quantized_dimension() == 0 ? k / (n / channels) : k % channels;
    const double q = t->int32_data_size() > 0 ? t->int32_data(k) : t->int8_data()[k];
    values[k] = static_cast<float>(q * t->scale(c));
    half[k] = 0.5f * t->scale(c);
  }
  torch::Tensor v = torch::tensor(values).reshape(shape);
  torch::Tensor h = torch::tensor(half).reshape(shape);
  if (shape.size() == 4) {  // OHWI -> OIHW; depthwise 1HWC -> C1HW
    const std::vector<int64_t> order = kind == OpKind::kDepthwiseConv2D
                                           ? std::vector<int64_t>{3, 0, 1, 2}
                                           : std::vector<int64_t>{0, 3, 1, 2};
    v = v.permute(order).contiguous();
    h = h.permute(order).contiguous();
  }
  *bound = h;
  return v;
}

int FindOp(const v1::QuantizedModel& model, const std::string& output) {
  for (int i = 0; i < model.ops_size(); ++i) {
    if (model.ops(i).output() == output) return i;
  }
  ADD_FAILURE() << "no op writes " << output;
  return 0;
}

struct OpError {
  double steps = 0;        // largest |int8 - float on the int8 operands| in output steps
  double float_steps = 0;  // largest |int8 - float network| beyond the weight rounding bound
  std::string name;
};

// Quantises `net` calibrated on `images` and checks every op on the same
// images, given the int8 values of its inputs (dequantised):
//  - against the float op on the same operands (the dequantised int8 inputs,
//    kernel and bias): within `tolerance_steps` output steps;
//  - against the float network's op (float weights, unfolded batch
//    normalisation, normalised input): within `tolerance_steps` plus the
//    bound of the weight and bias rounding, sum |x| * weight_step / 2 +
//    bias_step / 2.
// Tensors that hold raw input values (the input and pools of it; the
// preprocessing is folded into their readers) are normalised for the latter.
std::vector<OpError> CheckEveryOp(UnasNet& net, const ImageSet& images,
                                  const Preprocessing& preprocessing, double tolerance_steps) {
  Dataset data;
  data.train = images;
  data.test = images;
  data.preprocessing = preprocessing;
  QuantizeOptions options;
  options.calibration_examples = static_cast<int>(images.size());
  int8::ConversionInfo info;
  absl::StatusOr<v1::QuantizedModel> model =
      QuantizeNetwork(net, data, options, torch::kCPU, &info);
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return {};
  EXPECT_TRUE(info.memory_optimal_order);
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(*model);
  EXPECT_TRUE(interpreter.ok()) << interpreter.status();
  if (!interpreter.ok()) return {};
  const NetworkPlan& plan = net->plan();
  EXPECT_EQ(model->ops_size(), static_cast<int>(plan.ops.size()));

  // Every tensor of every image, dequantised, as (N, C, H, W) or (N, units).
  absl::StatusOr<std::vector<int8_t>> q = interpreter->QuantizeBytes(images.pixels);
  EXPECT_TRUE(q.ok());
  const int64_t n = images.size();
  std::vector<std::vector<std::vector<int8_t>>> runs;
  for (int64_t i = 0; i < n; ++i) {
    runs.push_back(interpreter->RunKeepingTensors(q->data() + i * images.image_bytes()));
  }
  auto dequantised = [&](const std::string& name) {
    const int tensor = interpreter->FindTensor(name);
    const v1::QuantizedTensor& t = model->tensors(tensor);
    std::vector<float> values;
    for (int64_t i = 0; i < n; ++i) {
      for (int8_t v : runs[i][tensor]) values.push_back(t.scale(0) * (v - t.zero_point(0)));
    }
    torch::Tensor x = torch::tensor(values);
    if (t.shape_size() == 2) return x.reshape({n, t.shape(1)});
    return x.reshape({n, t.shape(1), t.shape(2), t.shape(3)}).permute({0, 3, 1, 2});
  };
  const int64_t c = images.channels;
  torch::Tensor mean = torch::zeros({1, c, 1, 1}), stddev = torch::ones({1, c, 1, 1});
  for (int64_t k = 0; k < c; ++k) {
    if (!preprocessing.mean.empty()) mean[0][k] = preprocessing.mean[k];
    if (!preprocessing.stddev.empty()) stddev[0][k] = preprocessing.stddev[k];
  }
  std::vector<bool> raw(plan.ops.size(), false);
  auto is_raw = [&](int t) { return t == kNetworkInput || raw[t]; };
  auto name_of = [&](int t) {
    return t == kNetworkInput ? std::string("input") : plan.ops[t].name;
  };

  std::vector<OpError> errors;
  torch::NoGradGuard no_grad;
  net->eval();
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const PlannedOp& op = plan.ops[i];
    const bool pool = op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool;
    raw[i] = pool && is_raw(op.inputs[0]);
    std::vector<torch::Tensor> in, normalised;
    for (int t : op.inputs) {
      in.push_back(dequantised(name_of(t)));
      normalised.push_back(is_raw(t) ? (in.back() - mean) / stddev : in.back());
    }
    const torch::Tensor got = dequantised(op.name);
    const double step = model->tensors(interpreter->FindTensor(op.name)).scale(0);
    OpError e;
    e.name = op.name;
    const bool linear = !pool && op.kind != OpKind::kAdd;
    if (linear) {
      torch::Tensor w_bound, b_bound;
      const torch::Tensor w = Dequantised(*model, op.name + "/weights", op.kind, &w_bound);
      const torch::Tensor b = Dequantised(*model, op.name + "/bias", op.kind, &b_bound);
      torch::Tensor same = Linear(op, in[0], w, b);
      if (op.relu) same = torch::relu(same);
      // Values beyond the calibrated range saturate, as in the int8 op.
      const v1::QuantizedOp& qop = model->ops(FindOp(*model, op.name));
      const int32_t zero_point = model->tensors(interpreter->FindTensor(op.name)).zero_point(0);
      same = same.clamp(step * (qop.activation_min() - zero_point),
                        step * (qop.activation_max() - zero_point));
      e.steps = (got - same).abs().max().item<double>() / step;
      const torch::Tensor rounding = Linear(op, in[0].abs(), w_bound, b_bound);
      const torch::Tensor excess = (got - FloatOp(*net, op, normalised)).abs() - rounding;
      e.float_steps = excess.max().item<double>() / step;
    } else {
      // No weights: both references are the float op on the int8 inputs
      // (raw in, raw out for a pool of the raw input).
      e.steps = (got - FloatOp(*net, op, in)).abs().max().item<double>() / step;
      e.float_steps = e.steps;
    }
    EXPECT_LE(e.steps, tolerance_steps) << op.name << " (" << OpKindName(op.kind) << ")";
    EXPECT_LE(e.float_steps, tolerance_steps) << op.name << " (" << OpKindName(op.kind) << ")";
    std::printf("  %-36s %-16s %.3f steps, %.3f steps beyond the weight rounding\n",
                op.name.c_str(), OpKindName(op.kind), e.steps, e.float_steps);
    errors.push_back(e);
  }
  return errors;
}

TEST(Quantize, ConvDepthwiseBranchAddAvgPoolDenseWithBatchNorm) {
  at::set_num_threads(1);
  torch::manual_seed(1);
  // 12x12x3 (CIFAR preprocessing, folded into the first convolution):
  // conv 3x3 BN ReLU -> conv 3x3 s2 (no BN, no ReLU) -> depthwise 3x3 BN
  // ReLU -> pointwise ReLU; a branch (depthwise + 1x1 projection) added to
  // it; average pool; dense ReLU; 10 logits.
  const v1::Architecture arch = Arch(R"pb(
    cnn {
      conv_blocks {
        layers {
          type: CONV_LAYER_TYPE_CONV2D
          kernel_size: 3
          filters: 6
          has_bn: true
          has_relu: true
        }
        layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 8 stride2: true }
      }
      conv_blocks {
        layers { type: CONV_LAYER_TYPE_DEPTHWISE kernel_size: 3 has_bn: true has_relu: true }
        layers { type: CONV_LAYER_TYPE_POINTWISE filters: 5 has_relu: true }
      }
      conv_blocks {
        is_branch: true
        layers { type: CONV_LAYER_TYPE_DEPTHWISE kernel_size: 3 has_bn: true }
      }
      pooling { type: POOL_TYPE_AVG pool_size: 2 }
      dense_blocks { units: 10 }
    })pb");
  absl::StatusOr<UnasNet> net = BuildNetwork(arch, DataShape{12, 12, 3, 10});
  ASSERT_TRUE(net.ok()) << net.status();
  Randomise(**net);
  Preprocessing cifar;
  cifar.mean.assign(std::begin(kCifarMean), std::end(kCifarMean));
  cifar.stddev.assign(std::begin(kCifarStd), std::end(kCifarStd));
  const std::vector<OpError> errors =
      CheckEveryOp(*net, RandomImages(Shape{12, 12, 3}, 64, 11), cifar, 1.0);
  EXPECT_EQ(errors.size(), (*net)->plan().ops.size());
  // Every kind appears.
  std::set<OpKind> kinds;
  for (const PlannedOp& op : (*net)->plan().ops) kinds.insert(op.kind);
  EXPECT_EQ(kinds.size(), 5u);  // conv, depthwise, add, avg pool, dense
}

TEST(Quantize, MaxPoolsOnTheRawInputAndSingleLogit) {
  at::set_num_threads(1);
  torch::manual_seed(2);
  // A pre-pool (max) reads the input, so the preprocessing is folded through
  // it; a final max pool; one logit (two classes).
  const v1::Architecture arch = Arch(R"pb(
    cnn {
      conv_blocks {
        layers {
          type: CONV_LAYER_TYPE_CONV2D
          kernel_size: 3
          filters: 4
          has_prepool: true
          has_bn: true
          has_relu: true
        }
      }
      pooling { type: POOL_TYPE_MAX pool_size: 2 }
    })pb");
  absl::StatusOr<UnasNet> net = BuildNetwork(arch, DataShape{10, 10, 1, 2});
  ASSERT_TRUE(net.ok()) << net.status();
  Randomise(**net);
  ASSERT_EQ((*net)->plan().ops.front().kind, OpKind::kMaxPool);
  ASSERT_EQ((*net)->plan().ops.back().output.channels, 1);
  Preprocessing pre{{0.3f}, {0.45f}};
  CheckEveryOp(*net, RandomImages(Shape{10, 10, 1}, 64, 12), pre, 1.0);
}

TEST(Quantize, ZeroPaddedAddAndDenseOnTheInput) {
  at::set_num_threads(1);
  torch::manual_seed(3);
  // A hand-made plan: two convolutions of different output size and
  // channels added with zero padding (bottom / right / channels), then a
  // dense output.
  NetworkPlan plan;
  plan.input = Shape{9, 9, 2};
  plan.num_classes = 3;
  PlannedOp a;
  a.kind = OpKind::kConv2D;
  a.name = "a";
  a.inputs = {kNetworkInput};
  a.output = Shape{7, 7, 6};
  a.kernel_height = a.kernel_width = 3;
  a.stride_height = a.stride_width = 1;
  a.relu = true;
  PlannedOp b = a;
  b.name = "b";
  b.output = Shape{4, 4, 4};
  b.stride_height = b.stride_width = 2;
  b.relu = false;
  b.batch_norm = true;
  PlannedOp add;
  add.kind = OpKind::kAdd;
  add.name = "add";
  add.inputs = {0, 1};
  add.output = Shape{7, 7, 6};
  PlannedOp dense;
  dense.kind = OpKind::kDense;
  dense.name = "output";
  dense.inputs = {2};
  dense.output = Shape{1, 1, 3};
  plan.ops = {a, b, add, dense};
  UnasNet net(plan);
  Randomise(*net);
  CheckEveryOp(net, RandomImages(Shape{9, 9, 2}, 64, 13), Preprocessing{}, 1.0);

  // An MLP: the first dense layer flattens the raw 4x4x3 input (NHWC).
  absl::StatusOr<UnasNet> mlp =
      BuildNetwork(Arch("mlp { layers { units: 16 } layers { units: 8 } }"), DataShape{4, 4, 3, 5});
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  Randomise(**mlp);
  CheckEveryOp(*mlp, RandomImages(Shape{4, 4, 3}, 64, 14),
               Preprocessing{{0.5f, 0.4f, 0.3f}, {0.2f, 0.25f, 0.3f}}, 1.0);
}

// --- A trained Fashion-MNIST model ---------------------------------------------------------

// Float features (what Speech Commands stores: MFCCs) instead of pixels: calibration and the
// int8 run read them with the dataset's per-channel normalisation, and int8 agrees with float.
TEST(Quantize, FloatFeaturesAgreeWithTheFloatNetwork) {
  at::set_num_threads(1);
  torch::manual_seed(4);
  const v1::Architecture arch = Arch(R"pb(
    cnn {
      conv_blocks {
        layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 6 has_relu: true }
      }
      pooling { type: POOL_TYPE_AVG pool_size: 2 }
      dense_blocks { units: 12 }
    })pb");
  absl::StatusOr<UnasNet> net = BuildNetwork(arch, DataShape{12, 8, 2, 5});
  ASSERT_TRUE(net.ok()) << net.status();
  Dataset data;
  data.num_classes = 5;
  data.test.height = 12;
  data.test.width = 8;
  data.test.channels = 2;
  std::mt19937 rng(8);
  std::normal_distribution<float> value(-20.0f, 15.0f);  // far from N(0, 1): needs normalising
  constexpr int kExamples = 300;
  data.test.features.resize(kExamples * data.test.image_bytes());
  for (float& v : data.test.features) v = value(rng);
  data.test.labels.assign(kExamples, 0);
  data.preprocessing.mean = {-20.0f, -20.0f};
  data.preprocessing.stddev = {15.0f, 15.0f};
  // Labels: the float network's own predictions, so its test error is 0.
  {
    torch::NoGradGuard no_grad;
    (*net)->eval();
    const torch::Tensor logits =
        (*net)->forward(SetToTensor(data.test, 0, kExamples, data.preprocessing));
    const torch::Tensor predicted = logits.argmax(1);
    for (int i = 0; i < kExamples; ++i) data.test.labels[i] = predicted[i].item<int>();
  }
  data.train = data.test;
  v1::EvaluationResult result;
  ASSERT_TRUE(QuantizeAndEvaluate(*net, data, QuantizeOptions{}, torch::kCPU, &result).ok());
  EXPECT_LE(result.int8_test_error(), 0.1) << "int8 disagrees with float on features";
}

TEST(Quantize, TrainedFashionMnistLosesAtMostOnePointFive) {
  v1::DatasetSpec dataset_spec;
  dataset_spec.set_name(v1::DATASET_NAME_FASHION_MNIST);
  dataset_spec.set_max_train_examples(6000);
  dataset_spec.set_max_test_examples(2000);
  absl::StatusOr<Dataset> data = LoadDataset(dataset_spec, 0);
  ASSERT_TRUE(data.ok()) << data.status();
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpec(
      "name: \"q\" dataset { name: DATASET_NAME_FASHION_MNIST } "
      "search_space { kind: SEARCH_SPACE_KIND_CNN } bounds { error: 0.5 } "
      "training { optimizer { kind: OPTIMIZER_KIND_ADAMW learning_rate: 0.003 "
      "weight_decay: 1e-5 } epochs: 2 batch_size: 64 augmentation { enabled: false } "
      "device: DEVICE_CPU } seed: 5",
      ProtoFormat::kTextproto, "test");
  ASSERT_TRUE(spec.ok()) << spec.status();
  TrainRequest request;
  request.spec = *spec;
  // conv 3x3x16 ReLU -> pre-pool + conv 3x3x32 s2 ReLU -> a branch (depthwise
  // + projection) added to it -> max pool 2 -> dense 32 -> 10 logits.
  request.architecture = Arch(R"pb(
    cnn {
      conv_blocks {
        layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 16 has_relu: true }
      }
      conv_blocks {
        layers {
          type: CONV_LAYER_TYPE_CONV2D
          kernel_size: 3
          filters: 32
          stride2: true
          has_prepool: true
          has_relu: true
        }
      }
      conv_blocks {
        is_branch: true
        layers { type: CONV_LAYER_TYPE_DEPTHWISE kernel_size: 3 stride2: true has_relu: true }
      }
      pooling { type: POOL_TYPE_MAX pool_size: 2 }
      dense_blocks { units: 32 }
    })pb");
  request.dataset = &*data;
  request.threads = 1;
  request.include_weights = false;
  absl::StatusOr<v1::EvaluationResult> result = TrainCandidate(request);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->has_int8_test_error());
  const double float_accuracy = 1.0 - result->test_error();
  const double int8_accuracy = 1.0 - result->int8_test_error();
  std::printf("float accuracy %.4f, int8 accuracy %.4f, %d int8 ops\n", float_accuracy,
              int8_accuracy, result->quantized_model().ops_size());
  EXPECT_GE(float_accuracy, 0.7);
  EXPECT_GE(int8_accuracy, float_accuracy - 0.015);
  bool has_add = false;
  for (const v1::QuantizedOp& op : result->quantized_model().ops()) {
    has_add = has_add || op.type() == v1::QUANTIZED_OP_TYPE_ADD;
  }
  EXPECT_TRUE(has_add);

  // The stored model, after a trip through its wire format, gives the same
  // accuracy with several threads.
  v1::QuantizedModel back;
  ASSERT_TRUE(back.ParseFromString(result->quantized_model().SerializeAsString()));
  absl::StatusOr<double> again = Int8Accuracy(back, data->test, data->preprocessing, 2);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, int8_accuracy);

  // Skipping the quantisation leaves both fields empty.
  request.quantize = false;
  request.epochs = 1;
  absl::StatusOr<v1::EvaluationResult> plain = TrainCandidate(request);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->has_int8_test_error());
  EXPECT_FALSE(plain->has_quantized_model());
}

}  // namespace
}  // namespace unas::worker
