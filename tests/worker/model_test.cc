// The LibTorch network builder: shape and weight-count parity with the
// network plan and the resource graph over random architectures and their
// neighbours, Keras initialisation, NHWC flattening, zero-padded Add, and the
// prunable-layer view.
#include "worker/model.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/morphisms.h"
#include "common/search_space/random_architecture.h"
#include "common/search_space/resource_graph.h"
#include "gtest/gtest.h"
#include "tests/worker/worker_test_util.h"

namespace unas::worker {
namespace {

constexpr int kRandomPerShape = 1000;
constexpr int kShards = 8;  // ctest runs the shards in parallel
constexpr int kNeighbourParents = 20;

const DataShape kMnist{28, 28, 1, 10};
const DataShape kCifar{32, 32, 3, 10};

std::string ShapeText(const Shape& s) {
  return std::to_string(s.height) + "x" + std::to_string(s.width) + "x" +
         std::to_string(s.channels);
}

rm::Shape GraphShape(const Shape& s, OpKind kind) {
  if (kind == OpKind::kDense) return {1, s.channels};
  return {1, s.height, s.width, s.channels};
}

// Builds the network and checks every op's output shape against the plan and
// the resource graph, the logits' shape, and the weight counts. Returns false
// (and checks nothing) when the architecture cannot be built for the data.
bool CheckParity(const v1::Architecture& arch, const DataShape& data, const std::string& what) {
  absl::StatusOr<NetworkPlan> plan = PlanNetwork(arch, data, PlanOptions{.dropout = 0.2});
  if (!plan.ok()) return false;
  absl::StatusOr<rm::Graph> graph = BuildResourceGraph(*plan);
  EXPECT_TRUE(graph.ok()) << what << ": " << graph.status();
  if (!graph.ok()) return true;

  UnasNet net(*plan);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::rand({2, data.channels, data.height, data.width});
  std::vector<torch::Tensor> outputs;
  torch::Tensor logits = net->ForwardKeepingOutputs(x, &outputs);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, OutputUnits(data)})) << what;
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>()) << what;

  std::map<std::string, const rm::Operator*> graph_ops;
  for (const rm::Operator& op : graph->ops()) graph_ops[op.name] = &op;
  int64_t graph_weights = 0;
  for (const rm::Operator& op : graph->ops()) {
    if (op.kernel != rm::kNone) graph_weights += graph->tensor(op.kernel).num_elements();
    if (op.bias != rm::kNone) graph_weights += graph->tensor(op.bias).num_elements();
  }
  for (size_t i = 0; i < plan->ops.size(); ++i) {
    const PlannedOp& op = plan->ops[i];
    EXPECT_EQ(outputs[i].size(0), 2) << what << " " << op.name;
    const Shape torch_shape = PlanShapeOf(outputs[i]);
    EXPECT_EQ(torch_shape, op.output)
        << what << " " << op.name << ": LibTorch " << ShapeText(torch_shape) << ", plan "
        << ShapeText(op.output);
    auto it = graph_ops.find(op.name);
    if (it == graph_ops.end()) {
      ADD_FAILURE() << what << ": the resource graph has no op " << op.name;
      continue;
    }
    EXPECT_EQ(graph->tensor(it->second->output).shape, GraphShape(torch_shape, op.kind))
        << what << " " << op.name << ": LibTorch " << ShapeText(torch_shape) << ", graph "
        << rm::ShapeToString(graph->tensor(it->second->output).shape);
  }
  // Trainable parameters without batch normalisation = the graph's weights.
  int64_t trainable_without_bn = 0;
  for (const auto& p : net->named_parameters()) {
    if (p.key().find("_bn.") == std::string::npos) trainable_without_bn += p.value().numel();
  }
  EXPECT_EQ(trainable_without_bn, graph_weights) << what;
  EXPECT_EQ(net->weight_count(), graph_weights) << what;
  EXPECT_EQ(plan->parameter_count(), graph_weights) << what;
  return true;
}

class RandomParity : public ::testing::TestWithParam<std::tuple<int, int>> {
 protected:
  void SetUp() override {
    at::set_num_threads(1);
    torch::manual_seed(7);
  }
};

// 1,000 random CNNs per input shape, split into shards.
TEST_P(RandomParity, RandomCnns) {
  const auto [which, shard] = GetParam();
  const DataShape data = which == 0 ? kMnist : kCifar;
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  int built = 0;
  for (int i = shard; i < kRandomPerShape; i += kShards) {
    Rng rng(1000 * which + i);
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, data, rng);
    ASSERT_TRUE(arch.ok()) << arch.status();
    const std::string what = "random arch " + std::to_string(i) + " on " +
                             std::to_string(data.height) + "x" + std::to_string(data.width) + "x" +
                             std::to_string(data.channels);
    // RandomArchitecture only returns buildable architectures.
    EXPECT_TRUE(CheckParity(*arch, data, what)) << what;
    ++built;
    if (HasFailure()) {
      ADD_FAILURE() << what << ":\n" << ToTextproto(*arch);
      return;
    }
  }
  EXPECT_EQ(built, (kRandomPerShape - shard + kShards - 1) / kShards);
}

// Every neighbour of 20 random parents (10 per input shape), split the same way.
TEST_P(RandomParity, NeighboursOfRandomCnns) {
  const auto [which, shard] = GetParam();
  const DataShape data = which == 0 ? kMnist : kCifar;
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  int checked = 0;
  for (int p = shard; p < kNeighbourParents / 2; p += kShards) {
    Rng rng(5000 + 100 * which + p);
    absl::StatusOr<v1::Architecture> parent = RandomArchitecture(space, data, rng);
    ASSERT_TRUE(parent.ok()) << parent.status();
    absl::StatusOr<std::vector<Neighbour>> neighbours = Neighbours(*parent, space, rng);
    ASSERT_TRUE(neighbours.ok()) << neighbours.status();
    EXPECT_FALSE(neighbours->empty());
    for (const Neighbour& n : *neighbours) {
      const std::string what = "neighbour (" + n.change + ") of parent " + std::to_string(p);
      // A neighbour need not be buildable for this data; those are skipped.
      if (CheckParity(n.architecture, data, what)) ++checked;
      if (HasFailure()) {
        ADD_FAILURE() << what << ":\n" << ToTextproto(n.architecture);
        return;
      }
    }
  }
  if (shard < kNeighbourParents / 2) {
    EXPECT_GT(checked, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Shards, RandomParity,
                         ::testing::Combine(::testing::Values(0, 1), ::testing::Range(0, kShards)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) == 0 ? "Mnist" : "Cifar") +
                                  "_shard" + std::to_string(std::get<1>(info.param));
                         });

TEST(Model, ExampleArchitecturesMatchTheirPlans) {
  at::set_num_threads(1);
  for (const char* name : {"branch_cifar", "branch_dw_last_kws", "chain_mnist", "edge_bounds",
                           "inplace_add", "mlp_seven_layers", "residual_same_shape"}) {
    v1::Architecture arch;
    const std::string path =
        absl::StrCat(UNAS_SOURCE_DIR, "/configs/architectures/", name, ".textproto");
    ASSERT_TRUE(ReadProtoFile(path, &arch).ok()) << path;
    bool built = false;
    for (const DataShape& data :
         {kMnist, kCifar, DataShape{49, 10, 1, 12}, DataShape{28, 28, 1, 2}}) {
      built |= CheckParity(arch, data, path);
    }
    EXPECT_TRUE(built) << path << " builds for none of the test shapes";
  }
}

TEST(Model, KerasInitialisation) {
  torch::manual_seed(3);
  // conv 5x5 (1 -> 16), depthwise 3x3 on 16 channels with BN, dense 64, output 10.
  const v1::Architecture arch = testing::Arch(R"pb(
    cnn {
      conv_blocks {
        layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 5 filters: 16 has_relu: true }
      }
      conv_blocks { layers { type: CONV_LAYER_TYPE_DEPTHWISE kernel_size: 3 has_bn: true } }
      dense_blocks { units: 64 }
    })pb");
  absl::StatusOr<UnasNet> net = BuildNetwork(arch, kMnist);
  ASSERT_TRUE(net.ok()) << net.status();
  std::map<std::string, torch::Tensor> params;
  for (const auto& p : (*net)->named_parameters()) params[p.key()] = p.value();
  auto check_uniform = [](const torch::Tensor& w, double fan_in, double fan_out) {
    const double limit = std::sqrt(6.0 / (fan_in + fan_out));
    EXPECT_LE(w.abs().max().item<double>(), limit);
    // Variance of U(-l, l) is l^2 / 3; the sample variance of n values has a
    // relative standard error of about sqrt(0.8 / n): allow 4 of them.
    const double tolerance = 4 * std::sqrt(0.8 / static_cast<double>(w.numel()));
    EXPECT_NEAR(w.var().item<double>(), limit * limit / 3, tolerance * limit * limit / 3);
  };
  check_uniform(params.at("conv_blocks_0_layers_0.weight"), 5 * 5 * 1, 5 * 5 * 16);
  check_uniform(params.at("conv_blocks_1_layers_0.weight"), 3 * 3 * 16, 3 * 3 * 1);
  check_uniform(params.at("dense_blocks_0.weight"), 22 * 22 * 16, 64);
  check_uniform(params.at("output.weight"), 64, 10);
  for (const char* bias : {"conv_blocks_0_layers_0.bias", "conv_blocks_1_layers_0.bias",
                           "dense_blocks_0.bias", "output.bias"}) {
    EXPECT_EQ(params.at(bias).abs().sum().item<double>(), 0.0) << bias;
  }
  EXPECT_EQ(params.at("conv_blocks_1_layers_0_bn.weight").sum().item<double>(), 16.0);
  bool found_bn = false;
  for (const auto& m : (*net)->named_modules()) {
    if (auto* bn = m.value()->as<torch::nn::BatchNorm2d>()) {
      found_bn = true;
      EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-3);
      EXPECT_DOUBLE_EQ(bn->options.momentum().value(), 0.01);
    }
  }
  EXPECT_TRUE(found_bn);
  // Same seed, same weights.
  torch::manual_seed(3);
  absl::StatusOr<UnasNet> again = BuildNetwork(arch, kMnist);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(torch::equal((*again)->named_parameters()["dense_blocks_0.weight"],
                           params.at("dense_blocks_0.weight")));
}

// Channels-last kernels (what the CPU trainer uses) change the memory layout
// only: same outputs and gradients, the same parameter tensors, and back.
TEST(Model, ChannelsLastKeepsOutputsGradientsAndParameters) {
  at::set_num_threads(1);
  v1::Architecture arch;
  ASSERT_TRUE(
      ReadProtoFile(std::string(UNAS_SOURCE_DIR) + "/configs/architectures/branch_cifar.textproto",
                    &arch)
          .ok());
  torch::manual_seed(5);
  absl::StatusOr<UnasNet> net = BuildNetwork(arch, kCifar);
  ASSERT_TRUE(net.ok()) << net.status();
  torch::Tensor x = torch::randn({4, 3, 32, 32});
  auto run = [&] {
    for (torch::Tensor& p : (*net)->parameters()) p.mutable_grad().reset();
    torch::Tensor y = (*net)->forward(x);
    y.pow(2).sum().backward();
    std::vector<torch::Tensor> grads;
    for (const torch::Tensor& p : (*net)->parameters()) grads.push_back(p.grad().clone());
    return std::pair{y.detach(), grads};
  };
  const std::vector<torch::Tensor> params = (*net)->parameters();
  const auto [y0, g0] = run();

  (*net)->SetMemoryFormat(at::MemoryFormat::ChannelsLast);
  int conv_kernels = 0;
  for (const auto& p : (*net)->named_parameters()) {
    if (p.value().dim() != 4) continue;
    ++conv_kernels;
    EXPECT_TRUE(p.value().is_contiguous(at::MemoryFormat::ChannelsLast)) << p.key();
  }
  EXPECT_GE(conv_kernels, 3);
  const std::vector<torch::Tensor> after = (*net)->parameters();
  ASSERT_EQ(after.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(after[i].is_same(params[i])) << i;  // an optimizer's tensors stay valid
  }
  const auto [y1, g1] = run();
  EXPECT_TRUE(torch::allclose(y1, y0, 1e-4, 1e-5)) << (y1 - y0).abs().max();
  for (size_t i = 0; i < g0.size(); ++i) {
    EXPECT_TRUE(torch::allclose(g1[i], g0[i], 1e-3, 1e-4))
        << i << ": " << (g1[i] - g0[i]).abs().max();
  }

  (*net)->SetMemoryFormat(at::MemoryFormat::Contiguous);
  for (const torch::Tensor& p : (*net)->parameters()) EXPECT_TRUE(p.is_contiguous());
  EXPECT_TRUE(torch::allclose((*net)->forward(x), y0, 1e-4, 1e-5));
}

// Channels-last on random architectures is checked against float64 under
// every oneDNN instruction-set cap in gradient_reference_test.cc.

TEST(Model, DenseLayersFlattenInNhwcOrder) {
  // MLP on 2x3x2 inputs: the output layer reads the hidden layer, which we make
  // the identity, so output row 0 = e_k selects flattened element k.
  const v1::Architecture arch = testing::Arch("mlp { layers { units: 12 } }");
  absl::StatusOr<UnasNet> net = BuildNetwork(arch, DataShape{2, 3, 2, 4});
  ASSERT_TRUE(net.ok()) << net.status();
  torch::NoGradGuard no_grad;
  auto params = (*net)->named_parameters();
  params["layers_0.weight"].copy_(torch::eye(12));
  torch::Tensor x = torch::rand({1, 2, 2, 3});  // N, C, H, W
  for (int h = 0; h < 2; ++h) {
    for (int w = 0; w < 3; ++w) {
      for (int c = 0; c < 2; ++c) {
        const int k = (h * 3 + w) * 2 + c;
        params["output.weight"].zero_();
        params["output.weight"][0][k] = 1.0;
        const double logit = (*net)->forward(x)[0][0].item<double>();
        EXPECT_FLOAT_EQ(logit, x[0][c][h][w].item<float>()) << h << "," << w << "," << c;
      }
    }
  }
}

TEST(Model, AddZeroPadsSmallerInputsAtTheBottomRight) {
  // Input 5x5x1. Block 0: conv 3x3 -> 3x3x2. Branch: 1x1 conv from the input
  // (5x5) forced to 2 channels, tied up by a 2x2 max pool to 2x2x2, then
  // zero-padded to 3x3 at the bottom/right and added.
  const v1::Architecture arch = testing::Arch(R"pb(
    cnn {
      conv_blocks { layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 2 } }
      conv_blocks {
        is_branch: true
        layers { type: CONV_LAYER_TYPE_POINTWISE filters: 7 }
      }
      dense_blocks { units: 10 }
    })pb");
  absl::StatusOr<UnasNet> net = BuildNetwork(arch, DataShape{5, 5, 1, 10});
  ASSERT_TRUE(net.ok()) << net.status();
  const NetworkPlan& plan = (*net)->plan();
  int add = -1;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    if (plan.ops[i].name == "conv_output_add") add = static_cast<int>(i);
  }
  ASSERT_GE(add, 0);
  torch::NoGradGuard no_grad;
  auto params = (*net)->named_parameters();
  params["conv_blocks_0_layers_0.weight"].zero_();     // main path: zeros
  params["conv_blocks_1_layers_0.weight"].fill_(1.0);  // branch: copy of the input
  torch::Tensor x = torch::arange(25, torch::kFloat).reshape({1, 1, 5, 5});
  std::vector<torch::Tensor> outputs;
  (*net)->ForwardKeepingOutputs(x, &outputs);
  const torch::Tensor sum = outputs[add][0][0];  // channel 0, 3x3
  // 2x2 max pools of the 5x5 ramp: (6, 8; 16, 18); the rest is padding.
  const torch::Tensor expected =
      torch::tensor({6.f, 8.f, 0.f, 16.f, 18.f, 0.f, 0.f, 0.f, 0.f}).reshape({3, 3});
  EXPECT_TRUE(torch::equal(sum, expected)) << sum;
}

TEST(Model, PrunableLayersExposeTheirChannelDimension) {
  const v1::Architecture arch = testing::Arch(R"pb(
    cnn {
      conv_blocks { layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 8 } }
      conv_blocks {
        is_branch: true
        layers { type: CONV_LAYER_TYPE_DEPTHWISE kernel_size: 3 }
      }
      dense_blocks { units: 20 }
    })pb");
  absl::StatusOr<UnasNet> net = BuildNetwork(arch, kMnist);
  ASSERT_TRUE(net.ok()) << net.status();
  std::vector<PrunableLayer> layers = (*net)->prunable_layers();
  std::vector<std::string> names;
  for (const PrunableLayer& l : layers) names.push_back(l.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"conv_blocks[0].layers[0]", "conv_blocks[1].layers[0]",
                                      "conv_blocks[1].branch_projection", "dense_blocks[0]"}));
  for (const PrunableLayer& l : layers) {
    const PlannedOp& op = (*net)->plan().ops[l.plan_index];
    EXPECT_EQ(l.weight.size(l.channel_dim), op.output.channels) << l.name;
    EXPECT_EQ(l.bias.size(0), op.output.channels) << l.name;
    EXPECT_EQ(l.weight.numel(), op.kernel_elements) << l.name;
  }
  EXPECT_TRUE(layers[0].reads_network_input);
  EXPECT_TRUE(layers[1].reads_network_input);  // the branch starts from the input too
  EXPECT_FALSE(layers[3].reads_network_input);
  EXPECT_EQ(layers[1].kind, OpKind::kDepthwiseConv2D);
  // Masking a channel through the exposed tensor reaches the module.
  torch::NoGradGuard no_grad;
  layers[0].weight.select(layers[0].channel_dim, 3).zero_();
  EXPECT_EQ(
      (*net)->named_parameters()["conv_blocks_0_layers_0.weight"][3].abs().sum().item<double>(),
      0.0);
}

TEST(Model, UnbuildableArchitectureIsAnError) {
  // Three stride-2 7x7 convolutions collapse a 28x28 input.
  const v1::Architecture arch = testing::Arch(R"pb(
    cnn {
      conv_blocks {
        layers {
          type: CONV_LAYER_TYPE_CONV2D
          kernel_size: 7
          filters: 4
          stride2: true
          has_prepool: true
        }
        layers {
          type: CONV_LAYER_TYPE_CONV2D
          kernel_size: 7
          filters: 4
          stride2: true
          has_prepool: true
        }
        layers {
          type: CONV_LAYER_TYPE_CONV2D
          kernel_size: 7
          filters: 4
          stride2: true
          has_prepool: true
        }
      }
      dense_blocks { units: 10 }
    })pb");
  // Kernels clamp to the spatial size, so this builds down to 1x1; an empty
  // architecture does not.
  EXPECT_TRUE(BuildNetwork(arch, kMnist).ok());
  absl::StatusOr<UnasNet> empty = BuildNetwork(v1::Architecture(), kMnist);
  EXPECT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace unas::worker
