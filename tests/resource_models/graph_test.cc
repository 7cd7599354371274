// Hand-checked shapes, parameter counts and MACs of each operator, and the errors of bad graphs.

#include "resource_models/graph.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "resource_models/macs.h"
#include "resource_models/model_size.h"
#include "resource_models/operators.h"
#include "resource_models/pmu.h"
#include "tests/resource_models/test_util.h"

namespace unas::rm {
namespace {

using ::testing::HasSubstr;
using testing::Unwrap;

TEST(OperatorTest, Conv2DStride2OddSize) {
  Graph g;
  const TensorId x = Unwrap(g.AddInput("in", {1, 9, 7, 3}));
  const TensorId y = Unwrap(g.AddConv2D("c", x, {.filters = 5, .kernel = 3, .stride = 2}));
  // floor((9 - 3) / 2) + 1 = 4, floor((7 - 3) / 2) + 1 = 3.
  EXPECT_EQ(g.tensor(y).shape, (Shape{1, 4, 3, 5}));
  const OpCost cost = ComputeOpCost(g, g.tensor(y).producer);
  EXPECT_EQ(cost.params, 3 * 3 * 3 * 5 + 5);
  EXPECT_EQ(cost.macs, 4 * 3 * 5 * (3 * 3 * 3));
  EXPECT_EQ(cost.compute, cost.macs);
  EXPECT_EQ(cost.loads, 2 * cost.macs + 4 * 3 * 5);
  EXPECT_EQ(g.tensor(g.op(g.tensor(y).producer).kernel).shape, (Shape{3, 3, 3, 5}));
}

TEST(OperatorTest, Conv2DKernelLargerThanInputIsRejected) {
  Graph g;
  const TensorId x = Unwrap(g.AddInput("in", {1, 3, 3, 2}));
  absl::StatusOr<TensorId> y = g.AddConv2D("c1", x, {.filters = 4, .kernel = 5});
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(y.status().message()),
              HasSubstr("conv 'c1': kernel 5 larger than input 3x3"));
  // Nothing was added by the failed call: the name is still free.
  EXPECT_TRUE(g.AddConv2D("c1", x, {.filters = 4, .kernel = 3}).ok());
}

TEST(OperatorTest, PointwiseConv) {
  Graph g;
  const TensorId x = Unwrap(g.AddInput("in", {1, 5, 6, 4}));
  const TensorId y = Unwrap(g.AddConv2D("pw", x, {.filters = 7, .kernel = 1, .use_bias = false}));
  EXPECT_EQ(g.tensor(y).shape, (Shape{1, 5, 6, 7}));
  const OpCost cost = ComputeOpCost(g, g.tensor(y).producer);
  EXPECT_EQ(cost.params, 4 * 7);
  EXPECT_EQ(cost.macs, 5 * 6 * 7 * 4);
  EXPECT_EQ(g.op(g.tensor(y).producer).bias, kNone);
}

TEST(OperatorTest, Depthwise) {
  Graph g;
  const TensorId x = Unwrap(g.AddInput("in", {1, 10, 8, 6}));
  const TensorId y = Unwrap(g.AddDepthwiseConv2D("dw", x, {.kernel = 3, .stride = 2}));
  EXPECT_EQ(g.tensor(y).shape, (Shape{1, 4, 3, 6}));
  const OpCost cost = ComputeOpCost(g, g.tensor(y).producer);
  EXPECT_EQ(cost.params, 3 * 3 * 6 + 6);
  EXPECT_EQ(cost.macs, 4 * 3 * 6 * 9);
  EXPECT_FALSE(g.AddDepthwiseConv2D("dw2", x, {.kernel = 9}).ok());
}

TEST(OperatorTest, PoolingThatDoesNotDivideTheInput) {
  Graph g;
  const TensorId x = Unwrap(g.AddInput("in", {1, 7, 5, 3}));
  const TensorId f = Unwrap(g.AddPool("floor", x, {.pool_h = 2, .pool_w = 2}));
  EXPECT_EQ(g.tensor(f).shape, (Shape{1, 3, 2, 3}));  // whole windows only
  const TensorId c =
      Unwrap(g.AddPool("ceil", x, {.pool_h = 2, .pool_w = 2, .rounding = PoolRounding::kCeil}));
  EXPECT_EQ(g.tensor(c).shape, (Shape{1, 4, 3, 3}));  // the original's ceil(H / p)
  const TensorId s = Unwrap(
      g.AddPool("strided", x,
                {.type = PoolType::kAvg, .pool_h = 3, .pool_w = 2, .stride_h = 2, .stride_w = 1}));
  EXPECT_EQ(g.tensor(s).shape, (Shape{1, 3, 4, 3}));
  const OpCost cost = ComputeOpCost(g, g.tensor(f).producer);
  EXPECT_EQ(cost.params, 0);
  EXPECT_EQ(cost.macs, 0);
  EXPECT_EQ(cost.compute, 3 * 2 * 3 * 4);
  absl::StatusOr<TensorId> bad = g.AddPool("big", x, {.pool_h = 8, .pool_w = 2});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("pool 'big': window 8x2 larger"));
}

TEST(OperatorTest, DenseFlattens) {
  Graph g;
  const TensorId x = Unwrap(g.AddInput("in", {1, 3, 2, 5}));
  const TensorId y = Unwrap(g.AddDense("fc", x, {.units = 4}));
  EXPECT_EQ(g.tensor(y).shape, (Shape{1, 4}));
  const OpCost cost = ComputeOpCost(g, g.tensor(y).producer);
  EXPECT_EQ(cost.params, 30 * 4 + 4);
  EXPECT_EQ(cost.macs, 120);
  EXPECT_EQ(cost.loads, 240 + 4);
}

TEST(OperatorTest, AddModes) {
  Graph g;
  const TensorId a = Unwrap(g.AddInput("a", {1, 4, 3, 2}));
  const TensorId b = Unwrap(g.AddInput("b", {1, 3, 4, 2}));
  const TensorId s = Unwrap(g.AddAdd("sum", {a, b, a}));
  EXPECT_EQ(g.tensor(s).shape, (Shape{1, 4, 4, 2}));
  const OpCost cost = ComputeOpCost(g, g.tensor(s).producer);
  EXPECT_EQ(cost.compute, 2 * 32);
  EXPECT_EQ(cost.loads, 3 * 32);
  // Reading a twice is still one consumer.
  EXPECT_EQ(g.tensor(a).consumers.size(), 1u);
  absl::StatusOr<TensorId> strict = g.AddAdd("strict", {a, b}, AddMode::kEqualShapes);
  ASSERT_FALSE(strict.ok());
  EXPECT_THAT(std::string(strict.status().message()), HasSubstr("different shapes"));
}

TEST(GraphTest, ConsumersAreRecordedForActivations) {
  Graph g;
  const TensorId x = Unwrap(g.AddInput("in", {1, 4, 4, 1}));
  const TensorId a = Unwrap(g.AddConv2D("a", x, {.filters = 2, .kernel = 1}));
  const TensorId b = Unwrap(g.AddConv2D("b", x, {.filters = 2, .kernel = 1}));
  const TensorId s = Unwrap(g.AddAdd("s", {a, b}));
  EXPECT_EQ(g.tensor(x).consumers, (std::vector<OpId>{g.tensor(a).producer, g.tensor(b).producer}));
  EXPECT_EQ(g.tensor(a).consumers, (std::vector<OpId>{g.tensor(s).producer}));
  EXPECT_EQ(Unwrap(g.FindTensor("s")), s);
  EXPECT_EQ(Unwrap(g.FindOp("a")), g.tensor(a).producer);
  EXPECT_FALSE(g.FindOp("nope").ok());
}

TEST(GraphTest, BadGraphsGetClearErrors) {
  Graph g;
  // Zero or negative dimensions.
  absl::StatusOr<TensorId> zero = g.AddInput("zero", {1, 0, 4, 1});
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(std::string(zero.status().message()), HasSubstr("dimension 0 must be > 0"));
  EXPECT_FALSE(g.AddInput("neg", {1, 4, -2, 1}).ok());
  const TensorId x = Unwrap(g.AddInput("in", {1, 4, 4, 1}));
  EXPECT_FALSE(g.AddConv2D("f0", x, {.filters = 0, .kernel = 1}).ok());
  EXPECT_FALSE(g.AddConv2D("s0", x, {.filters = 1, .kernel = 1, .stride = 0}).ok());
  EXPECT_FALSE(g.AddDense("u0", x, {.units = -3}).ok());
  // Add of incompatible ranks.
  const TensorId flat = Unwrap(g.AddDense("fc", x, {.units = 3}));
  absl::StatusOr<TensorId> rank = g.AddAdd("bad_add", {x, flat});
  ASSERT_FALSE(rank.ok());
  EXPECT_THAT(std::string(rank.status().message()),
              HasSubstr("add 'bad_add': inputs of different ranks: 1x4x4x1 and 1x3"));
  // Cycles cannot be built: an op can only read tensors that exist; a later id is rejected.
  absl::StatusOr<TensorId> forward = g.AddConv2D("cyc", g.num_tensors() + 5, {.filters = 1});
  ASSERT_FALSE(forward.ok());
  EXPECT_THAT(std::string(forward.status().message()), HasSubstr("does not exist"));
  // Weights are not activations.
  EXPECT_FALSE(g.AddConv2D("w", g.op(g.tensor(flat).producer).kernel, {.filters = 1}).ok());
  // Duplicate names.
  absl::StatusOr<TensorId> dup = g.AddDense("fc", x, {.units = 3});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  // Missing output.
  absl::StatusOr<PmuResult> no_output = ComputePmu(g);
  ASSERT_FALSE(no_output.ok());
  EXPECT_THAT(std::string(no_output.status().message()), HasSubstr("no output"));
  // A dangling op (neither consumed nor an output).
  ASSERT_TRUE(g.MarkOutput(flat).ok());
  EXPECT_TRUE(ComputePmu(g).ok());
  ASSERT_TRUE(g.AddConv2D("dangling", x, {.filters = 1}).ok());
  absl::StatusOr<PmuResult> dangling = ComputePmu(g);
  ASSERT_FALSE(dangling.ok());
  EXPECT_THAT(std::string(dangling.status().message()), HasSubstr("neither consumed"));
  EXPECT_FALSE(g.MarkOutput(1000).ok());
}

TEST(GraphTest, SimulateOrderRejectsInvalidOrders) {
  Graph g;
  const TensorId x = Unwrap(g.AddInput("in", {1, 4, 4, 1}));
  const TensorId a = Unwrap(g.AddConv2D("a", x, {.filters = 2, .kernel = 1}));
  const TensorId b = Unwrap(g.AddConv2D("b", a, {.filters = 2, .kernel = 1}));
  ASSERT_TRUE(g.MarkOutput(b).ok());
  const OpId oa = g.tensor(a).producer;
  const OpId ob = g.tensor(b).producer;
  EXPECT_TRUE(SimulateOrder(g, std::vector<OpId>{oa, ob}).ok());
  absl::StatusOr<PmuResult> wrong = SimulateOrder(g, std::vector<OpId>{ob, oa});
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("runs before 'a'"));
  EXPECT_FALSE(SimulateOrder(g, std::vector<OpId>{oa}).ok());
  EXPECT_FALSE(SimulateOrder(g, std::vector<OpId>{oa, oa}).ok());
  EXPECT_FALSE(SimulateOrder(g, std::vector<OpId>{oa, 77}).ok());
}

TEST(GraphTest, InputCountingAndOutputsStayLive) {
  Graph g;
  const TensorId x = Unwrap(g.AddInput("in", {1, 10}));
  const TensorId a = Unwrap(g.AddDense("a", x, {.units = 20}));
  const TensorId b = Unwrap(g.AddDense("b", a, {.units = 5}));
  const TensorId c = Unwrap(g.AddDense("c", b, {.units = 3}));
  ASSERT_TRUE(g.MarkOutput(a).ok());  // an intermediate output is never freed
  ASSERT_TRUE(g.MarkOutput(c).ok());
  PmuResult r = Unwrap(ComputePmu(g));
  EXPECT_EQ(r.step_bytes, (std::vector<int64_t>{20, 25, 28}));
  PmuResult ri = Unwrap(ComputePmu(g, {.include_input = true}));
  EXPECT_EQ(ri.step_bytes, (std::vector<int64_t>{30, 25, 28}));
  EXPECT_EQ(ri.peak_bytes, 30);
}

}  // namespace
}  // namespace unas::rm
