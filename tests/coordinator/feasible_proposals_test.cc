// Proposals within the resource bounds (coordinator/search/feasible_proposals.h):
// the violation agrees with the coordinator's full resource report, random
// starts meet the demo's bounds far more often than plain ones, the first
// feasible draw is taken, impossible bounds fall back to the least-violating
// draw after exactly `draws` draws, morphisms are redrawn at most
// `morphism_redraws` times, switched off every algorithm proposes exactly the
// plain (μNAS) sequence, and seeded proposals repeat, also after a replay.
#include "coordinator/search/feasible_proposals.h"

#include <limits>
#include <string>
#include <vector>

#include "common/job_spec/loader.h"
#include "common/search_space/fingerprint.h"
#include "common/search_space/random_architecture.h"
#include "common/search_space/resource_graph.h"
#include "coordinator/search/aging_evolution.h"
#include "coordinator/search/algorithm.h"
#include "coordinator/search/bayesian_optimization.h"
#include "coordinator/search/random_search.h"
#include "gtest/gtest.h"

namespace unas::search {
namespace {

const DataShape kData{28, 28, 1, 10};
// The quick demo's bounds (configs/fashion_mnist_quick.textproto).
const BoundVector kDemoBounds = {0.25, 16000.0, 16000.0, 2e6};
// No network of the space meets these.
const BoundVector kImpossibleBounds = {std::nullopt, 10.0, 10.0, 100.0};

FeasibleProposalOptions On(int draws = 200, double max_bound_excess = 1.0,
                           int morphism_redraws = 20) {
  FeasibleProposalOptions o;
  o.enabled = true;
  o.draws = draws;
  o.max_bound_excess = max_bound_excess;
  o.morphism_redraws = morphism_redraws;
  return o;
}

// The violation from the coordinator's full resource report, computed
// independently of BoundChecker.
double ReportViolation(const v1::Architecture& arch, const BoundVector& bounds) {
  rm::ResourceOptions options;
  options.pmu.on_search_limit = rm::SearchLimitPolicy::kUpperBound;
  absl::StatusOr<rm::ResourceReport> r = ComputeArchitectureResources(arch, kData, {}, options);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return std::numeric_limits<double>::quiet_NaN();
  return BoundViolation({0.0, static_cast<double>(r->pmu_bytes),
                         static_cast<double>(r->model_size_unas), static_cast<double>(r->macs)},
                        bounds);
}

std::string Bytes(const v1::Architecture& arch) { return arch.SerializeAsString(); }

TEST(BoundViolationTest, LargestRatioOverTheBoundedResources) {
  const BoundVector bounds = {0.1, 1000.0, std::nullopt, 4000.0};
  EXPECT_DOUBLE_EQ(BoundViolation({0.9, 500, 1e12, 1000}, bounds), 0.5) << "error and size ignored";
  EXPECT_DOUBLE_EQ(BoundViolation({0.0, 500, 0, 8000}, bounds), 2.0);
  EXPECT_DOUBLE_EQ(BoundViolation({0.0, 1000, 0, 4000}, bounds), 1.0) << "on the bound is within";
  EXPECT_DOUBLE_EQ(
      BoundViolation({0.5, 1e9, 1e9, 1e9}, {0.1, std::nullopt, std::nullopt, std::nullopt}), 0.0);
}

TEST(BoundCheckerTest, AgreesWithTheFullResourceReportAndSkipsOnlyHopelessPmus) {
  const BoundChecker checker(kData, kDemoBounds);
  ASSERT_TRUE(checker.active());
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  Rng rng(7);
  int lower_bounds = 0;
  for (int i = 0; i < 60; ++i) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, kData, rng);
    ASSERT_TRUE(arch.ok()) << arch.status();
    const double exact = ReportViolation(*arch, kDemoBounds);
    absl::StatusOr<double> v = checker.Violation(*arch);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_DOUBLE_EQ(*v, exact) << i;
    // Asked only below a threshold: exact, or a lower bound at the threshold or above.
    const double threshold = exact / 2;
    absl::StatusOr<double> lazy = checker.Violation(*arch, threshold);
    ASSERT_TRUE(lazy.ok());
    if (*lazy != exact) {
      ++lower_bounds;
      EXPECT_GE(*lazy, threshold) << i;
      EXPECT_LE(*lazy, exact) << i;
    }
  }
  EXPECT_GT(lower_bounds, 0) << "size or MACs alone settle some networks without the PMU";
}

TEST(BoundCheckerTest, InactiveWithoutResourceBounds) {
  const BoundChecker checker(kData, {0.2, std::nullopt, std::nullopt, std::nullopt});
  EXPECT_FALSE(checker.active());
  Rng rng(1);
  absl::StatusOr<DrawnArchitecture> drawn =
      DrawRandomArchitecture(DefaultSearchSpace(SpaceKind::kCnn), kData, checker, On(), rng);
  ASSERT_TRUE(drawn.ok());
  EXPECT_EQ(drawn->draws, 1) << "without resource bounds every network is within them";
}

TEST(FeasibleDrawTest, RandomStartsMeetTheDemoBoundsFarMoreOftenThanPlainOnes) {
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  const BoundChecker checker(kData, kDemoBounds);
  FeasibleProposalOptions off = On();
  off.enabled = false;
  constexpr int kStarts = 40;
  int plain = 0, bounded = 0, fallbacks = 0;
  for (int id = 0; id < kStarts; ++id) {
    for (bool enabled : {false, true}) {
      Rng rng(CandidateSeed(3, id));
      absl::StatusOr<DrawnArchitecture> drawn =
          DrawRandomArchitecture(space, kData, checker, enabled ? On() : off, rng);
      ASSERT_TRUE(drawn.ok()) << drawn.status();
      const double violation = ReportViolation(drawn->architecture, kDemoBounds);
      if (enabled) {
        EXPECT_DOUBLE_EQ(drawn->violation, violation);
        EXPECT_LE(drawn->draws, 200);
        bounded += violation <= 1.0;
        fallbacks += drawn->draws == 200 && violation > 1.0;
      } else {
        EXPECT_EQ(drawn->draws, 1);
        plain += violation <= 1.0;
      }
    }
  }
  EXPECT_EQ(bounded, kStarts) << fallbacks << " fell back";
  EXPECT_LT(plain, kStarts / 2) << "the default space is mostly outside the demo's bounds";
}

// The plain draws a candidate's Rng gives, and their violations.
struct PlainSequence {
  std::vector<v1::Architecture> architectures;
  std::vector<double> violations;
};

PlainSequence PlainStarts(const SearchSpace& space, const BoundVector& bounds, uint64_t seed,
                          int n) {
  PlainSequence s;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, kData, rng);
    EXPECT_TRUE(arch.ok());
    s.violations.push_back(ReportViolation(*arch, bounds));
    s.architectures.push_back(*std::move(arch));
  }
  return s;
}

TEST(FeasibleDrawTest, TheFirstDrawWithinTheBoundsIsProposed) {
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  const BoundChecker checker(kData, kDemoBounds);
  int later = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    const PlainSequence plain = PlainStarts(space, kDemoBounds, seed, 200);
    size_t first = 0;
    while (first < plain.violations.size() && plain.violations[first] > 1.0) ++first;
    ASSERT_LT(first, plain.violations.size()) << "seed " << seed;
    Rng rng(seed);
    absl::StatusOr<DrawnArchitecture> drawn =
        DrawRandomArchitecture(space, kData, checker, On(), rng);
    ASSERT_TRUE(drawn.ok());
    EXPECT_EQ(drawn->draws, static_cast<int>(first) + 1) << "seed " << seed;
    EXPECT_EQ(Bytes(drawn->architecture), Bytes(plain.architectures[first])) << "seed " << seed;
    later += first > 0;
  }
  EXPECT_GT(later, 0) << "some first draws are outside the bounds";
}

TEST(FeasibleDrawTest, ImpossibleBoundsFallBackToTheLeastViolatingOfExactlyDrawsDraws) {
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  const BoundChecker checker(kData, kImpossibleBounds);
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    constexpr int kDraws = 25;
    const PlainSequence plain = PlainStarts(space, kImpossibleBounds, seed, kDraws);
    size_t least = 0;  // the first of the least violating
    for (size_t i = 1; i < plain.violations.size(); ++i) {
      if (plain.violations[i] < plain.violations[least]) least = i;
    }
    Rng rng(seed);
    absl::StatusOr<DrawnArchitecture> drawn =
        DrawRandomArchitecture(space, kData, checker, On(kDraws), rng);
    ASSERT_TRUE(drawn.ok());
    EXPECT_EQ(drawn->draws, kDraws);
    EXPECT_DOUBLE_EQ(drawn->violation, plain.violations[least]);
    EXPECT_EQ(Bytes(drawn->architecture), Bytes(plain.architectures[least])) << "seed " << seed;
  }
}

TEST(FeasibleDrawTest, MorphismsAreRedrawnAtMostMorphismRedrawsTimes) {
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  Rng parent_rng(5);
  absl::StatusOr<v1::Architecture> parent = RandomArchitecture(space, kData, parent_rng);
  ASSERT_TRUE(parent.ok());
  for (const BoundVector& bounds : {kImpossibleBounds, kDemoBounds}) {
    const BoundChecker checker(kData, bounds);
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      constexpr int kRedraws = 7;
      // The plain children the same Rng gives, one RandomNeighbour after another.
      std::vector<Neighbour> plain;
      std::vector<double> violations;
      Rng replay(seed);
      for (int i = 0; i <= kRedraws; ++i) {
        absl::StatusOr<Neighbour> child = RandomNeighbour(*parent, space, kData, replay);
        ASSERT_TRUE(child.ok());
        violations.push_back(ReportViolation(child->architecture, bounds));
        plain.push_back(*std::move(child));
      }
      const double excess = 1.5;
      size_t expected = 0;  // the first within the excess, else the first least violating
      while (expected < violations.size() && violations[expected] > excess) ++expected;
      int expected_draws = static_cast<int>(expected) + 1;
      if (expected == violations.size()) {
        expected = 0;
        for (size_t i = 1; i < violations.size(); ++i) {
          if (violations[i] < violations[expected]) expected = i;
        }
        expected_draws = kRedraws + 1;
      }
      Rng rng(seed);
      absl::StatusOr<DrawnNeighbour> drawn =
          DrawNeighbour(*parent, space, kData, checker, On(200, excess, kRedraws), rng);
      ASSERT_TRUE(drawn.ok());
      EXPECT_EQ(drawn->draws, expected_draws) << "seed " << seed;
      EXPECT_LE(drawn->draws, kRedraws + 1);
      EXPECT_EQ(Bytes(drawn->neighbour.architecture), Bytes(plain[expected].architecture));
      EXPECT_EQ(drawn->neighbour.change, plain[expected].change);
      EXPECT_DOUBLE_EQ(drawn->violation, violations[expected]);
    }
  }
}

AgingEvolutionOptions DemoEvolution(bool feasible) {
  AgingEvolutionOptions options;
  options.population_size = 6;
  options.sample_size = 3;
  options.initial_population_size = 6;
  options.seed = 21;
  options.space = DefaultSearchSpace(SpaceKind::kCnn);
  options.data = kData;
  options.bounds = kDemoBounds;
  options.feasible = On();
  options.feasible.enabled = feasible;
  return options;
}

// A result for a proposal: its exact resources and an error that is a fixed
// function of the network.
Evaluated Evaluate(int64_t id, const Proposal& p) {
  rm::ResourceOptions options;
  options.pmu.on_search_limit = rm::SearchLimitPolicy::kUpperBound;
  absl::StatusOr<rm::ResourceReport> r =
      ComputeArchitectureResources(p.architecture, kData, {}, options);
  EXPECT_TRUE(r.ok());
  Evaluated e;
  e.candidate_id = id;
  e.architecture = p.architecture;
  e.sparsity = p.sparsity;
  e.objectives = {0.1 + static_cast<double>(Fingerprint(p.architecture, kData) % 100) / 1000,
                  static_cast<double>(r->pmu_bytes), static_cast<double>(r->model_size_unas),
                  static_cast<double>(r->macs)};
  return e;
}

// One worker: propose, evaluate, observe; the proposals in order.
std::vector<Proposal> RunSequential(SearchAlgorithm& algorithm, int first_id, int last_id) {
  std::vector<Proposal> trace;
  for (int id = first_id; id <= last_id; ++id) {
    absl::StatusOr<std::optional<Proposal>> p =
        algorithm.Propose({.candidate_id = id, .evaluations_done = id - 1, .in_flight = 0});
    EXPECT_TRUE(p.ok() && p->has_value()) << "candidate " << id;
    if (!p.ok() || !p->has_value()) break;
    algorithm.Observe(Evaluate(id, **p));
    trace.push_back(**p);
  }
  return trace;
}

TEST(FeasibleAlgorithmTest, SwitchedOffEveryAlgorithmProposesThePlainSequence) {
  // Aging evolution: the initial population is RandomArchitecture of the
  // candidate's Rng, each child RandomNeighbour of the tournament's winner.
  AgingEvolution ae(DemoEvolution(false));
  AgingEvolution shadow(DemoEvolution(false));  // the same population, for SelectParent
  for (int id = 1; id <= 16; ++id) {
    absl::StatusOr<std::optional<Proposal>> p =
        ae.Propose({.candidate_id = id, .evaluations_done = id - 1, .in_flight = 0});
    ASSERT_TRUE(p.ok() && p->has_value());
    Rng rng(CandidateSeed(21, id));
    v1::Architecture expected;
    if (id <= 6) {
      expected = *RandomArchitecture(DefaultSearchSpace(SpaceKind::kCnn), kData, rng);
    } else {
      const Evaluated& parent = shadow.SelectParent(rng);
      EXPECT_EQ((*p)->parent_id, parent.candidate_id);
      expected =
          RandomNeighbour(parent.architecture, DefaultSearchSpace(SpaceKind::kCnn), kData, rng)
              ->architecture;
    }
    EXPECT_EQ(Bytes((*p)->architecture), Bytes(expected)) << "candidate " << id;
    Evaluated e = Evaluate(id, **p);
    ae.Observe(e);
    shadow.Observe(e);
  }

  // Random search and BO's starting points: the candidate Rng's first draw.
  RandomSearchOptions rs;
  rs.seed = 4;
  rs.space = DefaultSearchSpace(SpaceKind::kCnn);
  rs.data = kData;
  rs.bounds = kDemoBounds;
  RandomSearch random(rs);
  BayesianOptimizationOptions bo_options;
  bo_options.starting_points = 5;
  bo_options.seed = 4;
  bo_options.space = DefaultSearchSpace(SpaceKind::kCnn);
  bo_options.data = kData;
  bo_options.bounds = kDemoBounds;
  bo_options.threads = 1;
  BayesianOptimization bo(bo_options);
  for (int id = 1; id <= 5; ++id) {
    Rng rng(CandidateSeed(4, id));
    const std::string expected =
        Bytes(*RandomArchitecture(DefaultSearchSpace(SpaceKind::kCnn), kData, rng));
    const ProposalContext context{.candidate_id = id, .evaluations_done = id - 1, .in_flight = 0};
    absl::StatusOr<std::optional<Proposal>> r = random.Propose(context);
    absl::StatusOr<std::optional<Proposal>> b = bo.Propose(context);
    ASSERT_TRUE(r.ok() && r->has_value() && b.ok() && b->has_value());
    EXPECT_EQ(Bytes((*r)->architecture), expected) << "candidate " << id;
    EXPECT_EQ(Bytes((*b)->architecture), expected) << "candidate " << id;
    bo.Observe(Evaluate(id, **b));
  }
}

TEST(FeasibleAlgorithmTest, SeededProposalsRepeatAndAReplayProposesTheSame) {
  AgingEvolution first(DemoEvolution(true)), second(DemoEvolution(true));
  const std::vector<Proposal> a = RunSequential(first, 1, 20);
  const std::vector<Proposal> b = RunSequential(second, 1, 20);
  ASSERT_EQ(a.size(), 20u);
  ASSERT_EQ(b.size(), 20u);
  int within = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(Bytes(a[i].architecture), Bytes(b[i].architecture)) << i;
    EXPECT_EQ(a[i].parent_id, b[i].parent_id) << i;
    within += ReportViolation(a[i].architecture, kDemoBounds) <= 1.0;
  }
  EXPECT_EQ(within, 20) << "starts and children of feasible parents stay within the bounds";

  // A fresh instance that replays the first 12 evaluations (a restarted
  // coordinator) proposes candidates 13..20 as the uninterrupted one did.
  AgingEvolution replayed(DemoEvolution(true));
  for (int id = 1; id <= 12; ++id) replayed.Observe(Evaluate(id, a[static_cast<size_t>(id - 1)]));
  const std::vector<Proposal> rest = RunSequential(replayed, 13, 20);
  ASSERT_EQ(rest.size(), 8u);
  for (size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(Bytes(rest[i].architecture), Bytes(a[i + 12].architecture)) << i + 13;
  }

  // And the switch changes the sequence: the plain run leaves the bounds.
  AgingEvolution plain(DemoEvolution(false));
  const std::vector<Proposal> c = RunSequential(plain, 1, 20);
  int plain_within = 0;
  for (const Proposal& p : c) plain_within += ReportViolation(p.architecture, kDemoBounds) <= 1.0;
  EXPECT_LT(plain_within, within);
}

TEST(FeasibleAlgorithmTest, BoStartingPointsAndRandomSearchStayWithinTheBounds) {
  RandomSearchOptions rs;
  rs.seed = 9;
  rs.space = DefaultSearchSpace(SpaceKind::kCnn);
  rs.data = kData;
  rs.bounds = kDemoBounds;
  rs.feasible = On();
  RandomSearch random(rs);
  BayesianOptimizationOptions bo_options;
  bo_options.starting_points = 8;
  bo_options.seed = 9;
  bo_options.space = DefaultSearchSpace(SpaceKind::kCnn);
  bo_options.data = kData;
  bo_options.bounds = kDemoBounds;
  bo_options.threads = 1;
  bo_options.feasible = On();
  BayesianOptimization bo(bo_options);
  for (const std::vector<Proposal>& trace :
       {RunSequential(random, 1, 8), RunSequential(bo, 1, 8)}) {
    ASSERT_EQ(trace.size(), 8u);
    for (const Proposal& p : trace) EXPECT_LE(ReportViolation(p.architecture, kDemoBounds), 1.0);
  }
}

TEST(FeasibleAlgorithmTest, TheSpecSwitchesItAndStoredSpecsWithoutItStayPlain) {
  absl::StatusOr<v1::JobSpec> spec =
      LoadJobSpecFile(std::string(UNAS_SOURCE_DIR) + "/configs/fashion_mnist_quick.textproto");
  ASSERT_TRUE(spec.ok()) << spec.status();
  FeasibleProposalOptions o = MakeFeasibleProposalOptions(*spec);
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.draws, 200);
  EXPECT_DOUBLE_EQ(o.max_bound_excess, 1.0);
  EXPECT_EQ(o.morphism_redraws, 20);
  spec->mutable_algorithm()->mutable_feasible_proposals()->set_enabled(false);
  EXPECT_FALSE(MakeFeasibleProposalOptions(*spec).enabled);
  // A job stored before the field existed keeps the draws it was started with.
  spec->mutable_algorithm()->clear_feasible_proposals();
  EXPECT_FALSE(MakeFeasibleProposalOptions(*spec).enabled);
}

}  // namespace
}  // namespace unas::search
