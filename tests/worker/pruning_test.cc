// DPF pruning (schedule, global masks, feedback, evaluation restoring the
// dense weights, the compacted network) and knowledge distillation (the loss
// against its formula, TorchScript teachers), down to structured pruning of a
// small CNN on real Fashion-MNIST and a job with pruning and distillation.
#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "common/search_space/random_architecture.h"
#include "common/search_space/resource_graph.h"
#include "common/search_space/rng.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/worker/worker_test_util.h"
#include "worker/distill/distillation.h"
#include "worker/distill/torchscript.h"
#include "worker/pruning/channels.h"
#include "worker/pruning/dpf.h"
#include "worker/pruning/masks.h"
#include "worker/pruning/schedule.h"
#include "worker/train_candidate.h"
#include "worker/trainer.h"

namespace unas::worker {
namespace {

using testing::Arch;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every structural feature compaction has to handle: a layer reading the
// input, batch normalisation, a pre-pool, a depthwise layer inside a block, a
// branch summed with the main path (Add), a branch ending in a depthwise
// layer (1x1 projection), global pooling and two dense layers.
constexpr char kBranchyCnn[] = R"pb(
  cnn {
    conv_blocks {
      layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 12 has_bn: true has_relu: true }
    }
    conv_blocks {
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 16
        has_prepool: true
        has_bn: true
        has_relu: true
      }
      layers { type: CONV_LAYER_TYPE_DEPTHWISE kernel_size: 3 has_bn: true has_relu: true }
      layers { type: CONV_LAYER_TYPE_POINTWISE filters: 20 has_bn: true has_relu: true }
    }
    conv_blocks {
      is_branch: true
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 5
        filters: 8
        has_prepool: true
        has_relu: true
      }
      layers { type: CONV_LAYER_TYPE_POINTWISE filters: 20 has_bn: true }
    }
    conv_blocks {
      is_branch: true
      layers { type: CONV_LAYER_TYPE_POINTWISE filters: 10 has_bn: true has_relu: true }
      layers { type: CONV_LAYER_TYPE_DEPTHWISE kernel_size: 3 stride2: true has_relu: true }
    }
    conv_blocks {
      layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 24 has_bn: true has_relu: true }
    }
    pooling { type: POOL_TYPE_AVG pool_size: 2 }
    dense_blocks { units: 32 }
    dense_blocks { units: 24 }
  })pb";

const DataShape kMnistShape{28, 28, 1, 10};

UnasNet Build(const v1::Architecture& arch, const DataShape& data, uint64_t seed) {
  torch::manual_seed(seed);
  absl::StatusOr<UnasNet> net = BuildNetwork(arch, data);
  EXPECT_TRUE(net.ok()) << net.status();
  return *net;
}

// Batch normalisation away from its identity initialisation, so that
// compaction has to carry the right statistics along.
void RandomiseBatchNorm(UnasNetImpl& net) {
  torch::NoGradGuard no_grad;
  for (const auto& child : net.named_children()) {
    auto* bn = child.value()->as<torch::nn::BatchNorm2dImpl>();
    if (bn == nullptr) continue;
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.normal_(0, 0.2);
    bn->running_mean.normal_(0, 0.2);
    bn->running_var.uniform_(0.5, 2.0);
  }
}

PruningSchedule Schedule(double sparsity, bool structured, int start = 1, int finish = 1) {
  PruningSchedule s;
  s.target_sparsity = sparsity;
  s.structured = structured;
  s.start_epoch = start;
  s.finish_epoch = finish;
  return s;
}

double MaxAbsDifference(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// --- Schedule ---------------------------------------------------------------------------

TEST(PruningSchedule, CubicRampAtEveryEpoch) {
  v1::PruningSpec spec;
  spec.set_start_epoch(3);
  spec.set_finish_epoch(7);
  absl::StatusOr<PruningSchedule> s = MakePruningSchedule(spec, 0.8);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->mask_update_period, 16);
  // t0 = 2, tn = 6, n = 4: s_t = 0.8 + (0 - 0.8) * (1 - (e - 2) / 4)^3.
  const double expected[10] = {0,
                               0,
                               0,
                               0.8 * (1 - 0.75 * 0.75 * 0.75),
                               0.8 * (1 - 0.5 * 0.5 * 0.5),
                               0.8 * (1 - 0.25 * 0.25 * 0.25),
                               0.8,
                               0.8,
                               0.8,
                               0.8};
  for (int e = 0; e < 10; ++e) {
    EXPECT_NEAR(SparsityForEpoch(*s, e), expected[e], 1e-15) << "epoch " << e;
    EXPECT_EQ(s->UpdatesMasksIn(e), e >= 2 && e <= 6) << "epoch " << e;
  }
  // Validation counts from 0-based epoch 7, the one after the ramp.
  EXPECT_EQ(DpfPruning(*s, {}, {}).FirstCountedEpoch(), 7);

  spec.set_start_epoch(4);
  spec.set_finish_epoch(4);
  s = MakePruningSchedule(spec, 0.5);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(SparsityForEpoch(*s, 2), 0);
  EXPECT_EQ(SparsityForEpoch(*s, 3), 0.5);  // one-epoch ramp: at once
  EXPECT_EQ(SparsityForEpoch(*s, 9), 0.5);
}

TEST(PruningSchedule, RejectsBadSpecs) {
  v1::PruningSpec spec;
  spec.set_start_epoch(5);
  spec.set_finish_epoch(4);
  EXPECT_THAT(MakePruningSchedule(spec, 0.5).status().message(), HasSubstr("finish_epoch"));
  spec.set_finish_epoch(6);
  EXPECT_THAT(MakePruningSchedule(spec, 1.0).status().message(), HasSubstr("(0, 1)"));
  spec.set_mask_update_period(0);
  EXPECT_THAT(MakePruningSchedule(spec, 0.5).status().message(), HasSubstr("mask_update_period"));
}

// --- Masks ------------------------------------------------------------------------------

TEST(PruningMasks, QuantileInterpolatesLinearlyLikeNumpy) {
  const std::vector<at::Tensor> values = {torch::tensor({4.0f, 1.0f}),
                                          torch::tensor({3.0f, 2.0f, 10.0f})};
  // Sorted 1 2 3 4 10: q = 0.5 -> 3; q = 0.3 -> position 1.2 -> 2.2; q = 0.9 -> 3.6 -> 7.6.
  EXPECT_NEAR(GlobalQuantile(values, 0.5), 3.0, 1e-12);
  EXPECT_NEAR(GlobalQuantile(values, 0.3), 2.2, 1e-6);
  EXPECT_NEAR(GlobalQuantile(values, 0.9), 7.6, 1e-6);
  EXPECT_NEAR(GlobalQuantile(values, 0.0), 1.0, 1e-12);
  EXPECT_NEAR(GlobalQuantile(values, 1.0), 10.0, 1e-12);
}

TEST(PruningMasks, UnstructuredReachesTheGlobalSparsity) {
  UnasNet net = Build(Arch(kBranchyCnn), kMnistShape, 1);
  DpfPruning dpf(Schedule(0.6, false), Arch(kBranchyCnn), {});
  ASSERT_TRUE(dpf.OnTrainBegin(*net, 1).ok());
  // Every convolution (depthwise included) and hidden dense layer; not the output.
  EXPECT_EQ(dpf.pruned_layers().size(), net->prunable_layers().size());
  for (const std::string& name : dpf.pruned_layers()) EXPECT_NE(name, "output");
  for (double s : {0.1, 0.6, 0.95}) {
    dpf.UpdateMasks(s);
    EXPECT_NEAR(dpf.MaskedWeightFraction(), s, 0.01) << s;
    // Applied: that fraction of the pruned kernels' elements is zero.
    dpf.ApplyMasks(false);
    double zeros = 0, total = 0;
    for (const PrunableLayer& l : net->prunable_layers()) {
      zeros += l.weight.eq(0).sum().item<double>();
      total += static_cast<double>(l.weight.numel());
    }
    EXPECT_NEAR(zeros / total, s, 0.01);
    dpf.RestoreDenseWeights();
  }
}

TEST(PruningMasks, StructuredReachesTheGlobalChannelSparsityAndExcludesLayers) {
  const v1::Architecture arch = Arch(kBranchyCnn);
  UnasNet net = Build(arch, kMnistShape, 2);
  DpfPruning dpf(Schedule(0.5, true), arch, {});
  ASSERT_TRUE(dpf.OnTrainBegin(*net, 1).ok());
  // Not the layer reading the input, not the depthwise layers, not the output.
  EXPECT_THAT(dpf.pruned_layers(),
              ElementsAre("conv_blocks[1].layers[0]", "conv_blocks[1].layers[2]",
                          "conv_blocks[2].layers[0]", "conv_blocks[2].layers[1]",
                          "conv_blocks[3].layers[0]", "conv_blocks[3].branch_projection",
                          "conv_blocks[4].layers[0]", "dense_blocks[0]", "dense_blocks[1]"));
  // 16 + 20 + 8 + 20 + 10 + 20 + 24 + 32 + 24 = 174 channels.
  for (double s : {0.2, 0.35, 0.5}) {
    dpf.UpdateMasks(s);
    EXPECT_NEAR(dpf.MaskedChannelFraction(), s, 0.01) << s;
    dpf.ApplyMasks(false);
    // Whole channels: a channel's kernel slice is all zero or has no zero.
    for (const PrunableLayer& l : net->prunable_layers()) {
      const at::Tensor zero_rows = l.weight.flatten(1).eq(0).all(1);
      const at::Tensor any_zero = l.weight.flatten(1).eq(0).any(1);
      EXPECT_TRUE(zero_rows.eq(any_zero).all().item<bool>()) << l.name;
      // A pruned channel's bias is masked with it.
      EXPECT_EQ(l.bias.masked_select(zero_rows).abs().sum().item<double>(), 0) << l.name;
    }
    dpf.RestoreDenseWeights();
  }
  // Far beyond where some layer has no channel above the threshold: each
  // pruned layer keeps at least its strongest channel.
  const std::vector<std::string> pruned = dpf.pruned_layers();
  std::vector<at::Tensor> dense;
  for (const PrunableLayer& l : net->prunable_layers()) dense.push_back(l.weight.detach().clone());
  dpf.UpdateMasks(0.99);
  dpf.ApplyMasks(false);
  int single = 0;
  const std::vector<PrunableLayer> layers = net->prunable_layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    if (std::find(pruned.begin(), pruned.end(), layers[i].name) == pruned.end()) continue;
    const at::Tensor alive = layers[i].weight.flatten(1).ne(0).any(1);
    const int64_t count = alive.sum().item<int64_t>();
    EXPECT_GE(count, 1) << layers[i].name;
    if (count != 1) continue;
    ++single;
    EXPECT_EQ(alive.to(at::kLong).argmax().item<int64_t>(),
              dense[i].flatten(1).pow(2).sum(1).argmax().item<int64_t>())
        << layers[i].name;
  }
  EXPECT_GE(single, 5);
  dpf.RestoreDenseWeights();
}

TEST(PruningChannels, AddInputsKeepOneAlignedChannelSet) {
  // conv a (4 ch) and conv b (4 ch) summed by an Add, then a dense layer.
  NetworkPlan plan;
  plan.input = Shape{4, 4, 1};
  plan.num_classes = 3;
  auto op = [](OpKind kind, std::vector<int> inputs, Shape out) {
    PlannedOp o;
    o.kind = kind;
    o.inputs = std::move(inputs);
    o.output = out;
    return o;
  };
  plan.ops = {op(OpKind::kConv2D, {kNetworkInput}, {2, 2, 4}),
              op(OpKind::kConv2D, {0}, {2, 2, 4}),
              op(OpKind::kConv2D, {0}, {2, 2, 4}),
              op(OpKind::kMaxPool, {2}, {2, 2, 4}),
              op(OpKind::kAdd, {1, 3}, {2, 2, 4}),
              op(OpKind::kDense, {4}, {1, 1, 3})};
  std::vector<ChannelMask> own(plan.ops.size());
  own[0] = {true, false, true, true};
  own[1] = {true, false, true, false};
  own[2] = {false, false, true, true};
  const std::vector<ChannelMask> alive = PropagateAliveChannels(plan, own);
  EXPECT_EQ(alive[3], own[2]);
  EXPECT_EQ(alive[4], (ChannelMask{true, false, true, true}));
  const auto kept = KeptChannels(plan, alive);
  // Channel 1 is dead everywhere and goes; 0, 2, 3 stay in both Add inputs
  // (the pool shares its input's), even where that input's own is pruned.
  EXPECT_THAT(kept[0], ElementsAre(0, 2, 3));
  EXPECT_THAT(kept[1], ElementsAre(0, 2, 3));
  EXPECT_THAT(kept[2], ElementsAre(0, 2, 3));
  EXPECT_THAT(kept[3], ElementsAre(0, 2, 3));
  EXPECT_THAT(kept[4], ElementsAre(0, 2, 3));
  EXPECT_THAT(kept[5], ElementsAre(0, 1, 2));
  // Nothing alive at all still leaves one (zero) channel.
  own[1] = own[2] = {false, false, false, false};
  EXPECT_THAT(KeptChannels(plan, PropagateAliveChannels(plan, own))[4], ElementsAre(0));
}

// --- Feedback ---------------------------------------------------------------------------

TEST(PruningFeedback, GradientsReachMaskedWeightsAndTheStepUpdatesDenseOnes) {
  const v1::Architecture arch = Arch(kBranchyCnn);
  for (bool structured : {false, true}) {
    SCOPED_TRACE(structured ? "structured" : "unstructured");
    UnasNet net = Build(arch, kMnistShape, 3);
    net->train();
    DpfPruning dpf(Schedule(0.5, structured), arch, {});
    ASSERT_TRUE(dpf.OnTrainBegin(*net, 1).ok());
    dpf.OnEpochBegin(0);
    std::vector<at::Tensor> dense;
    for (const PrunableLayer& l : net->prunable_layers())
      dense.push_back(l.weight.detach().clone());
    dpf.BeforeForward(0, 0);  // updates the masks (epoch 0 = the ramp's last), applies them
    ASSERT_TRUE(dpf.masks_applied());
    torch::manual_seed(4);
    at::Tensor x = torch::randn({8, 1, 28, 28});
    at::Tensor y = torch::randint(0, 10, {8}, torch::kLong);
    at::Tensor loss = BatchLoss(net->forward(x), y, {});
    for (const at::Tensor& p : net->parameters()) p.mutable_grad() = at::Tensor();
    loss.backward();
    // Unstructured: every layer. Structured: the layers without ReLU (one
    // with batch normalisation, one without); a pruned channel is exactly
    // zero, and ReLU passes no gradient at 0.
    const std::vector<PrunableLayer> layers = net->prunable_layers();
    double masked_with_gradient = 0, masked = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (structured && layers[i].name != "conv_blocks[2].layers[1]" &&
          layers[i].name != "conv_blocks[3].branch_projection") {
        continue;
      }
      const at::Tensor is_masked = layers[i].weight.eq(0) & dense[i].ne(0);
      masked += is_masked.sum().item<double>();
      masked_with_gradient += (is_masked & layers[i].weight.grad().ne(0)).sum().item<double>();
    }
    // (Not all: a weight reading a ReLU's zero or feeding a dead unit has none.)
    ASSERT_GT(masked, 0);
    EXPECT_GT(masked_with_gradient / masked, 0.5);
    // The optimizer step sees the dense weights and moves them by the
    // gradient computed at the masked point.
    dpf.BeforeOptimizerStep();
    EXPECT_FALSE(dpf.masks_applied());
    std::vector<at::Tensor> grads;
    for (size_t i = 0; i < layers.size(); ++i) {
      EXPECT_EQ(MaxAbsDifference(layers[i].weight, dense[i]), 0) << layers[i].name;
      grads.push_back(layers[i].weight.grad().clone());
    }
    {
      torch::NoGradGuard no_grad;
      for (const PrunableLayer& l : layers) l.weight.sub_(0.1 * l.weight.grad());
    }
    for (size_t i = 0; i < layers.size(); ++i) {
      EXPECT_LT(MaxAbsDifference(layers[i].weight, dense[i] - 0.1 * grads[i]), 1e-7);
    }
  }
}

// A hook placed after the pruning hook that looks at the pruned kernels at
// the start of every epoch: they must be dense again (the original zeroed
// them for good at every validation).
class DenseWeightProbe : public TrainingHook {
 public:
  explicit DenseWeightProbe(const DpfPruning* dpf) : dpf_(dpf) {}
  absl::Status OnTrainBegin(UnasNetImpl& net, int) override {
    net_ = &net;
    return absl::OkStatus();
  }
  void OnEpochBegin(int epoch) override {
    if (epoch == 0) return;
    double zeros = 0, total = 0;
    for (const PrunableLayer& l : net_->prunable_layers()) {
      zeros += l.weight.eq(0).sum().item<double>();
      total += static_cast<double>(l.weight.numel());
    }
    zero_fraction.push_back(zeros / total);
    masked_fraction.push_back(dpf_->MaskedWeightFraction());
  }
  void BeforeEvaluation() override {
    double zeros = 0, total = 0;
    for (const PrunableLayer& l : net_->prunable_layers()) {
      zeros += l.weight.eq(0).sum().item<double>();
      total += static_cast<double>(l.weight.numel());
    }
    evaluated_zero_fraction.push_back(zeros / total);
  }
  std::vector<double> zero_fraction, masked_fraction, evaluated_zero_fraction;

 private:
  const DpfPruning* dpf_;
  UnasNetImpl* net_ = nullptr;
};

// --- Fashion-MNIST ----------------------------------------------------------------------

// The Fashion-MNIST subset of these tests: 6,000 training and 3,000 test images.
const Dataset& Fashion() { return testing::FashionSubset(6000, 3000); }

Dataset SmallFashion(int64_t train, int64_t validation, int64_t test) {
  return testing::Truncated(Fashion(), train, validation, test);
}

v1::JobSpec FashionJob(const std::string& training) {
  return testing::FashionJob(training, /*max_test=*/3000, /*seed=*/5);
}

TEST(PruningEvaluation, RestoresTheDenseWeightsAfterEveryValidation) {
  at::set_num_threads(1);
  const Dataset data = SmallFashion(640, 100, 100);
  const v1::Architecture arch = Arch(kBranchyCnn);
  UnasNet net = Build(arch, data.shape(), 6);
  DpfPruning dpf(Schedule(0.7, false, 1, 2), arch, {});
  DenseWeightProbe probe(&dpf);
  TrainerOptions options;
  options.training = FashionJob(
                         "optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.001 } epochs: 3 "
                         "batch_size: 64 augmentation { enabled: false }")
                         .training();
  options.hooks = {&dpf, &probe};
  absl::StatusOr<v1::EvaluationResult> result = Train(net, data, options, c10::Device(c10::kCPU));
  ASSERT_TRUE(result.ok()) << result.status();
  // Epoch 3 begins with the pruned set 70 % masked (since epoch 2, whose
  // validation ran masked) but no kernel element zero: the validation's
  // masking was undone. (Epoch 2 begins with epoch 1's masks, s = 0.)
  ASSERT_EQ(probe.zero_fraction.size(), 2u);
  EXPECT_EQ(probe.masked_fraction[0], 0);
  EXPECT_NEAR(probe.masked_fraction[1], 0.7, 0.01);
  EXPECT_LT(probe.zero_fraction[0], 0.001);
  EXPECT_LT(probe.zero_fraction[1], 0.001);
  // Every evaluation (3 validations, 1 test) after the first mask ran masked.
  ASSERT_EQ(probe.evaluated_zero_fraction.size(), 4u);
  EXPECT_LT(probe.evaluated_zero_fraction[0], 0.001);  // epoch 1 of the ramp: s = 0
  for (size_t i = 1; i < 4; ++i) EXPECT_NEAR(probe.evaluated_zero_fraction[i], 0.7, 0.01);
  // The final network stays masked; per-epoch sparsity and the counted epochs.
  EXPECT_NEAR(result->achieved_sparsity(), 0.7, 0.01);
  ASSERT_EQ(result->epochs_size(), 3);
  EXPECT_NEAR(result->epochs(0).sparsity(), 0.0, 1e-9);  // epoch 1: s = 0
  EXPECT_NEAR(result->epochs(1).sparsity(), 0.7, 0.01);
  EXPECT_NEAR(result->epochs(2).sparsity(), 0.7, 0.01);
  EXPECT_NEAR(result->validation_error(), 1 - result->epochs(2).validation_accuracy(), 1e-12);
}

// --- Compaction -------------------------------------------------------------------------

// Prunes `arch` (random weights, randomised batch normalisation) with
// structured masks at `sparsity`, builds the compacted network and checks
// its outputs against the masked network's. Returns the dense and compacted
// parameter counts.
std::pair<int64_t, int64_t> CheckCompaction(const v1::Architecture& arch, const DataShape& data,
                                            double sparsity, bool structured, uint64_t seed) {
  UnasNet net = Build(arch, data, seed);
  RandomiseBatchNorm(*net);
  DpfPruning dpf(Schedule(sparsity, structured), arch, {});
  EXPECT_TRUE(dpf.OnTrainBegin(*net, 1).ok());
  dpf.UpdateMasks(sparsity);
  dpf.BeforeEvaluation();
  v1::EvaluationResult result;
  absl::Status s = dpf.OnTrainEnd(&result);
  EXPECT_TRUE(s.ok()) << s;
  if (!s.ok()) return {0, 0};
  UnasNet compact = dpf.compacted();
  net->eval();
  compact->eval();
  torch::manual_seed(seed + 1);
  at::Tensor x = torch::randn({3, data.channels, data.height, data.width});
  torch::NoGradGuard no_grad;
  const at::Tensor masked_out = net->forward(x);
  const at::Tensor compact_out = compact->forward(x);
  const double scale = 1 + masked_out.abs().max().item<double>();
  EXPECT_LE(MaxAbsDifference(masked_out, compact_out), 2e-5 * scale);
  // The coordinator's pruned view of the reported layers is the compacted plan.
  PlanOptions options;
  options.pruning = &result.pruning();
  absl::StatusOr<NetworkPlan> view = PlanNetwork(arch, data, options);
  EXPECT_TRUE(view.ok()) << view.status();
  if (view.ok()) {
    EXPECT_EQ(view->parameter_count(), compact->weight_count());
    for (size_t i = 0; i < view->ops.size(); ++i) {
      EXPECT_EQ(view->ops[i].output, compact->plan().ops[i].output) << view->ops[i].name;
    }
  }
  EXPECT_EQ(result.pruning_size(), static_cast<int>(net->prunable_layers().size()));
  return {net->weight_count(), compact->weight_count()};
}

TEST(PruningCompaction, CompactedNetworkComputesTheMaskedOne) {
  const auto [dense, compact] = CheckCompaction(Arch(kBranchyCnn), kMnistShape, 0.5, true, 7);
  EXPECT_LT(compact, dense);
  // Unstructured masks remove no channel: the same network, masked weights.
  const auto [dense2, compact2] = CheckCompaction(Arch(kBranchyCnn), kMnistShape, 0.5, false, 8);
  EXPECT_EQ(compact2, dense2);
}

TEST(PruningCompaction, RandomArchitecturesCompactExactly) {
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  const DataShape data{20, 20, 3, 4};
  int shrunk = 0;
  for (int i = 0; i < 12; ++i) {
    SCOPED_TRACE(i);
    Rng rng(300 + i);
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, data, rng);
    ASSERT_TRUE(arch.ok()) << arch.status();
    const auto [dense, compact] = CheckCompaction(*arch, data, 0.3 + 0.05 * i, true, 40 + i);
    if (compact < dense) ++shrunk;
  }
  EXPECT_GE(shrunk, 9);
}

// --- Structured pruning on Fashion-MNIST ------------------------------------------------

// conv 16 s2 (reads the input: kept) -> conv 16 -> conv 16 s2 -> max pool 2
// -> dense 64 -> output. The peak memory is at the second convolution
// (13x13x16 + 11x11x16 bytes), which structured pruning shrinks. Every
// pruned layer has as many inputs as outputs, so their Glorot-initialised
// channel norms are of one scale: the global threshold (no per-layer
// normalisation, as the original) would otherwise take most of the layers
// with the smallest norms. No batch normalisation: with Keras's momentum
// 0.99 a few hundred steps leave its moving statistics far from the data's
// (see trainer_test).
constexpr char kPrunableCnn[] = R"pb(
  cnn {
    conv_blocks {
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 16
        stride2: true
        has_relu: true
      }
    }
    conv_blocks {
      layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 16 has_relu: true }
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 16
        stride2: true
        has_relu: true
      }
    }
    pooling { type: POOL_TYPE_MAX pool_size: 2 }
    dense_blocks { units: 64 }
  })pb";

TEST(PruningFashionMnist, StructuredHalfKeepsAccuracyAndShrinksResources) {
  const Dataset& data = Fashion();
  ASSERT_EQ(data.train.size(), 6000);
  TrainRequest request;
  request.spec = FashionJob(
      "optimizer { kind: OPTIMIZER_KIND_ADAMW learning_rate: 0.003 weight_decay: 1e-5 } "
      "epochs: 3 batch_size: 64 augmentation { enabled: false } device: DEVICE_CPU "
      "pruning { structured: true start_epoch: 1 finish_epoch: 2 }");
  request.architecture = Arch(kPrunableCnn);
  request.dataset = &data;
  request.sparsity = 0.5;
  request.threads = 1;
  request.quantize = false;
  absl::StatusOr<v1::EvaluationResult> result = TrainCandidate(request);
  ASSERT_TRUE(result.ok()) << result.status();
  v1::EvaluationResult summary = *result;
  summary.clear_trained_weights();
  EXPECT_GE(1.0 - result->test_error(), 0.70) << summary.DebugString();
  ASSERT_EQ(result->pruning_size(), 4);  // three convolutions and the hidden dense layer
  EXPECT_EQ(result->pruning(0).surviving_channels(), 16);  // reads the input
  int64_t kept = 0;
  for (int i = 1; i < 4; ++i) kept += result->pruning(i).surviving_channels();
  EXPECT_NEAR(static_cast<double>(kept) / (16 + 16 + 64), 0.5, 0.01) << summary.DebugString();
  EXPECT_LT(result->pruning(1).surviving_channels(), 16) << summary.DebugString();
  EXPECT_GT(result->achieved_sparsity(), 0.3);

  // The coordinator's resources of the compacted network are smaller.
  absl::StatusOr<rm::ResourceReport> dense =
      ComputeArchitectureResources(request.architecture, data.shape());
  PlanOptions pruned_view;
  pruned_view.pruning = &result->pruning();
  absl::StatusOr<rm::ResourceReport> pruned =
      ComputeArchitectureResources(request.architecture, data.shape(), pruned_view);
  ASSERT_TRUE(dense.ok() && pruned.ok());
  EXPECT_LT(pruned->pmu_bytes, dense->pmu_bytes);
  EXPECT_LT(pruned->model_size_unas, dense->model_size_unas);
  EXPECT_LT(pruned->macs, dense->macs);

  // The exported weights are the compacted network's and reproduce the
  // (masked) test accuracy.
  absl::StatusOr<double> accuracy = EvaluateWeights(
      request.architecture, request.spec, result->trained_weights(), data, &result->pruning());
  ASSERT_TRUE(accuracy.ok()) << accuracy.status();
  EXPECT_NEAR(*accuracy, 1.0 - result->test_error(), 1e-3);
}

// --- Distillation -----------------------------------------------------------------------

// -sum_k p_k log q_k with p, q the softmax of the rows at temperature T.
double HandCrossEntropy(const std::vector<double>& teacher, const std::vector<double>& student,
                        double t) {
  auto softmax = [t](const std::vector<double>& z) {
    std::vector<double> e(z.size());
    double sum = 0;
    for (size_t i = 0; i < z.size(); ++i) sum += e[i] = std::exp(z[i] / t);
    for (double& v : e) v /= sum;
    return e;
  };
  const std::vector<double> p = softmax(teacher), q = softmax(student);
  double ce = 0;
  for (size_t i = 0; i < p.size(); ++i) ce -= p[i] * std::log(q[i]);
  return ce;
}

TEST(Distillation, LossIsAlphaTSquaredCrossEntropyOfSoftenedDistributions) {
  const std::vector<std::vector<double>> s = {{1.0, 2.0, 0.5}, {0.1, -1.0, 2.0}};
  const std::vector<std::vector<double>> t = {{2.0, 0.0, 1.0}, {0.0, 1.0, -1.0}};
  const at::Tensor student = torch::tensor({1.0, 2.0, 0.5, 0.1, -1.0, 2.0}, torch::kDouble)
                                 .reshape({2, 3})
                                 .requires_grad_(true);
  const at::Tensor teacher =
      torch::tensor({2.0, 0.0, 1.0, 0.0, 1.0, -1.0}, torch::kDouble).reshape({2, 3});
  for (double temperature : {1.0, 2.0, 4.0}) {
    const double expected =
        0.3 * temperature * temperature *
        (HandCrossEntropy(t[0], s[0], temperature) + HandCrossEntropy(t[1], s[1], temperature)) / 2;
    EXPECT_NEAR(DistillationLoss(student, teacher, 0.3, temperature).item<double>(), expected,
                1e-12)
        << temperature;
  }
  // The hard loss plus the term, as the trainer adds them (hard weight 1).
  const at::Tensor labels = torch::tensor({1, 2}, torch::kLong);
  const double hard = (-std::log(std::exp(2.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(0.5))) -
                       std::log(std::exp(2.0) / (std::exp(0.1) + std::exp(-1.0) + std::exp(2.0)))) /
                      2;
  const at::Tensor total =
      BatchLoss(student, labels, {}) + DistillationLoss(student, teacher, 0.3, 2.0);
  EXPECT_NEAR(
      total.item<double>(),
      hard + 0.3 * 4 * (HandCrossEntropy(t[0], s[0], 2) + HandCrossEntropy(t[1], s[1], 2)) / 2,
      1e-12);
  // One logit: the two-class distribution (sigmoid(z / T), 1 - sigmoid(z / T)).
  const double z = 0.7, zt = -0.4, T = 2;
  const double p = 1 / (1 + std::exp(-zt / T)), q = 1 / (1 + std::exp(-z / T));
  EXPECT_NEAR(DistillationLoss(torch::tensor({{z}}, torch::kDouble),
                               torch::tensor({{zt}}, torch::kDouble), 0.5, T)
                  .item<double>(),
              0.5 * T * T * -(p * std::log(q) + (1 - p) * std::log(1 - q)), 1e-12);
}

std::string TempPath(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("unas_pruning_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

TEST(Distillation, TorchScriptTeacherComputesTheNetworkAndDrivesTheLoss) {
  const v1::Architecture arch = Arch(kBranchyCnn);
  UnasNet teacher_net = Build(arch, kMnistShape, 9);
  RandomiseBatchNorm(*teacher_net);
  teacher_net->eval();
  const std::string path = TempPath("teacher.pt");
  ASSERT_TRUE(SaveTorchScript(*teacher_net, path).ok());
  absl::StatusOr<torch::jit::Module> teacher = LoadTeacher(path, c10::Device(c10::kCPU));
  ASSERT_TRUE(teacher.ok()) << teacher.status();
  torch::manual_seed(10);
  const at::Tensor x = torch::randn({4, 1, 28, 28});
  at::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = teacher_net->forward(x);
  }
  Distillation hook(*teacher, 0.3, 2.0);
  EXPECT_LE(MaxAbsDifference(hook.TeacherLogits(x), expected), 1e-5);

  // The hook's extra loss for a student's logits is the formula's.
  UnasNet student = Build(
      Arch(R"pb(cnn {
                  conv_blocks {
                    layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 5 filters: 4 stride2: true }
                  }
                  pooling { type: POOL_TYPE_AVG pool_size: 4 }
                })pb"),
      kMnistShape, 11);
  ASSERT_TRUE(hook.OnTrainBegin(*student, 1).ok());
  const at::Tensor logits = student->forward(x);
  EXPECT_NEAR(hook.ExtraLoss(x, logits).item<double>(),
              DistillationLoss(logits, expected, 0.3, 2.0).item<double>(), 1e-6);

  // A teacher whose outputs do not fit the student is refused.
  UnasNet binary = Build(Arch(kBranchyCnn), DataShape{28, 28, 1, 2}, 12);
  EXPECT_THAT(std::string(hook.OnTrainBegin(*binary, 1).message()), HasSubstr("teacher"));
  EXPECT_FALSE(LoadTeacher(TempPath("missing.pt"), c10::Device(c10::kCPU)).ok());
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(Distillation, JobWithDistillationAndPruningTrains) {
  at::set_num_threads(1);
  const Dataset data = SmallFashion(1500, 300, 500);
  // The teacher: a short training run saved as TorchScript.
  const std::string teacher_path = TempPath("fashion_teacher.pt");
  TrainRequest teacher;
  teacher.spec = FashionJob(
      "optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.003 } epochs: 1 batch_size: 64 "
      "augmentation { enabled: false } device: DEVICE_CPU");
  teacher.architecture = Arch(
      R"pb(cnn {
             conv_blocks {
               layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 32 has_relu: true }
             }
             conv_blocks {
               layers {
                 type: CONV_LAYER_TYPE_CONV2D
                 kernel_size: 3
                 filters: 32
                 stride2: true
                 has_relu: true
               }
             }
             pooling { type: POOL_TYPE_MAX pool_size: 2 }
             dense_blocks { units: 128 }
           })pb");
  teacher.dataset = &data;
  teacher.threads = 1;
  teacher.quantize = false;
  teacher.include_weights = false;
  teacher.torchscript_path = teacher_path;
  absl::StatusOr<v1::EvaluationResult> taught = TrainCandidate(teacher);
  ASSERT_TRUE(taught.ok()) << taught.status();

  TrainRequest request;
  request.spec = FashionJob(
      "optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.003 } epochs: 3 batch_size: 64 "
      "augmentation { enabled: false } device: DEVICE_CPU "
      "pruning { structured: true start_epoch: 1 finish_epoch: 2 } "
      "distillation { teacher_path: \"" +
      teacher_path + "\" alpha: 0.5 temperature: 2 }");
  request.architecture = Arch(kPrunableCnn);
  request.dataset = &data;
  request.sparsity = 0.4;
  request.threads = 1;
  request.quantize = false;
  absl::StatusOr<v1::EvaluationResult> result = TrainCandidate(request);
  ASSERT_TRUE(result.ok()) << result.status();
  v1::EvaluationResult summary = *result;
  summary.clear_trained_weights();
  EXPECT_GE(1.0 - result->test_error(), 0.5) << summary.DebugString() << taught->DebugString();
  ASSERT_EQ(result->epochs_size(), 3);
  EXPECT_LT(result->epochs(2).train_loss(), result->epochs(0).train_loss());
  EXPECT_GT(result->achieved_sparsity(), 0.1);
  EXPECT_NEAR(result->epochs(2).sparsity(), result->achieved_sparsity(), 1e-9);
  int64_t kept = 0;
  for (int i = 1; i < result->pruning_size(); ++i) kept += result->pruning(i).surviving_channels();
  EXPECT_NEAR(static_cast<double>(kept) / (16 + 16 + 64), 0.6, 0.01);
  absl::StatusOr<double> accuracy = EvaluateWeights(
      request.architecture, request.spec, result->trained_weights(), data, &result->pruning());
  ASSERT_TRUE(accuracy.ok()) << accuracy.status();
  EXPECT_NEAR(*accuracy, 1.0 - result->test_error(), 1e-3);

  // Without the teacher file the job fails naming the field.
  std::filesystem::remove_all(std::filesystem::path(teacher_path).parent_path());
  absl::StatusOr<v1::EvaluationResult> missing = TrainCandidate(request);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("teacher_path"));
}

}  // namespace
}  // namespace unas::worker
