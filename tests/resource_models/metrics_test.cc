// Model size accountings, sparse counts, MAC definitions and DOT export.

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "resource_models/dot_export.h"
#include "resource_models/graph.h"
#include "resource_models/macs.h"
#include "resource_models/model_size.h"
#include "resource_models/resources.h"
#include "tests/resource_models/test_util.h"

namespace unas::rm {
namespace {

using ::testing::HasSubstr;
using testing::Unwrap;

// in 6x6x2 -> conv3x3x4 (4x4x4) -> maxpool2 (2x2x4) -> dense 3.
struct Small {
  Graph g;
  OpId conv = kNone;
  OpId dense = kNone;
  Small() {
    const TensorId x = Unwrap(g.AddInput("in", {1, 6, 6, 2}));
    TensorId y = Unwrap(g.AddConv2D("conv", x, {.filters = 4, .kernel = 3}));
    conv = g.tensor(y).producer;
    y = Unwrap(g.AddPool("pool", y, {.pool_h = 2, .pool_w = 2}));
    y = Unwrap(g.AddDense("fc", y, {.units = 3}));
    dense = g.tensor(y).producer;
    EXPECT_TRUE(g.MarkOutput(y).ok());
  }
};

TEST(ModelSizeTest, UnasAndDeployedDense) {
  Small s;
  // conv kernel 72 + bias 4; dense kernel 16*3 = 48 + bias 3.
  EXPECT_EQ(ParameterCount(s.g), 72 + 4 + 48 + 3);
  EXPECT_EQ(ModelSizeUnas(s.g), 127);
  // int8 kernels, int32 biases, 8 bytes of quantisation parameters per output channel.
  EXPECT_EQ(ModelSizeDeployed(s.g), (72 + 4 * 4 + 8 * 4) + (48 + 4 * 3 + 8 * 3));
}

TEST(ModelSizeTest, SparseCounts) {
  Small s;
  ASSERT_TRUE(s.g.SetKernelSparseSize(s.conv, 10).ok());
  EXPECT_EQ(ModelSizeUnas(s.g), 10 + 4 + 48 + 3);
  EXPECT_EQ(ModelSizeUnas(s.g, {.use_sparse_sizes = false}), 127);
  // Deployed: 10 values + a 72-bit bitmap (9 bytes) beat 72 dense bytes.
  EXPECT_EQ(ModelSizeDeployed(s.g), (10 + 9 + 16 + 32) + (48 + 12 + 24));
  // A nearly dense kernel stays dense in the deployed accounting.
  ASSERT_TRUE(s.g.SetKernelSparseSize(s.conv, 70).ok());
  EXPECT_EQ(ModelSizeDeployed(s.g), (72 + 16 + 32) + (48 + 12 + 24));
  // Sparse size 0: counted as zero non-zeros, or dense as in the original.
  ASSERT_TRUE(s.g.SetKernelSparseSize(s.conv, 0).ok());
  EXPECT_EQ(ModelSizeUnas(s.g), 0 + 4 + 48 + 3);
  EXPECT_EQ(ModelSizeUnas(s.g, {.legacy_zero_sparse_as_dense = true}), 127);
  // Sparsity never changes MACs (as in the original).
  EXPECT_EQ(ConvDenseMacs(s.g), 4 * 4 * 4 * 18 + 48);
  EXPECT_FALSE(s.g.SetKernelSparseSize(s.conv, 73).ok());
  EXPECT_FALSE(s.g.SetKernelSparseSize(s.conv, -1).ok());
  EXPECT_FALSE(s.g.SetSparseSize(s.g.op(s.conv).bias, 1).ok());
  EXPECT_FALSE(s.g.SetKernelSparseSize(s.g.tensor(s.g.op(s.conv).inputs[0]).producer, 1).ok());
  ASSERT_TRUE(s.g.ClearSparseSize(s.g.op(s.conv).kernel).ok());
  EXPECT_EQ(ModelSizeUnas(s.g), 127);
}

TEST(MacsTest, TwoDefinitionsAndLatency) {
  Small s;
  const int64_t conv = 4 * 4 * 4 * 18;
  const int64_t pool = 2 * 2 * 4 * 4;
  const int64_t fc = 16 * 3;
  EXPECT_EQ(ConvDenseMacs(s.g), conv + fc);
  EXPECT_EQ(ComputeMacs(s.g), conv + pool + fc);
  const int64_t loads = (2 * conv + 64) + pool + (2 * fc + 3);
  EXPECT_EQ(MemoryLoads(s.g), loads);
  EXPECT_DOUBLE_EQ(LatencyProxy(s.g), static_cast<double>(conv + pool + fc));
  EXPECT_DOUBLE_EQ(LatencyProxy(s.g, {.compute = 2.0, .memory_access = 0.5}),
                   2.0 * (conv + pool + fc) + 0.5 * loads);
}

TEST(ResourcesTest, ReportHasEveryMetric) {
  Small s;
  ResourceReport r = Unwrap(ComputeResources(s.g));
  EXPECT_EQ(r.pmu_bytes, 64 + 16);             // conv out + pool out during the pool
  EXPECT_EQ(r.pmu_with_input_bytes, 72 + 64);  // input + conv out during the conv
  EXPECT_EQ(r.order_names, (std::vector<std::string>{"conv", "pool", "fc"}));
  EXPECT_EQ(r.step_bytes, (std::vector<int64_t>{64, 80, 19}));
  EXPECT_EQ(r.model_size_unas, 127);
  EXPECT_EQ(r.parameter_count, 127);
  EXPECT_EQ(r.macs, ComputeMacs(s.g));
  EXPECT_EQ(r.conv_dense_macs, ConvDenseMacs(s.g));
  EXPECT_FALSE(r.pmu_without_add_reuse_bytes.has_value());
  // Selecting include_input switches the order's PMU but reports both numbers the same way.
  ResourceOptions with_input;
  with_input.pmu.include_input = true;
  ResourceReport ri = Unwrap(ComputeResources(s.g, with_input));
  EXPECT_EQ(ri.pmu_bytes, r.pmu_bytes);
  EXPECT_EQ(ri.pmu_with_input_bytes, r.pmu_with_input_bytes);
  EXPECT_EQ(ri.step_bytes, (std::vector<int64_t>{136, 80, 19}));
}

TEST(DotExportTest, ShowsShapesParamsAndSparseCounts) {
  Small s;
  ASSERT_TRUE(s.g.SetKernelSparseSize(s.conv, 10).ok());
  PmuResult schedule = Unwrap(ComputePmu(s.g));
  const std::string dot = ToDot(s.g, {.schedule = &schedule});
  EXPECT_THAT(dot, HasSubstr("digraph resource_graph {"));
  EXPECT_THAT(dot, HasSubstr("conv\\n1x4x4x4\\n64 B"));
  EXPECT_THAT(dot, HasSubstr("Conv2D conv\\n4 filters, 3x3, stride 1\\nparams 76\\nsparse 10"));
  EXPECT_THAT(dot, HasSubstr("non-zeros 10"));
  EXPECT_THAT(dot, HasSubstr("step 1: 80 B live"));
  EXPECT_THAT(dot, HasSubstr("peripheries=2"));
  const std::string no_weights = ToDot(s.g, {.show_weights = false});
  EXPECT_THAT(no_weights, ::testing::Not(HasSubstr("conv/kernel")));
  EXPECT_EQ(dot.back(), '\n');
}

}  // namespace
}  // namespace unas::rm
