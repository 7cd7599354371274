// The golden cases of docs/unas_original.md §14 through the resource graph.
// Cases whose shapes are the same under floor and ceil pooling must give the
// original's numbers exactly; branch_cifar and branch_dw_last_kws pool an odd
// size, so their numbers follow from the floor-convention shapes stated in
// network_plan_test.cc (derivations below).
#include "common/search_space/resource_graph.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "resource_models/macs.h"
#include "tests/common/search_space/test_util.h"

namespace unas {
namespace {

using ::unas::testing::Golden;

struct Expected {
  int64_t pmu;
  int64_t pmu_with_input;
  int64_t pmu_without_add_reuse;
  int64_t size;
  int64_t macs;
  int64_t latency_1_1;  // loads + compute; -1: not checked
};

void ExpectResources(const std::string& file, const DataShape& data, const Expected& e) {
  SCOPED_TRACE(file);
  auto graph = BuildResourceGraph(Golden(file), data);
  ASSERT_TRUE(graph.ok()) << graph.status();
  rm::ResourceOptions options;
  options.pmu_without_add_reuse = true;
  auto report = rm::ComputeResources(*graph, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->pmu_bytes, e.pmu);
  EXPECT_EQ(report->pmu_with_input_bytes, e.pmu_with_input);
  EXPECT_EQ(report->pmu_without_add_reuse_bytes, e.pmu_without_add_reuse);
  EXPECT_EQ(report->model_size_unas, e.size);
  EXPECT_EQ(report->macs, e.macs);
  if (e.latency_1_1 >= 0) {
    EXPECT_EQ(rm::LatencyProxy(*graph, rm::LatencyWeights{.compute = 1, .memory_access = 1}),
              static_cast<double>(e.latency_1_1));
  }
}

TEST(ResourceGraphTest, GoldenCasesWithTheSameShapesUnderFloorAndCeil) {
  ExpectResources("chain_mnist.textproto", DataShape{28, 28, 1, 10},
                  {5424, 6192, 5424, 86794, 135360, 411514});
  ExpectResources("residual_same_shape.textproto", DataShape{16, 16, 2, 2},
                  {6144, 6144, 6144, 20741, 75786, 235561});
  // 3072 without the Add writing into one of its inputs.
  ExpectResources("inplace_add.textproto", DataShape{8, 8, 1, 10},
                  {2304, 2304, 3072, 10528, 19812, -1});
  ExpectResources("mlp_fashion.json", DataShape{28, 28, 1, 10}, {96, 848, 96, 52650, 52544, -1});
}

TEST(ResourceGraphTest, BranchCifarUnderFloorPooling) {
  // Floor shapes: conv 15x15x16, dw 13x13x16, 1x1 13x13x24, branch 11x11x24,
  // Add 13x13x24, pool 6x6x24 (original 7x7x24), dense 32, 10.
  // PMU: unchanged (the peak is before the pooling): 9664 = dw 2704 + branch
  //   2904 + 1x1 4056 with the branch computed first; without Add reuse the
  //   Add step holds 1x1 4056 + branch 2904 + sum 4056 = 11016.
  // Size: 48634 - (1176 - 864) * 32 = 38650.
  // MACs: 1394744 - pool (4704 - 3456) - dense (37632 - 27648) = 1383512.
  // Latency (1,1): 4192834 - pool 2 * 1248 - dense 3 * 9984 = 4160386.
  ExpectResources("branch_cifar.textproto", DataShape{32, 32, 3, 10},
                  {9664, 9664, 11016, 38650, 1383512, 4160386});
}

TEST(ResourceGraphTest, BranchDwLastKwsUnderFloorPooling) {
  // Floor shapes: conv 22x17x12, pre-pool 11x8x12 (original 11x9x12), conv
  // 9x6x20 (9x7x20), branch dw 9x7x12, projection 9x7x20, Add 9x7x20 (the
  // main path zero-padded), 1x1 9x7x10, avg pool 2x1x10 (3x2x10), dense 20,
  // 11, 12.
  // PMU: conv 4488 + pre-pool 1056 + dw 756 = 6300 (original 6432 with
  //   1188); with the input, the first conv's step 1960 + 4488 = 6448.
  // Size: 5157 - (60 - 20) * 20 = 4357.
  // MACs: 219912 + 4224 + 116640 + 18900 + 15120 + 1260 + 12600 + 320 + 400
  //   + 220 + 132 = 389728 (original 411136).
  // Latency (1,1): 1172897 (3 x MACs + outputs for conv/dense, 2 x work for
  //   pools, 3 x 1260 for the Add).
  ExpectResources("branch_dw_last_kws.textproto", DataShape{49, 40, 1, 12},
                  {6300, 6448, 6300, 4357, 389728, 1172897});
}

TEST(ResourceGraphTest, GraphMirrorsThePlan) {
  const v1::Architecture arch = Golden("branch_dw_last_kws.textproto");
  const DataShape data{49, 40, 1, 12};
  auto plan = PlanNetwork(arch, data);
  ASSERT_TRUE(plan.ok());
  auto graph = BuildResourceGraph(*plan);
  ASSERT_TRUE(graph.ok()) << graph.status();
  // One Input op plus one op per planned op, with the same names.
  ASSERT_EQ(graph->num_ops(), static_cast<int>(plan->ops.size()) + 1);
  for (const PlannedOp& op : plan->ops) EXPECT_TRUE(graph->FindOp(op.name).ok()) << op.name;
  EXPECT_EQ(rm::ParameterCount(*graph), plan->parameter_count());
  EXPECT_THAT(graph->tensor(*graph->FindTensor("input")).shape,
              ::testing::ElementsAre(1, 49, 40, 1));
}

TEST(ResourceGraphTest, PrunedViewShrinksTheNumbers) {
  const v1::Architecture arch = Golden("chain_mnist.textproto");
  const DataShape data{28, 28, 1, 10};
  google::protobuf::RepeatedPtrField<v1::LayerPruning> pruning;
  v1::LayerPruning* conv = pruning.Add();
  conv->set_layer("conv_blocks[0].layers[0]");
  conv->set_surviving_channels(4);
  conv->set_nonzero_weights(30);
  conv->set_total_weights(72);
  v1::LayerPruning* dense = pruning.Add();
  dense->set_layer("dense_blocks[0]");
  dense->set_surviving_channels(16);  // unstructured: all units survive
  dense->set_nonzero_weights(1000);
  PlanOptions options;
  options.pruning = &pruning;
  auto report = ComputeArchitectureResources(arch, data, options);
  ASSERT_TRUE(report.ok()) << report.status();
  // Conv 26x26x4 = 2704, dense reads it: PMU 2704 + 16.
  EXPECT_EQ(report->pmu_bytes, 2720);
  // Sparse kernels: 30 + 4 (bias) + 1000 + 16 + output 170.
  EXPECT_EQ(report->model_size_unas, 30 + 4 + 1000 + 16 + 170);
  // Dense MACs follow the compacted shapes (sparsity does not reduce MACs).
  EXPECT_EQ(report->conv_dense_macs, 26 * 26 * 4 * 9 + 2704 * 16 + 160);
  rm::ResourceOptions dense_size;
  dense_size.size.use_sparse_sizes = false;
  auto report2 = ComputeArchitectureResources(arch, data, options, dense_size);
  ASSERT_TRUE(report2.ok());
  EXPECT_EQ(report2->model_size_unas, 36 + 4 + 2704 * 16 + 16 + 170);
}

}  // namespace
}  // namespace unas
