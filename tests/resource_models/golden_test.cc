// The golden vectors of docs/unas_original.md §14, built as resource graphs with the shapes the
// reference lists (ceil pooling where the original used it), must give exactly its numbers.

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "resource_models/graph.h"
#include "resource_models/macs.h"
#include "resource_models/model_size.h"
#include "resource_models/pmu.h"
#include "resource_models/resources.h"
#include "tests/resource_models/test_util.h"

namespace unas::rm {
namespace {

using testing::Unwrap;

constexpr PoolRounding kCeil = PoolRounding::kCeil;

struct Expected {
  int64_t pmu;
  int64_t pmu_with_input;
  int64_t size;
  int64_t macs;
  int64_t lat11;  // -1: not listed
};

void CheckGolden(const Graph& g, const Expected& e) {
  ResourceOptions options;
  options.pmu_without_add_reuse = true;
  ResourceReport r = Unwrap(ComputeResources(g, options));
  EXPECT_EQ(r.pmu_bytes, e.pmu);
  EXPECT_EQ(r.pmu_with_input_bytes, e.pmu_with_input);
  EXPECT_EQ(r.model_size_unas, e.size);
  EXPECT_EQ(r.macs, e.macs);
  if (e.lat11 >= 0) {
    EXPECT_EQ(LatencyProxy(g, {.compute = 1.0, .memory_access = 1.0}),
              static_cast<double>(e.lat11));
  }
  // The general search agrees with the fast path, and the order replays to the same peak.
  for (bool with_input : {false, true}) {
    PmuOptions general{.include_input = with_input, .algorithm = PmuAlgorithm::kGeneral};
    EXPECT_EQ(Unwrap(ComputePmu(g, general)).peak_bytes, with_input ? e.pmu_with_input : e.pmu);
  }
  PmuResult replay = Unwrap(SimulateOrder(g, r.order));
  EXPECT_EQ(replay.peak_bytes, e.pmu);
  EXPECT_EQ(replay.step_bytes, r.step_bytes);
}

TEST(GoldenTest, ChainMnist) {
  Graph g;
  TensorId x = Unwrap(g.AddInput("input", {1, 28, 28, 1}));
  x = Unwrap(g.AddConv2D("conv0", x, {.filters = 8, .kernel = 3, .stride = 1}));
  EXPECT_EQ(g.tensor(x).shape, (Shape{1, 26, 26, 8}));
  x = Unwrap(g.AddDense("dense0", x, {.units = 16}));
  x = Unwrap(g.AddDense("logits", x, {.units = 10}));
  ASSERT_TRUE(g.MarkOutput(x).ok());
  CheckGolden(g, {5424, 6192, 86794, 135360, 411514});
}

TEST(GoldenTest, BranchCifar) {
  Graph g;
  const TensorId in = Unwrap(g.AddInput("input", {1, 32, 32, 3}));
  const TensorId li = Unwrap(g.AddConv2D("b0_conv", in, {.filters = 16, .kernel = 3, .stride = 2}));
  EXPECT_EQ(g.tensor(li).shape, (Shape{1, 15, 15, 16}));
  TensorId main = Unwrap(g.AddDepthwiseConv2D("b1_dw", li, {.kernel = 3}));
  main = Unwrap(g.AddConv2D("b1_pw", main, {.filters = 24, .kernel = 1}));
  EXPECT_EQ(g.tensor(main).shape, (Shape{1, 13, 13, 24}));
  const TensorId branch = Unwrap(g.AddConv2D("b2_conv", li, {.filters = 24, .kernel = 5}));
  EXPECT_EQ(g.tensor(branch).shape, (Shape{1, 11, 11, 24}));
  TensorId x = Unwrap(g.AddAdd("add", {main, branch}));
  EXPECT_EQ(g.tensor(x).shape, (Shape{1, 13, 13, 24}));
  x = Unwrap(g.AddPool("pool", x, {.pool_h = 2, .pool_w = 2, .rounding = kCeil}));
  EXPECT_EQ(g.tensor(x).shape, (Shape{1, 7, 7, 24}));
  x = Unwrap(g.AddDense("dense0", x, {.units = 32}));
  x = Unwrap(g.AddDense("logits", x, {.units = 10}));
  ASSERT_TRUE(g.MarkOutput(x).ok());
  CheckGolden(g, {9664, 9664, 48634, 1394744, 4192834});
  // The order matters: running the whole main path before the branch peaks at
  // li 3600 + pw 4056 + branch 2904 = 10560 bytes while the branch runs.
  const std::vector<OpId> main_first = {Unwrap(g.FindOp("b0_conv")), Unwrap(g.FindOp("b1_dw")),
                                        Unwrap(g.FindOp("b1_pw")),   Unwrap(g.FindOp("b2_conv")),
                                        Unwrap(g.FindOp("add")),     Unwrap(g.FindOp("pool")),
                                        Unwrap(g.FindOp("dense0")),  Unwrap(g.FindOp("logits"))};
  EXPECT_EQ(Unwrap(SimulateOrder(g, main_first)).peak_bytes, 10560);
}

TEST(GoldenTest, BranchDwLastKws) {
  Graph g;
  const TensorId in = Unwrap(g.AddInput("input", {1, 49, 40, 1}));
  const TensorId li = Unwrap(g.AddConv2D("b0_conv", in, {.filters = 12, .kernel = 7, .stride = 2}));
  EXPECT_EQ(g.tensor(li).shape, (Shape{1, 22, 17, 12}));
  TensorId main =
      Unwrap(g.AddPool("b1_prepool", li, {.pool_h = 2, .pool_w = 2, .rounding = kCeil}));
  EXPECT_EQ(g.tensor(main).shape, (Shape{1, 11, 9, 12}));
  main = Unwrap(g.AddConv2D("b1_conv", main, {.filters = 20, .kernel = 3}));
  EXPECT_EQ(g.tensor(main).shape, (Shape{1, 9, 7, 20}));
  TensorId branch = Unwrap(g.AddDepthwiseConv2D("b2_dw", li, {.kernel = 5, .stride = 2}));
  EXPECT_EQ(g.tensor(branch).shape, (Shape{1, 9, 7, 12}));
  branch = Unwrap(g.AddConv2D("b2_auto_pw", branch, {.filters = 20, .kernel = 1}));
  TensorId x = Unwrap(g.AddAdd("add", {main, branch}));
  x = Unwrap(g.AddConv2D("b3_pw", x, {.filters = 10, .kernel = 1}));
  x = Unwrap(
      g.AddPool("pool", x, {.type = PoolType::kAvg, .pool_h = 4, .pool_w = 4, .rounding = kCeil}));
  EXPECT_EQ(g.tensor(x).shape, (Shape{1, 3, 2, 10}));
  x = Unwrap(g.AddDense("dense0", x, {.units = 20}));
  x = Unwrap(g.AddDense("dense1", x, {.units = 11}));
  x = Unwrap(g.AddDense("logits", x, {.units = 12}));
  ASSERT_TRUE(g.MarkOutput(x).ok());
  CheckGolden(g, {6432, 6448, 5157, 411136, 1236133});
}

TEST(GoldenTest, ResidualSameShape) {
  Graph g;
  const TensorId in = Unwrap(g.AddInput("input", {1, 16, 16, 2}));
  const TensorId li = Unwrap(g.AddConv2D("b0_pw", in, {.filters = 8, .kernel = 1}));
  TensorId main = Unwrap(g.AddConv2D("b1_pw0", li, {.filters = 8, .kernel = 1}));
  main = Unwrap(g.AddConv2D("b1_pw1", main, {.filters = 8, .kernel = 1}));
  const TensorId branch = Unwrap(g.AddConv2D("b2_pw", li, {.filters = 8, .kernel = 1}));
  TensorId x = Unwrap(g.AddAdd("add", {main, branch}));
  x = Unwrap(g.AddDense("dense0", x, {.units = 10}));
  x = Unwrap(g.AddDense("logit", x, {.units = 1}));
  ASSERT_TRUE(g.MarkOutput(x).ok());
  CheckGolden(g, {6144, 6144, 20741, 75786, 235561});
}

Graph InplaceAddGraph() {
  Graph g;
  const TensorId in = Unwrap(g.AddInput("input", {1, 8, 8, 1}));
  const TensorId li = Unwrap(g.AddConv2D("b0_pw", in, {.filters = 4, .kernel = 1}));
  const TensorId main = Unwrap(g.AddConv2D("b1_pw", li, {.filters = 16, .kernel = 1}));
  const TensorId branch = Unwrap(g.AddConv2D("b2_pw", li, {.filters = 16, .kernel = 1}));
  TensorId x = Unwrap(g.AddAdd("add", {main, branch}));
  x = Unwrap(g.AddDense("dense0", x, {.units = 10}));
  x = Unwrap(g.AddDense("logits", x, {.units = 10}));
  EXPECT_TRUE(g.MarkOutput(x).ok());
  return g;
}

TEST(GoldenTest, InplaceAdd) {
  const Graph g = InplaceAddGraph();
  CheckGolden(g, {2304, 2304, 10528, 19812, -1});
  ResourceOptions options;
  options.pmu_without_add_reuse = true;
  ResourceReport r = Unwrap(ComputeResources(g, options));
  ASSERT_TRUE(r.pmu_without_add_reuse_bytes.has_value());
  EXPECT_EQ(*r.pmu_without_add_reuse_bytes, 3072);
  for (PmuAlgorithm algorithm : {PmuAlgorithm::kAuto, PmuAlgorithm::kGeneral}) {
    EXPECT_EQ(Unwrap(ComputePmu(g, {.add_inplace = false, .algorithm = algorithm})).peak_bytes,
              3072);
    EXPECT_EQ(Unwrap(ComputePmu(g, {.add_inplace = true, .algorithm = algorithm})).peak_bytes,
              2304);
  }
}

TEST(GoldenTest, MlpFashion) {
  Graph g;
  TensorId x = Unwrap(g.AddInput("input", {1, 28, 28, 1}));
  x = Unwrap(g.AddDense("dense0", x, {.units = 64}));
  x = Unwrap(g.AddDense("dense1", x, {.units = 32}));
  x = Unwrap(g.AddDense("logits", x, {.units = 10}));
  ASSERT_TRUE(g.MarkOutput(x).ok());
  CheckGolden(g, {96, 848, 52650, 52544, -1});
  EXPECT_EQ(ConvDenseMacs(g), 52544);  // no pooling or Add: both definitions agree
}

}  // namespace
}  // namespace unas::rm
