// Objectives, the randomised scalarisation, Pareto fronts and aging evolution.
#include <set>

#include "common/objectives/objectives.h"
#include "common/search_space/rng.h"
#include "coordinator/search/aging_evolution.h"
#include "coordinator/search/algorithm.h"
#include "gtest/gtest.h"

namespace unas::search {
namespace {

TEST(FitnessTest, WorkedExampleOfTheReference) {
  // docs/unas_original.md §5.2: bounds (0.035, 2500, 4500, 3e7), point (0.02,
  // 3000, 4000, 1e6), λ = (0.5, 0.9, 0.2, 0.7) → −4.444.
  BoundVector bounds = {0.035, 2500.0, 4500.0, 3e7};
  ObjectiveVector x = {0.02, 3000, 4000, 1e6};
  double fitness = ScalarisedFitness(x, bounds, {0.5, 0.9, 0.2, 0.7});
  EXPECT_NEAR(fitness, -4.4444, 1e-4);
  EXPECT_NEAR(fitness, -(4000.0 / 4500.0) / 0.2, 1e-12);
}

TEST(FitnessTest, CapsTheNormalisedValueBeforeDividing) {
  BoundVector bounds = {0.1, std::nullopt, std::nullopt, std::nullopt};
  EXPECT_DOUBLE_EQ(ScalarisedFitness({0.5, 0, 0, 0}, bounds, {0.5, 1, 1, 1}), -10.0);
  EXPECT_DOUBLE_EQ(ScalarisedFitness({100.0, 0, 0, 0}, bounds, {0.5, 1, 1, 1}), -20.0);
}

TEST(FitnessTest, UnboundedObjectivesAreIgnored) {
  BoundVector bounds = {std::nullopt, 1000.0, std::nullopt, std::nullopt};
  EXPECT_DOUBLE_EQ(ScalarisedFitness({0.9, 500, 1e9, 1e9}, bounds, {0.01, 1, 0.01, 0.01}), -0.5);
  EXPECT_TRUE(IsFeasible({0.9, 1000, 1e9, 1e9}, bounds));
  EXPECT_FALSE(IsFeasible({0.0, 1001, 0, 0}, bounds));
}

TEST(BoundsTest, UnstructuredPruningDropsMemoryAndMacBounds) {
  v1::JobSpec spec;
  spec.mutable_bounds()->set_error(0.1);
  spec.mutable_bounds()->set_peak_memory_bytes(100);
  spec.mutable_bounds()->set_model_size_bytes(200);
  spec.mutable_bounds()->set_macs(300);
  BoundVector dense = MakeBounds(spec);
  EXPECT_TRUE(dense[1] && dense[3]);
  spec.mutable_training()->mutable_pruning()->set_structured(false);
  BoundVector unstructured = MakeBounds(spec);
  EXPECT_EQ(unstructured[0], 0.1);
  EXPECT_FALSE(unstructured[1].has_value());
  EXPECT_EQ(unstructured[2], 200.0);
  EXPECT_FALSE(unstructured[3].has_value());
  spec.mutable_training()->mutable_pruning()->set_structured(true);
  EXPECT_TRUE(MakeBounds(spec)[1].has_value());
}

// The skip rule the coordinator and Bayesian optimisation share: a network is
// skipped only when every bounded resource is over its bound times the factor.
TEST(BoundsTest, ExceedsEveryBoundNeedsEveryResourceOverItsScaledBound) {
  BoundVector bounds = {0.1, 1000.0, 2000.0, std::nullopt};
  EXPECT_TRUE(ExceedsEveryBound({0.0, 2001, 4001, 1e12}, bounds, 2.0));
  EXPECT_FALSE(ExceedsEveryBound({0.0, 2000, 4001, 0}, bounds, 2.0))
      << "peak memory at exactly twice its bound is not over it";
  EXPECT_FALSE(ExceedsEveryBound({0.0, 2001, 10, 0}, bounds, 2.0)) << "the size is within";
  EXPECT_TRUE(ExceedsEveryBound({0.99, 2001, 4001, 0}, bounds, 2.0))
      << "the error (unknown before training) is ignored";
  EXPECT_FALSE(ExceedsEveryBound({0.0, 1e9, 1e9, 1e9}, bounds, 0.0)) << "factor 0: never skip";
  EXPECT_FALSE(ExceedsEveryBound({0.0, 1e9, 1e9, 1e9}, bounds, -1.0));
  BoundVector error_only = {0.1, std::nullopt, std::nullopt, std::nullopt};
  EXPECT_FALSE(ExceedsEveryBound({1.0, 1e9, 1e9, 1e9}, error_only, 2.0))
      << "no resource bound: nothing to exceed";
}
TEST(ParetoTest, KeepsNonDominatedPointsAndTheFirstOfDuplicates) {
  std::vector<ObjectiveVector> points = {
      {0.10, 100, 100, 100},  // 0: front
      {0.20, 50, 100, 100},   // 1: front (less memory)
      {0.20, 150, 150, 150},  // 2: dominated by 0
      {0.10, 100, 100, 100},  // 3: duplicate of 0
      {0.05, 500, 500, 500},  // 4: front (best error)
  };
  std::array<bool, kNumObjectives> all = {true, true, true, true};
  EXPECT_EQ(ParetoFront(points, all), (std::vector<size_t>{0, 1, 4}));
  std::array<bool, kNumObjectives> error_only = {true, false, false, false};
  EXPECT_EQ(ParetoFront(points, error_only), (std::vector<size_t>{4}));
  std::array<bool, kNumObjectives> error_memory = {true, true, false, false};
  EXPECT_EQ(ParetoFront(points, error_memory), (std::vector<size_t>{0, 1, 4}));
}

TEST(ParetoTest, MatchesBruteForceOnRandomPoints) {
  Rng rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<ObjectiveVector> points(40);
    for (auto& p : points) {
      for (double& v : p) v = static_cast<double>(rng.UniformInt(0, 6));
    }
    std::array<bool, kNumObjectives> use = {true, rng.Bernoulli(0.5), true, rng.Bernoulli(0.5)};
    std::vector<size_t> expected;
    for (size_t i = 0; i < points.size(); ++i) {
      bool dominated = false;
      for (size_t j = 0; j < points.size() && !dominated; ++j) {
        if (i == j) continue;
        bool le = true, lt = false;
        for (int k = 0; k < kNumObjectives; ++k) {
          if (!use[k]) continue;
          le = le && points[j][k] <= points[i][k];
          lt = lt || points[j][k] < points[i][k];
        }
        // Dominated, or an identical point comes first.
        dominated = le && (lt || j < i);
      }
      if (!dominated) expected.push_back(i);
    }
    EXPECT_EQ(ParetoFront(points, use), expected) << "trial " << trial;
  }
}

AgingEvolutionOptions SmallOptions() {
  AgingEvolutionOptions options;
  options.population_size = 5;
  options.sample_size = 3;
  options.initial_population_size = 5;
  options.seed = 11;
  options.space = DefaultSearchSpace(SpaceKind::kMlp);
  options.data = {28, 28, 1, 10};
  options.bounds = {0.2, std::nullopt, 30000.0, std::nullopt};
  return options;
}

Evaluated Member(int64_t id, double error) {
  Evaluated e;
  e.candidate_id = id;
  e.architecture.mutable_mlp()->add_layers()->set_units(10 + static_cast<int>(id));
  e.objectives = {error, 10, 1000, 1000};
  return e;
}

TEST(AgingEvolutionTest, PopulationKeepsTheLastNInOrder) {
  AgingEvolution ae(SmallOptions());
  for (int64_t id = 1; id <= 12; ++id) ae.Observe(Member(id, 0.1));
  ASSERT_EQ(ae.population().size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(ae.population()[i].candidate_id, 8 + int64_t(i));
}

TEST(AgingEvolutionTest, OldestLeavesEvenWhenItIsTheBest) {
  AgingEvolution ae(SmallOptions());
  ae.Observe(Member(1, 0.001));  // the best, but the oldest
  for (int64_t id = 2; id <= 6; ++id) ae.Observe(Member(id, 0.9));
  for (const Evaluated& e : ae.population()) EXPECT_NE(e.candidate_id, 1);
}

TEST(AgingEvolutionTest, InitialPhaseIsRandomThenWaits) {
  AgingEvolution ae(SmallOptions());
  for (int i = 0; i < 5; ++i) {
    auto p = ae.Propose({.candidate_id = i + 1, .evaluations_done = 0, .in_flight = i});
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(p->has_value());
    EXPECT_FALSE((*p)->parent_id.has_value());
  }
  auto wait = ae.Propose({.candidate_id = 6, .evaluations_done = 2, .in_flight = 3});
  ASSERT_TRUE(wait.ok());
  EXPECT_FALSE(wait->has_value()) << "the original waits for the initial population";
}

TEST(AgingEvolutionTest, EvolvesOnceASampleIsEvaluatedUnlessStrict) {
  // Initial population 5, sample 3: 3 evaluated, 2 still in flight.
  for (bool strict : {false, true}) {
    AgingEvolutionOptions options = SmallOptions();
    options.strict_initial_population = strict;
    AgingEvolution ae(options);
    for (int64_t id = 1; id <= 2; ++id) ae.Observe(Member(id, 0.1));
    auto two = ae.Propose({.candidate_id = 6, .evaluations_done = 2, .in_flight = 3});
    ASSERT_TRUE(two.ok());
    EXPECT_FALSE(two->has_value()) << "fewer members than a tournament sample";
    ae.Observe(Member(3, 0.1));
    auto three = ae.Propose({.candidate_id = 6, .evaluations_done = 3, .in_flight = 2});
    ASSERT_TRUE(three.ok());
    if (strict) {
      EXPECT_FALSE(three->has_value()) << "strict: waits for the whole initial population";
    } else {
      ASSERT_TRUE(three->has_value());
      ASSERT_TRUE((*three)->parent_id.has_value());
      EXPECT_LE(*(*three)->parent_id, 3);
    }
  }
}

TEST(AgingEvolutionTest, ChildrenComeFromThePopulation) {
  AgingEvolution ae(SmallOptions());
  for (int64_t id = 1; id <= 7; ++id) ae.Observe(Member(id, 0.1 + 0.01 * id));
  std::set<int64_t> members;
  for (const Evaluated& e : ae.population()) members.insert(e.candidate_id);
  for (int64_t id = 8; id < 40; ++id) {
    auto p = ae.Propose({.candidate_id = id, .evaluations_done = 7, .in_flight = 0});
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE(p->has_value());
    ASSERT_TRUE((*p)->parent_id.has_value());
    EXPECT_TRUE(members.contains(*(*p)->parent_id));
  }
}

TEST(AgingEvolutionTest, TournamentDrawsWithReplacement) {
  // Two members, tournament of two: without replacement the better one would
  // always win; with replacement the worse wins when drawn twice (p = 1/4).
  AgingEvolutionOptions options = SmallOptions();
  options.sample_size = 2;
  AgingEvolution ae(options);
  ae.Observe(Member(1, 0.01));
  ae.Observe(Member(2, 5.0));  // worse in every objective that counts
  Rng rng(5);
  int worse = 0;
  const int kTrials = 4000;
  for (int i = 0; i < kTrials; ++i) worse += ae.SelectParent(rng).candidate_id == 2;
  EXPECT_NEAR(static_cast<double>(worse) / kTrials, 0.25, 0.03);
}

TEST(AgingEvolutionTest, ChildSparsityStaysInRange) {
  AgingEvolutionOptions options = SmallOptions();
  options.sparsity = SparsityRange{0.2, 0.5};
  AgingEvolution ae(options);
  for (int64_t id = 1; id <= 5; ++id) {
    Evaluated e = Member(id, 0.1);
    e.sparsity = id % 2 ? 0.5 : 0.2;  // at the edges
    ae.Observe(e);
  }
  for (int64_t id = 6; id < 200; ++id) {
    auto p = ae.Propose({.candidate_id = id, .evaluations_done = 5, .in_flight = 0});
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE((*p)->sparsity.has_value());
    EXPECT_GE(*(*p)->sparsity, 0.2);
    EXPECT_LE(*(*p)->sparsity, 0.5);
  }
}

TEST(AgingEvolutionTest, ProposalsDependOnlyOnSeedCandidateAndPopulation) {
  AgingEvolution a(SmallOptions()), b(SmallOptions());
  for (int64_t id = 1; id <= 5; ++id) {
    a.Observe(Member(id, 0.1 * id));
    b.Observe(Member(id, 0.1 * id));
  }
  for (int64_t id = 6; id < 30; ++id) {
    auto pa = a.Propose({.candidate_id = id, .evaluations_done = 5, .in_flight = 0});
    auto pb = b.Propose({.candidate_id = id, .evaluations_done = 5, .in_flight = 0});
    ASSERT_TRUE(pa.ok() && pb.ok());
    EXPECT_EQ((*pa)->architecture.SerializeAsString(), (*pb)->architecture.SerializeAsString());
    EXPECT_EQ((*pa)->parent_id, (*pb)->parent_id);
  }
  EXPECT_NE(CandidateSeed(0, 1), CandidateSeed(0, 2));
  EXPECT_NE(CandidateSeed(0, 1), CandidateSeed(1, 1));
}

}  // namespace
}  // namespace unas::search
