// The OTMANN distance: hand-computed transports, label and structural costs,
// and the metric-like properties on random architectures.
#include "coordinator/search/bo/otmann.h"

#include <cmath>
#include <utility>
#include <vector>

#include "common/search_space/random_architecture.h"
#include "common/search_space/rng.h"
#include "coordinator/search/bo/arch_graph.h"
#include "coordinator/search/bo/transport.h"
#include "gtest/gtest.h"

namespace unas::search::bo {
namespace {

// ip -> layers[0] -> ... -> op, a chain with the given middle layers.
LayerGraph Chain(std::vector<Layer> middle, double io_mass) {
  LayerGraph g;
  Layer ip;
  ip.group = LayerGroup::kInput;
  ip.mass = io_mass;
  g.layers.push_back(ip);
  for (Layer& l : middle) g.layers.push_back(l);
  Layer op;
  op.group = LayerGroup::kOutput;
  op.mass = io_mass;
  g.layers.push_back(op);
  for (size_t i = 0; i + 1 < g.layers.size(); ++i) {
    g.layers[i].children.push_back(static_cast<int>(i + 1));
    g.layers[i + 1].parents.push_back(static_cast<int>(i));
  }
  g.total_mass = 0;
  for (const Layer& l : g.layers) g.total_mass += l.mass;
  ComputePathFeatures(g);
  return g;
}

Layer Dense(double mass, bool relu) {
  Layer l;
  l.group = LayerGroup::kDense;
  l.mass = mass;
  l.relu = relu;
  return l;
}

TEST(TransportTest, HandSolvedTwoByTwo) {
  // Rows (1, 2), columns (2, 1): row 0 -> column 1 (cost 0.2), row 1 ->
  // column 0 (cost 0.3 x 2); the 3.0 arc is worse than both dummies.
  std::vector<double> rows = {1, 2}, cols = {2, 1};
  std::vector<std::vector<double>> costs = {{0.5, 0.2, 0.3, 3.0}, {0, 5, 5, 0}};
  std::vector<double> lp = SolveDummyTransport(rows, cols, costs);
  EXPECT_NEAR(lp[0], 0.8, 1e-6);
  // Second matrix: row 0 -> column 0 (1 unit, free), row 1 -> column 1 (1
  // unit, free); one unit of each side's remainder goes through the dummies.
  EXPECT_NEAR(lp[1], 2.0, 1e-6);
}

TEST(TransportTest, ReusedPlansGiveExactlyTheSolvedOptima) {
  // Matrices M + s·S for five s, as the OTMANN distance builds them: the
  // duality-checked reuse of a plan must give the simplex's value exactly.
  Rng rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    int a = 2 + static_cast<int>(rng.Index(12)), b = 2 + static_cast<int>(rng.Index(12));
    std::vector<double> rows(a), cols(b), m(a * b), s(a * b);
    for (double& x : rows) x = rng.Uniform(0.01, 50.0);
    for (double& x : cols) x = rng.Uniform(0.01, 50.0);
    for (int i = 0; i < a * b; ++i) {
      m[i] = rng.Uniform(0.0, 0.7);
      s[i] = rng.Uniform(0.0, 2.0);
    }
    std::vector<std::vector<double>> costs;
    for (double coefficient : {0.1, 0.2, 0.25, 0.61, 1.5}) {
      std::vector<double> c(a * b);
      for (int i = 0; i < a * b; ++i) c[i] = m[i] + coefficient * s[i];
      costs.push_back(c);
    }
    EXPECT_EQ(SolveDummyTransport(rows, cols, costs, true),
              SolveDummyTransport(rows, cols, costs, false))
        << a << "x" << b;
  }
}

TEST(TransportTest, OneLayerSidesGiveExactlyTheSimplexOptima) {
  // One layer against several, either way round, costs on both sides of the
  // cap of 2 (where the greedy fill stops) and tied costs.
  Rng rng(9);
  for (int trial = 0; trial < 300; ++trial) {
    const int others = 2 + static_cast<int>(rng.Index(20));
    const bool one_row = trial % 2 == 0;
    std::vector<double> single = {rng.Uniform(0.01, 50.0)}, many(others);
    for (double& x : many) x = rng.Uniform(0.01, 50.0 / others);
    std::vector<std::vector<double>> costs;
    for (int k = 0; k < 5; ++k) {
      std::vector<double> c(others);
      for (double& x : c) x = rng.Index(4) == 0 ? 0.5 : rng.Uniform(0.0, 2.5);
      costs.push_back(c);
    }
    const std::vector<double>& rows = one_row ? single : many;
    const std::vector<double>& cols = one_row ? many : single;
    EXPECT_EQ(SolveDummyTransport(rows, cols, costs, true),
              SolveDummyTransport(rows, cols, costs, false))
        << (one_row ? "1x" : "x1") << others;
  }
}

TEST(OtmannTest, UnmatchedMassCostsOnePerUnit) {
  LayerGraph a = Chain({Dense(1.0, true)}, 0.1);
  LayerGraph b = Chain({Dense(2.0, true)}, 0.1);
  OtmannDistance d = ComputeOtmannDistance(a, b);
  for (int k = 0; k < kNumCoefficientPairs; ++k) {
    EXPECT_NEAR(d.lp[k], 1.0, 1e-6);
    EXPECT_NEAR(d.emd[k], 1.0 / 3.4, 1e-6);
  }
}

TEST(OtmannTest, LabelMismatchIsPaidOnTheMatchedMass) {
  LayerGraph a = Chain({Dense(1.0, true)}, 0.1);
  LayerGraph b = Chain({Dense(1.0, false)}, 0.1);
  OtmannDistance d = ComputeOtmannDistance(a, b);
  for (int k = 0; k < kNumCoefficientPairs; ++k) EXPECT_NEAR(d.lp[k], 0.1, 1e-6);
}

TEST(OtmannTest, DifferentGroupsNeverMatchAndPositionsCost) {
  // A conv where the other has a pool: both masses unmatched (1 + 1); the
  // input and output layers now differ in 6 of 15 path features by 1 each,
  // so S(ip, ip) = S(op, op) = ½·6/15 = 0.2, paid on their 0.1 mass.
  Layer conv;
  conv.group = LayerGroup::kConv;
  conv.kernel = 3;
  conv.mass = 1.0;
  Layer pool;
  pool.group = LayerGroup::kPool;
  pool.mass = 1.0;
  LayerGraph a = Chain({conv}, 0.1);
  LayerGraph b = Chain({pool}, 0.1);
  EXPECT_NEAR(StructuralCost(a, 0, b, 0), 0.2, 1e-12);
  EXPECT_NEAR(StructuralCost(a, 2, b, 2), 0.2, 1e-12);
  EXPECT_TRUE(std::isinf(LabelMismatch(a.layers[1], b.layers[1])));
  OtmannDistance d = ComputeOtmannDistance(a, b);
  for (int k = 0; k < kNumCoefficientPairs; ++k) {
    double expected = 2.0 + 2 * 0.1 * 0.2 * kCoefficientPairs[k].structural;
    EXPECT_NEAR(d.lp[k], expected, 1e-6) << k;
    EXPECT_NEAR(d.emd[k], expected / 2.4, 1e-6) << k;
  }
}

TEST(OtmannTest, LabelMismatchValues) {
  Layer a, b;
  a.group = b.group = LayerGroup::kConv;
  a.kernel = 3;
  b.kernel = 5;
  b.batch_norm = true;
  EXPECT_NEAR(LabelMismatch(a, b), 0.2 + 0.1, 1e-12);  // sqrt(2·2)/10 + bn
  b.depthwise = true;
  b.relu = true;
  EXPECT_NEAR(LabelMismatch(a, b), 0.5, 1e-12);
  EXPECT_EQ(LabelMismatch(a, a), 0.0);
  Layer p, q;
  p.group = q.group = LayerGroup::kPool;
  q.average_pool = true;
  EXPECT_EQ(LabelMismatch(p, q), 0.5);
}

TEST(OtmannTest, SymmetricZeroOnSelfAndPositiveOnRandomNetworks) {
  Rng rng(7);
  SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  DataShape data{28, 28, 1, 10};
  std::vector<LayerGraph> graphs;
  while (graphs.size() < 12) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, data, rng);
    ASSERT_TRUE(arch.ok());
    absl::StatusOr<ArchAnalysis> a = AnalyseArchitecture(*arch, data);
    ASSERT_TRUE(a.ok()) << a.status();
    graphs.push_back(a->graph);
  }
  for (size_t i = 0; i < graphs.size(); ++i) {
    OtmannDistance self = ComputeOtmannDistance(graphs[i], graphs[i]);
    for (int k = 0; k < kNumCoefficientPairs; ++k) EXPECT_EQ(self.lp[k], 0.0);
    for (size_t j = 0; j < i; ++j) {
      OtmannDistance ij = ComputeOtmannDistance(graphs[i], graphs[j]);
      OtmannDistance ji = ComputeOtmannDistance(graphs[j], graphs[i]);
      for (int k = 0; k < kNumCoefficientPairs; ++k) {
        EXPECT_EQ(ij.lp[k], ji.lp[k]);
        EXPECT_GT(ij.lp[k], 0.0);
        EXPECT_LE(ij.emd[k], 1.0 + 1e-9);
        // Never more than sending everything through the dummies.
        EXPECT_LE(ij.lp[k], (graphs[i].total_mass + graphs[j].total_mass) * (1 + 1e-6));
      }
    }
  }
}

TEST(ArchGraphTest, MassesAndEdgesFollowThePlan) {
  // MLP [64, 32] on 28x28x1, 10 classes: dense MACs 784·64, 64·32, 32·10.
  v1::Architecture arch;
  arch.mutable_mlp()->add_layers()->set_units(64);
  arch.mutable_mlp()->add_layers()->set_units(32);
  absl::StatusOr<ArchAnalysis> a = AnalyseArchitecture(arch, DataShape{28, 28, 1, 10});
  ASSERT_TRUE(a.ok()) << a.status();
  const LayerGraph& g = a->graph;
  ASSERT_EQ(g.layers.size(), 5u);
  EXPECT_NEAR(g.layers[1].mass, 784 * 64 / 1000.0, 1e-9);
  EXPECT_NEAR(g.layers[2].mass, 64 * 32 / 1000.0, 1e-9);
  EXPECT_NEAR(g.layers[3].mass, 32 * 10 / 1000.0, 1e-9);
  EXPECT_TRUE(g.layers[1].relu);
  EXPECT_FALSE(g.layers[3].relu);  // logits
  double ops = (784 * 64 + 64 * 32 + 32 * 10) / 1000.0;
  EXPECT_NEAR(g.layers[0].mass, std::max(0.1 * ops * 1000, 100.0) / 1000, 1e-9);
  EXPECT_EQ(a->resources.macs, 784 * 64 + 64 * 32 + 32 * 10);
  EXPECT_EQ(a->resources.model_size_bytes, 52650);  // the original's value
  EXPECT_EQ(a->resources.peak_memory_bytes, 96);
  // Backward "all" path length of the output layer: ip, 3 dense.
  EXPECT_EQ(g.backward[4][0], 4);
}

}  // namespace
}  // namespace unas::search::bo
