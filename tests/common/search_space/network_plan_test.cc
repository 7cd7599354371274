#include "common/search_space/network_plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/search_space/test_util.h"

namespace unas {
namespace {

using ::testing::HasSubstr;
using ::unas::testing::Golden;

NetworkPlan Plan(const v1::Architecture& arch, const DataShape& data,
                 const PlanOptions& options = {}) {
  auto plan = PlanNetwork(arch, data, options);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *std::move(plan) : NetworkPlan{};
}

const PlannedOp& Op(const NetworkPlan& plan, const std::string& name) {
  for (const PlannedOp& op : plan.ops) {
    if (op.name == name) return op;
  }
  static const PlannedOp kMissing;
  ADD_FAILURE() << "no op " << name;
  return kMissing;
}

std::vector<std::string> Names(const NetworkPlan& plan) {
  std::vector<std::string> names;
  for (const PlannedOp& op : plan.ops) names.push_back(op.name);
  return names;
}

Shape S(int64_t h, int64_t w, int64_t c) { return Shape{h, w, c}; }

TEST(NetworkPlanTest, ChainMnist) {
  const NetworkPlan plan = Plan(Golden("chain_mnist.textproto"), DataShape{28, 28, 1, 10});
  EXPECT_THAT(Names(plan),
              ::testing::ElementsAre("conv_blocks[0].layers[0]", "dense_blocks[0]", "output"));
  const PlannedOp& conv = plan.ops[0];
  EXPECT_EQ(conv.output, S(26, 26, 8));
  EXPECT_EQ(conv.kernel_height, 3);
  EXPECT_EQ(conv.stride_height, 1);
  EXPECT_TRUE(conv.batch_norm);
  EXPECT_TRUE(conv.relu);
  EXPECT_EQ(plan.ops[1].kernel_elements, 26 * 26 * 8 * 16);
  EXPECT_EQ(plan.ops[2].output, S(1, 1, 10));
  EXPECT_FALSE(plan.ops[2].relu);
  // §14 size: every weight and bias, one byte each.
  EXPECT_EQ(plan.parameter_count(), 86794);
}

TEST(NetworkPlanTest, BranchCifarUsesFloorPooling) {
  const NetworkPlan plan = Plan(Golden("branch_cifar.textproto"), DataShape{32, 32, 3, 10});
  EXPECT_THAT(Names(plan),
              ::testing::ElementsAre("conv_blocks[0].layers[0]", "conv_blocks[1].layers[0]",
                                     "conv_blocks[1].layers[1]", "conv_blocks[2].layers[0]",
                                     "conv_output_add", "pooling", "dense_blocks[0]", "output"));
  EXPECT_EQ(Op(plan, "conv_blocks[0].layers[0]").output, S(15, 15, 16));
  EXPECT_EQ(Op(plan, "conv_blocks[1].layers[0]").output, S(13, 13, 16));
  EXPECT_EQ(Op(plan, "conv_blocks[1].layers[1]").output, S(13, 13, 24));
  // The branch starts from block 1's input (15x15x16) and gets 24 filters.
  const PlannedOp& branch = Op(plan, "conv_blocks[2].layers[0]");
  EXPECT_EQ(branch.inputs, std::vector<int>{0});
  EXPECT_EQ(branch.output, S(11, 11, 24));
  EXPECT_EQ(branch.kernel_elements, 5 * 5 * 16 * 24);
  // round(13 / 11) = 1: no tie-up pool; the 11x11 branch is zero-padded.
  EXPECT_EQ(Op(plan, "conv_output_add").output, S(13, 13, 24));
  // Max pool 2 on 13x13: 6x6 (the original's resource model said 7x7).
  EXPECT_EQ(Op(plan, "pooling").output, S(6, 6, 24));
  EXPECT_EQ(Op(plan, "dense_blocks[0]").kernel_elements, 6 * 6 * 24 * 32);
  // 48634 in the original (a 7x7x24 flatten): 10 * 1176 * 32 ... minus 864 * 32.
  EXPECT_EQ(plan.parameter_count(), 48634 - (7 * 7 - 6 * 6) * 24 * 32);
  EXPECT_EQ(plan.parameter_count(), 38650);
}

TEST(NetworkPlanTest, BranchWithDepthwiseLastLayerKws) {
  const NetworkPlan plan = Plan(Golden("branch_dw_last_kws.textproto"), DataShape{49, 40, 1, 12});
  EXPECT_THAT(Names(plan),
              ::testing::ElementsAre("conv_blocks[0].layers[0]", "conv_blocks[1].layers[0].prepool",
                                     "conv_blocks[1].layers[0]", "conv_blocks[2].layers[0]",
                                     "conv_blocks[2].branch_projection", "conv_blocks[3].input_add",
                                     "conv_blocks[3].layers[0]", "pooling", "dense_blocks[0]",
                                     "dense_blocks[1]", "output"));
  EXPECT_EQ(Op(plan, "conv_blocks[0].layers[0]").output, S(22, 17, 12));
  // Floor: 11x8 (the original's resource graph: 11x9, its Keras model: 11x8).
  EXPECT_EQ(Op(plan, "conv_blocks[1].layers[0].prepool").output, S(11, 8, 12));
  EXPECT_EQ(Op(plan, "conv_blocks[1].layers[0]").output, S(9, 6, 20));
  EXPECT_EQ(Op(plan, "conv_blocks[2].layers[0]").output, S(9, 7, 12));
  const PlannedOp& projection = Op(plan, "conv_blocks[2].branch_projection");
  EXPECT_EQ(projection.output, S(9, 7, 20));
  EXPECT_EQ(projection.kernel_height, 1);
  EXPECT_FALSE(projection.relu);
  EXPECT_FALSE(projection.batch_norm);
  // round(7 / 6) = 1: no tie-up pool; the Add zero-pads 9x6 to 9x7.
  EXPECT_EQ(Op(plan, "conv_blocks[3].input_add").output, S(9, 7, 20));
  EXPECT_EQ(Op(plan, "conv_blocks[3].layers[0]").output, S(9, 7, 10));
  // Avg pool 4 on 9x7: 2x1 (original resource graph 3x2).
  EXPECT_EQ(Op(plan, "pooling").output, S(2, 1, 10));
  EXPECT_EQ(Op(plan, "output").output, S(1, 1, 12));
  // Original 5157 with a 3x2x10 flatten; ours flattens 2x1x10: 40 * 20 fewer.
  EXPECT_EQ(plan.parameter_count(), 5157 - (60 - 20) * 20);
}

TEST(NetworkPlanTest, ResidualSameShapeAndInplaceAddMatchTheOriginalSizes) {
  const NetworkPlan residual =
      Plan(Golden("residual_same_shape.textproto"), DataShape{16, 16, 2, 2});
  EXPECT_EQ(Op(residual, "conv_blocks[2].layers[0]").output, S(16, 16, 8));
  EXPECT_EQ(Op(residual, "conv_output_add").output, S(16, 16, 8));
  EXPECT_EQ(Op(residual, "output").output, S(1, 1, 1));  // two classes: one logit
  EXPECT_EQ(residual.parameter_count(), 20741);
  const NetworkPlan inplace = Plan(Golden("inplace_add.textproto"), DataShape{8, 8, 1, 10});
  EXPECT_EQ(inplace.parameter_count(), 10528);
  const NetworkPlan mlp = Plan(Golden("mlp_fashion.json"), DataShape{28, 28, 1, 10});
  EXPECT_THAT(Names(mlp), ::testing::ElementsAre("layers[0]", "layers[1]", "output"));
  EXPECT_EQ(mlp.ops[0].kernel_elements, 784 * 64);
  EXPECT_EQ(mlp.parameter_count(), 52650);
}

v1::ConvLayer Layer(v1::ConvLayerType type, int kernel, int filters, bool stride2 = false,
                    bool prepool = false) {
  v1::ConvLayer l;
  l.set_type(type);
  l.set_kernel_size(kernel);
  l.set_filters(filters);
  l.set_stride2(stride2);
  l.set_has_prepool(prepool);
  l.set_has_relu(true);
  return l;
}

TEST(NetworkPlanTest, TieUpRoundsHalfToEvenAndZeroPads) {
  // Main path 4x4, branch 10x10: 10 / 4 = 2.5 rounds to 2 (Python's round),
  // so the branch is pooled to 5x5 and the Add zero-pads the main path to 5x5.
  v1::Architecture a;
  auto* cnn = a.mutable_cnn();
  *cnn->add_conv_blocks()->add_layers() = Layer(v1::CONV_LAYER_TYPE_POINTWISE, 0, 4);
  *cnn->add_conv_blocks()->add_layers() =
      Layer(v1::CONV_LAYER_TYPE_CONV2D, 3, 8, /*stride2=*/true, /*prepool=*/true);
  auto* branch = cnn->add_conv_blocks();
  branch->set_is_branch(true);
  *branch->add_layers() = Layer(v1::CONV_LAYER_TYPE_POINTWISE, 0, 1, false, /*prepool=*/true);
  cnn->add_dense_blocks()->set_units(10);
  const NetworkPlan plan = Plan(a, DataShape{20, 20, 1, 10});
  EXPECT_EQ(Op(plan, "conv_blocks[1].layers[0]").output, S(4, 4, 8));
  EXPECT_EQ(Op(plan, "conv_blocks[2].layers[0]").output, S(10, 10, 8));
  const PlannedOp& pool = Op(plan, "conv_output_pool[1]");
  EXPECT_EQ(pool.kernel_height, 2);
  EXPECT_EQ(pool.kernel_width, 2);
  EXPECT_EQ(pool.output, S(5, 5, 8));
  EXPECT_EQ(Op(plan, "conv_output_add").output, S(5, 5, 8));

  // 14 / 4 = 3.5 rounds to 4: pooled to 3x3, the Add keeps 4x4.
  const NetworkPlan plan2 = Plan(a, DataShape{28, 28, 1, 10});
  EXPECT_EQ(Op(plan2, "conv_blocks[1].layers[0]").output, S(6, 6, 8));
  EXPECT_EQ(Op(plan2, "conv_blocks[2].layers[0]").output, S(14, 14, 8));
  EXPECT_EQ(Op(plan2, "conv_output_pool[1]").kernel_height, 2);  // 14 / 6 = 2.33
  EXPECT_EQ(Op(plan2, "conv_output_add").output, S(7, 7, 8));
}

TEST(NetworkPlanTest, ClampsOnTinyInputs) {
  v1::Architecture a;
  auto* cnn = a.mutable_cnn();
  *cnn->add_conv_blocks()->add_layers() =
      Layer(v1::CONV_LAYER_TYPE_CONV2D, 7, 5, /*stride2=*/true, /*prepool=*/true);
  cnn->mutable_pooling()->set_type(v1::POOL_TYPE_AVG);
  cnn->mutable_pooling()->set_pool_size(6);
  cnn->add_dense_blocks()->set_units(10);
  // 1x1: no pre-pool, kernel 1, stride 2 still gives 1x1.
  NetworkPlan plan = Plan(a, DataShape{1, 1, 3, 10});
  EXPECT_THAT(Names(plan), ::testing::ElementsAre("conv_blocks[0].layers[0]", "pooling",
                                                  "dense_blocks[0]", "output"));
  EXPECT_EQ(plan.ops[0].kernel_height, 1);
  EXPECT_EQ(plan.ops[0].output, S(1, 1, 5));
  EXPECT_EQ(plan.ops[1].output, S(1, 1, 5));
  // 9x3: pre-pool (2, 2) -> 4x1, kernel min(7, 4, 1) = 1, stride 2 -> 2x1,
  // final pool window (min(6, 2), min(6, 1)) -> 1x1.
  plan = Plan(a, DataShape{9, 3, 1, 10});
  EXPECT_EQ(Op(plan, "conv_blocks[0].layers[0].prepool").output, S(4, 1, 1));
  EXPECT_EQ(Op(plan, "conv_blocks[0].layers[0]").kernel_height, 1);
  EXPECT_EQ(Op(plan, "conv_blocks[0].layers[0]").output, S(2, 1, 5));
  EXPECT_EQ(Op(plan, "pooling").kernel_height, 2);
  EXPECT_EQ(Op(plan, "pooling").kernel_width, 1);
  EXPECT_EQ(Op(plan, "pooling").output, S(1, 1, 5));
  // A 1-pixel-high input still pre-pools along the width: window (1, 2).
  plan = Plan(a, DataShape{1, 8, 1, 10});
  EXPECT_EQ(Op(plan, "conv_blocks[0].layers[0].prepool").output, S(1, 4, 1));
}

TEST(NetworkPlanTest, DropoutGoesBeforeHiddenDenseLayersOnly) {
  PlanOptions options;
  options.dropout = 0.3;
  const NetworkPlan plan =
      Plan(Golden("branch_dw_last_kws.textproto"), DataShape{49, 40, 1, 12}, options);
  EXPECT_EQ(Op(plan, "dense_blocks[0]").dropout, 0.3);
  EXPECT_EQ(Op(plan, "dense_blocks[1]").dropout, 0.3);
  EXPECT_EQ(Op(plan, "output").dropout, 0.0);
}

TEST(NetworkPlanTest, StructuralErrorsNameTheElement) {
  v1::Architecture a = Golden("chain_mnist.textproto");
  a.mutable_cnn()->mutable_conv_blocks(0)->set_is_branch(true);
  EXPECT_THAT(PlanNetwork(a, DataShape{28, 28, 1, 10}).status().message(),
              HasSubstr("conv_blocks[0].is_branch"));
  a = Golden("chain_mnist.textproto");
  a.mutable_cnn()->mutable_conv_blocks(0)->mutable_layers(0)->set_kernel_size(0);
  EXPECT_THAT(PlanNetwork(a, DataShape{28, 28, 1, 10}).status().message(),
              HasSubstr("conv_blocks[0].layers[0].kernel_size"));
  EXPECT_THAT(PlanNetwork(v1::Architecture(), DataShape{28, 28, 1, 10}).status().message(),
              HasSubstr("neither cnn nor mlp"));
  EXPECT_THAT(PlanNetwork(a, DataShape{65536, 65536, 1, 10}).status().message(),
              HasSubstr("input shape"));
}

v1::LayerPruning Pruned(const std::string& layer, int channels, int64_t nonzero,
                        int64_t total = 0) {
  v1::LayerPruning p;
  p.set_layer(layer);
  p.set_surviving_channels(channels);
  p.set_nonzero_weights(nonzero);
  p.set_total_weights(total);
  return p;
}

TEST(NetworkPlanTest, PrunedViewCompactsChannelsAndUnits) {
  google::protobuf::RepeatedPtrField<v1::LayerPruning> pruning;
  *pruning.Add() = Pruned("conv_blocks[0].layers[0]", 10, 300, 3 * 3 * 3 * 16);
  *pruning.Add() = Pruned("conv_blocks[1].layers[0]", 16, 50);  // depthwise: channels follow
  *pruning.Add() = Pruned("conv_blocks[1].layers[1]", 20, 150);
  *pruning.Add() = Pruned("conv_blocks[2].layers[0]", 22, 5 * 5 * 16 * 24);
  *pruning.Add() = Pruned("dense_blocks[0]", 0, 0);  // nothing left: one unit stays
  PlanOptions options;
  options.pruning = &pruning;
  const NetworkPlan plan =
      Plan(Golden("branch_cifar.textproto"), DataShape{32, 32, 3, 10}, options);
  EXPECT_EQ(Op(plan, "conv_blocks[0].layers[0]").output, S(15, 15, 10));
  EXPECT_EQ(Op(plan, "conv_blocks[0].layers[0]").kernel_elements, 3 * 3 * 3 * 10);
  EXPECT_EQ(Op(plan, "conv_blocks[0].layers[0]").nonzero_kernel_elements, 270);  // capped
  EXPECT_EQ(Op(plan, "conv_blocks[1].layers[0]").output, S(13, 13, 10));
  EXPECT_EQ(Op(plan, "conv_blocks[1].layers[0]").nonzero_kernel_elements, 50);
  EXPECT_EQ(Op(plan, "conv_blocks[1].layers[1]").output, S(13, 13, 20));
  EXPECT_EQ(Op(plan, "conv_blocks[1].layers[1]").kernel_elements, 10 * 20);
  EXPECT_EQ(Op(plan, "conv_blocks[2].layers[0]").output, S(11, 11, 22));
  EXPECT_EQ(Op(plan, "conv_blocks[2].layers[0]").kernel_elements, 5 * 5 * 10 * 22);
  EXPECT_EQ(Op(plan, "conv_blocks[2].layers[0]").nonzero_kernel_elements, 5 * 5 * 10 * 22);
  // Unequal channels at the Add: the larger count (zero padding).
  EXPECT_EQ(Op(plan, "conv_output_add").output, S(13, 13, 22));
  EXPECT_EQ(Op(plan, "dense_blocks[0]").output, S(1, 1, 1));
  EXPECT_EQ(Op(plan, "dense_blocks[0]").nonzero_kernel_elements, 0);
  EXPECT_EQ(Op(plan, "output").kernel_elements, 10);
  EXPECT_FALSE(Op(plan, "output").nonzero_kernel_elements.has_value());

  // Without a report for the branch, it follows the pruned main path (20).
  pruning.RemoveLast();
  pruning.erase(pruning.begin() + 3);
  const NetworkPlan plan2 =
      Plan(Golden("branch_cifar.textproto"), DataShape{32, 32, 3, 10}, options);
  EXPECT_EQ(Op(plan2, "conv_blocks[2].layers[0]").output, S(11, 11, 20));
  EXPECT_EQ(Op(plan2, "dense_blocks[0]").output, S(1, 1, 32));
}

TEST(NetworkPlanTest, PrunedViewRejectsBadReports) {
  const v1::Architecture a = Golden("branch_dw_last_kws.textproto");
  const DataShape data{49, 40, 1, 12};
  auto error = [&](std::vector<v1::LayerPruning> entries) {
    google::protobuf::RepeatedPtrField<v1::LayerPruning> pruning;
    for (auto& e : entries) *pruning.Add() = e;
    PlanOptions options;
    options.pruning = &pruning;
    return std::string(PlanNetwork(a, data, options).status().message());
  };
  EXPECT_EQ(error({Pruned("conv_blocks[2].branch_projection", 5, 10)}), "");
  EXPECT_THAT(error({Pruned("output", 5, 10)}), HasSubstr("pruning[0].layer: \"output\""));
  EXPECT_THAT(error({Pruned("conv_blocks[9].layers[0]", 5, 10)}),
              HasSubstr("names no prunable layer"));
  EXPECT_THAT(error({Pruned("dense_blocks[0]", 5, 10), Pruned("dense_blocks[0]", 5, 10)}),
              HasSubstr("pruning[1].layer: \"dense_blocks[0]\" is listed twice"));
  EXPECT_THAT(error({Pruned("dense_blocks[1]", 12, 10)}),
              HasSubstr("pruning[0].surviving_channels: 12 is outside [0, 11]"));
  EXPECT_THAT(error({Pruned("conv_blocks[0].layers[0]", 5, 10, 12345)}),
              HasSubstr("pruning[0].total_weights: 12345 differs from the 588 kernel elements"));
  EXPECT_THAT(error({Pruned("conv_blocks[0].layers[0]", 5, 589)}),
              HasSubstr("pruning[0].nonzero_weights: 589 is outside [0, 588]"));
}

}  // namespace
}  // namespace unas
