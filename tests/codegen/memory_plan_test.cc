// The arena planner: hand-built graphs whose plans are worked out by hand,
// and 300 random CNN-space graphs whose plans are checked independently
// (no two live buffers overlap), whose step peak equals resource_models'
// SimulateOrder and whose arena equals the PMU on every chain.
#include "codegen/memory_plan.h"

#include <vector>

#include "common/search_space/random_architecture.h"
#include "common/search_space/resource_graph.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "resource_models/pmu.h"

namespace unas::codegen {
namespace {

using ::testing::HasSubstr;

std::vector<rm::OpId> GraphOrder(const rm::Graph& g) {
  std::vector<rm::OpId> order;
  for (rm::OpId id = 0; id < g.num_ops(); ++id) {
    if (g.op(id).kind != rm::OpKind::kInput) order.push_back(id);
  }
  return order;
}

TEST(MemoryPlan, ChainAlternatesEndsAndReachesThePeak) {
  // 10x10x1 (100) -> conv 3x3x4 (256) -> conv 3x3x2 (72) -> pool 2 (18) -> dense 5.
  rm::Graph g;
  rm::TensorId x = *g.AddInput("input", {1, 10, 10, 1});
  x = *g.AddConv2D("a", x, {.filters = 4, .kernel = 3});
  x = *g.AddConv2D("b", x, {.filters = 2, .kernel = 3});
  x = *g.AddPool("c", x, {.pool_h = 2, .pool_w = 2});
  x = *g.AddDense("d", x, {.units = 5});
  ASSERT_TRUE(g.MarkOutput(x).ok());
  absl::StatusOr<MemoryPlan> plan = PlanMemory(g, GraphOrder(g));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->peak_bytes, 100 + 256);
  EXPECT_EQ(plan->arena_bytes, 356);
  EXPECT_TRUE(CheckMemoryPlan(*plan).ok());
  EXPECT_EQ(plan->peak_bytes, rm::ComputePmu(g, {.include_input = true})->peak_bytes);
  // Without the input in the arena: 256 + 72.
  absl::StatusOr<MemoryPlan> outside = PlanMemory(g, GraphOrder(g), {.include_input = false});
  ASSERT_TRUE(outside.ok());
  EXPECT_EQ(outside->arena_bytes, 328);
  EXPECT_EQ(outside->offset_of(0), -1);
}

TEST(MemoryPlan, CheckFindsOverlapsAndBuffersOutsideTheArena) {
  rm::Graph g;
  const rm::TensorId in = *g.AddInput("input", {1, 6, 6, 1});
  const rm::TensorId a = *g.AddConv2D("a", in, {.filters = 2, .kernel = 3});
  ASSERT_TRUE(g.MarkOutput(*g.AddDense("b", a, {.units = 4})).ok());
  absl::StatusOr<MemoryPlan> plan = PlanMemory(g, GraphOrder(g));
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(CheckMemoryPlan(*plan).ok());
  MemoryPlan overlapping = *plan;  // the input and a's output are live at step 0
  overlapping.buffers[overlapping.buffer_of[a]].offset = overlapping.offset_of(in);
  EXPECT_THAT(std::string(CheckMemoryPlan(overlapping).message()), HasSubstr("overlap"));
  MemoryPlan outside = *plan;
  outside.arena_bytes -= 1;
  EXPECT_THAT(std::string(CheckMemoryPlan(outside).message()), HasSubstr("outside the arena"));
}

TEST(MemoryPlan, AddWritesIntoTheInputItFrees) {
  // input 8x8x2 -> a (conv 1x1x2) -> add(a, b) where b = conv 1x1x2 of a.
  rm::Graph g;
  const rm::TensorId in = *g.AddInput("input", {1, 8, 8, 2});
  const rm::TensorId a = *g.AddConv2D("a", in, {.filters = 2, .kernel = 1});
  const rm::TensorId b = *g.AddConv2D("b", a, {.filters = 2, .kernel = 1});
  const rm::TensorId sum = *g.AddAdd("sum", {a, b});
  const rm::TensorId out = *g.AddDense("out", sum, {.units = 3});
  ASSERT_TRUE(g.MarkOutput(out).ok());
  absl::StatusOr<MemoryPlan> plan = PlanMemory(g, GraphOrder(g));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->buffer_of[sum], plan->buffer_of[a]);
  EXPECT_EQ(plan->offset_of(sum), plan->offset_of(a));
  EXPECT_EQ(plan->peak_bytes,
            rm::SimulateOrder(g, GraphOrder(g), {.include_input = true})->peak_bytes);
  EXPECT_TRUE(CheckMemoryPlan(*plan).ok());
  absl::StatusOr<MemoryPlan> no_reuse = PlanMemory(g, GraphOrder(g), {.add_inplace = false});
  ASSERT_TRUE(no_reuse.ok());
  EXPECT_NE(no_reuse->buffer_of[sum], no_reuse->buffer_of[a]);
  EXPECT_GT(no_reuse->peak_bytes, plan->peak_bytes);
}

TEST(MemoryPlan, RejectsABrokenOrder) {
  rm::Graph g;
  rm::TensorId x = *g.AddInput("input", {1, 6, 6, 1});
  x = *g.AddConv2D("first", x, {.filters = 2, .kernel = 3});
  x = *g.AddConv2D("second", x, {.filters = 2, .kernel = 3});
  ASSERT_TRUE(g.MarkOutput(x).ok());
  std::vector<rm::OpId> order = GraphOrder(g);
  std::swap(order[0], order[1]);
  EXPECT_THAT(std::string(PlanMemory(g, order).status().message()),
              HasSubstr("'second' runs before"));
  order.erase(order.begin());
  EXPECT_THAT(std::string(PlanMemory(g, order).status().message()),
              HasSubstr("leaves out op 'second'"));
}

TEST(MemoryPlan, RandomCnnSpaceGraphs) {
  const DataShape data{28, 28, 1, 10};
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  Rng rng(11);
  int graphs = 0, chains = 0;
  while (graphs < 300) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, data, rng);
    ASSERT_TRUE(arch.ok());
    absl::StatusOr<rm::Graph> g = BuildResourceGraph(*arch, data);
    ASSERT_TRUE(g.ok()) << g.status();
    const rm::PmuOptions pmu_options{.include_input = true,
                                     .on_search_limit = rm::SearchLimitPolicy::kUpperBound};
    absl::StatusOr<rm::PmuResult> pmu = rm::ComputePmu(*g, pmu_options);
    ASSERT_TRUE(pmu.ok());
    absl::StatusOr<MemoryPlan> plan = PlanMemory(*g, pmu->order);
    ASSERT_TRUE(plan.ok()) << plan.status();
    ASSERT_TRUE(CheckMemoryPlan(*plan).ok()) << CheckMemoryPlan(*plan);
    EXPECT_EQ(plan->peak_bytes, pmu->peak_bytes);
    EXPECT_GE(plan->arena_bytes, plan->peak_bytes);
    bool chain = true;
    for (const rm::Tensor& t : g->tensors()) chain = chain && t.consumers.size() <= 1;
    if (chain) {
      ++chains;
      EXPECT_EQ(plan->arena_bytes, plan->peak_bytes) << "graph " << graphs;
    }
    ++graphs;
  }
  EXPECT_GT(chains, 10);
}

}  // namespace
}  // namespace unas::codegen
