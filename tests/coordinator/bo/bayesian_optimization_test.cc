// Bayesian optimisation behind the SearchAlgorithm interface: proposals
// repeat exactly (also when a fresh instance replays the history), never
// duplicate an evaluated or in-flight network, and both kernels model the
// synthetic error better than its mean.
#include "coordinator/search/bayesian_optimization.h"

#include <cmath>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/job_spec/loader.h"
#include "common/job_spec/validation.h"
#include "common/search_space/fingerprint.h"
#include "common/search_space/morphisms.h"
#include "common/search_space/random_architecture.h"
#include "coordinator/search/bo/surrogate.h"
#include "gtest/gtest.h"
#include "worker/daemon/synthetic_evaluator.h"

namespace unas::search {
namespace {

const DataShape kData{28, 28, 1, 10};

BayesianOptimizationOptions SmallOptions(bo::KernelKind kernel, uint64_t seed = 1) {
  BayesianOptimizationOptions o;
  o.starting_points = 5;
  o.seed = seed;
  o.space = DefaultSearchSpace(SpaceKind::kCnn);
  o.space.cnn.max_conv_blocks = 3;
  o.space.cnn.max_filters = 16;
  o.data = kData;
  o.bounds = {0.3, 20000.0, 20000.0, std::nullopt};
  o.kernel = kernel;
  o.threads = 1;
  return o;
}

double Error(const v1::Architecture& arch) {
  v1::Task task;
  *task.mutable_architecture() = arch;
  *task.mutable_input_shape() = ToTensorShape(kData);
  task.set_num_classes(kData.num_classes);
  absl::StatusOr<double> e = worker::SyntheticError(task);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.value_or(0.5);
}

Evaluated Evaluate(int64_t id, const Proposal& p) {
  Evaluated e;
  e.candidate_id = id;
  e.architecture = p.architecture;
  e.sparsity = p.sparsity;
  e.objectives = {Error(p.architecture), 0, 0, 0};
  return e;
}

// One worker: propose, evaluate, observe; the fingerprints in order. `check`
// sees every proposal.
std::vector<uint64_t> RunSequential(
    BayesianOptimization& bo, int rounds, std::vector<Evaluated>* history = nullptr,
    const std::function<void(int, const Proposal&)>& check = nullptr) {
  std::vector<uint64_t> trace;
  for (int id = 1; id <= rounds; ++id) {
    ProposalContext context;
    context.candidate_id = id;
    context.evaluations_done = id - 1;
    absl::StatusOr<std::optional<Proposal>> p = bo.Propose(context);
    EXPECT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE(p.ok() && p->has_value()) << "candidate " << id;
    if (!p.ok() || !p->has_value()) break;
    if (check) check(id, **p);
    trace.push_back(Fingerprint((*p)->architecture, kData));
    Evaluated e = Evaluate(id, **p);
    bo.Observe(e);
    if (history != nullptr) history->push_back(e);
  }
  return trace;
}

TEST(BayesianOptimizationTest, SeededRunRepeatsAndAReplayProposesTheSame) {
  for (bo::KernelKind kernel : {bo::KernelKind::kOtmann, bo::KernelKind::kWeisfeilerLehman}) {
    BayesianOptimization a(SmallOptions(kernel)), b(SmallOptions(kernel));
    std::vector<Evaluated> history;
    std::vector<uint64_t> first = RunSequential(a, 14, &history);
    ASSERT_EQ(first.size(), 14u);
    EXPECT_EQ(RunSequential(b, 14), first);
    EXPECT_GT(a.last_step().candidates, 0);
    // A coordinator restarted after 10 evaluations replays them, then asks
    // for candidate 11: the same network as the uninterrupted run's.
    BayesianOptimization replay(SmallOptions(kernel));
    for (int i = 0; i < 10; ++i) replay.Observe(history[i]);
    ProposalContext context;
    context.candidate_id = 11;
    context.evaluations_done = 10;
    absl::StatusOr<std::optional<Proposal>> p = replay.Propose(context);
    ASSERT_TRUE(p.ok() && p->has_value());
    EXPECT_EQ(Fingerprint((*p)->architecture, kData), first[10]);
    BayesianOptimization other(SmallOptions(kernel, /*seed=*/2));
    EXPECT_NE(RunSequential(other, 14), first);
  }
}

// A coordinator restarted after 30 evaluations hands the algorithm the
// model records the store kept (distance rows, fitted hyper-parameters)
// before the replay: it uses every one of them instead of computing them,
// and proposes what the uninterrupted run proposes. Records that do not
// match the replayed history (another network at a position, a fit on
// other observations) are not used, and the proposal is still the same.
TEST(BayesianOptimizationTest, StoredModelRecordsReplaceTheReplaysWorkAndChangeNoProposal) {
  constexpr int kSeen = 30;
  for (bo::KernelKind kernel : {bo::KernelKind::kOtmann, bo::KernelKind::kWeisfeilerLehman}) {
    SCOPED_TRACE(kernel == bo::KernelKind::kOtmann ? "otmann" : "wl");
    BayesianOptimization a(SmallOptions(kernel));
    std::vector<Evaluated> history;
    ASSERT_EQ(RunSequential(a, kSeen, &history).size(), static_cast<size_t>(kSeen));
    std::vector<ModelRecord> records = a.TakeModelRecords();
    EXPECT_TRUE(a.TakeModelRecords().empty()) << "taken once";
    ProposalContext context;
    context.candidate_id = kSeen + 1;
    context.evaluations_done = kSeen;
    absl::StatusOr<std::optional<Proposal>> next = a.Propose(context);
    ASSERT_TRUE(next.ok() && next->has_value());
    const uint64_t expected = Fingerprint((*next)->architecture, kData);

    auto restart = [&](std::vector<ModelRecord> stored, int rows, bool hyper) {
      BayesianOptimization b(SmallOptions(kernel));
      b.RestoreModelRecords(std::move(stored));
      for (const Evaluated& e : history) b.Observe(e);
      absl::StatusOr<std::optional<Proposal>> p = b.Propose(context);
      ASSERT_TRUE(p.ok() && p->has_value());
      EXPECT_EQ(Fingerprint((*p)->architecture, kData), expected);
      EXPECT_EQ(b.restored_rows_used(), rows);
      EXPECT_EQ(b.restored_hyper_used(), hyper);
      // What it computed itself is recorded again (rows kSeen.. onwards).
      int new_rows = 0;
      for (const ModelRecord& r : b.TakeModelRecords()) {
        new_rows += r.kind == BayesianOptimization::kModelRow ? 1 : 0;
      }
      EXPECT_EQ(new_rows, kSeen - rows);
    };
    int hypers = 0;
    for (const ModelRecord& r : records) hypers += r.kind == BayesianOptimization::kModelHyper;
    ASSERT_GT(hypers, 0) << "the run fitted hyper-parameters";
    restart(records, kSeen, /*hyper=*/true);
    restart({}, 0, /*hyper=*/false);

    // Another network's row at position 10: rows from there on are computed.
    std::vector<ModelRecord> stale = records;
    for (ModelRecord& r : stale) {
      if (r.kind == BayesianOptimization::kModelRow && r.position == 10) r.bytes[3] ^= 0x5a;
      // Hyper-parameters fitted on other observations (another checksum).
      if (r.kind == BayesianOptimization::kModelHyper) r.bytes[0] ^= 0x5a;
    }
    restart(stale, 10, /*hyper=*/false);
  }
}

TEST(BayesianOptimizationTest, NeverProposesAnEvaluatedOrInFlightNetwork) {
  for (bool caller_lists_pending : {false, true}) {
    BayesianOptimizationOptions options = SmallOptions(bo::KernelKind::kWeisfeilerLehman, 4);
    options.space.cnn.max_conv_blocks = 1;  // a small space makes collisions likely
    options.space.cnn.max_filters = 4;
    options.space.cnn.max_dense_blocks = 1;
    options.space.cnn.max_dense_units = 12;
    BayesianOptimization bo(options);
    std::deque<std::pair<int64_t, Proposal>> in_flight;
    std::set<uint64_t> seen;
    int done = 0, waits = 0;
    for (int64_t id = 1; id <= 40;) {
      ProposalContext context;
      context.candidate_id = id;
      context.evaluations_done = done;
      context.in_flight = static_cast<int>(in_flight.size());
      std::vector<PendingCandidate> pending;
      for (auto& [pid, p] : in_flight) pending.push_back({pid, &p.architecture, p.sparsity});
      std::optional<Proposal> p;
      if (in_flight.size() < 3) {
        absl::StatusOr<std::optional<Proposal>> r =
            caller_lists_pending ? bo.ProposeWithPending(context, pending) : bo.Propose(context);
        ASSERT_TRUE(r.ok()) << r.status();
        p = *r;
      }
      if (p) {
        EXPECT_TRUE(seen.insert(Fingerprint(p->architecture, kData)).second)
            << "candidate " << id << " duplicates an earlier one";
        in_flight.emplace_back(id++, *std::move(p));
        continue;
      }
      // Three in flight, or waiting at the end of the starting points: the
      // oldest evaluation completes.
      ASSERT_FALSE(in_flight.empty());
      ++waits;
      bo.Observe(Evaluate(in_flight.front().first, in_flight.front().second));
      in_flight.pop_front();
      ++done;
    }
    EXPECT_GT(waits, 10);
  }
}

TEST(BayesianOptimizationTest, PruningJobsProposeSparsitiesInRange) {
  BayesianOptimizationOptions options = SmallOptions(bo::KernelKind::kOtmann, 5);
  options.sparsity = SparsityRange{0.1, 0.6};
  options.acquisition_evaluations = 120;
  options.acquisition_population = 40;
  BayesianOptimization bo(options);
  std::vector<uint64_t> trace = RunSequential(bo, 9, nullptr, [](int, const Proposal& p) {
    EXPECT_TRUE(p.sparsity.has_value());
    EXPECT_GE(p.sparsity.value_or(-1), 0.1);
    EXPECT_LE(p.sparsity.value_or(1), 0.6);
  });
  EXPECT_EQ(trace.size(), 9u);
  EXPECT_GT(bo.last_step().hyper.sparsity_length, 0.0);
}

TEST(BayesianOptimizationTest, SkipFactorRejectsCandidatesOverEveryBoundBeforeTheGp) {
  BayesianOptimizationOptions options = SmallOptions(bo::KernelKind::kOtmann, 6);
  options.bounds = {0.3, 3000.0, 3000.0, std::nullopt};
  options.skip_infeasible_factor = 1.5;
  BayesianOptimization bo(options);
  std::vector<uint64_t> trace = RunSequential(bo, 8, nullptr, [](int id, const Proposal& p) {
    absl::StatusOr<bo::ArchAnalysis> a = bo::AnalyseArchitecture(p.architecture, kData);
    ASSERT_TRUE(a.ok());
    bool over_every = a->resources.peak_memory_bytes > 4500 && a->resources.model_size_bytes > 4500;
    EXPECT_FALSE(over_every) << "candidate " << id;
  });
  EXPECT_EQ(trace.size(), 8u);
}

TEST(BayesianOptimizationTest, LocalOptimiserProposesAMorphOfAnEvaluatedNetwork) {
  BayesianOptimizationOptions options = SmallOptions(bo::KernelKind::kOtmann, 8);
  options.local_optimizer = true;
  BayesianOptimization bo(options);
  std::vector<Evaluated> history;
  std::vector<uint64_t> trace = RunSequential(bo, 9, &history);
  ASSERT_EQ(trace.size(), 9u);
  // After the five starting points a proposal names its parent, an
  // evaluated network.
  ProposalContext context;
  context.candidate_id = 10;
  context.evaluations_done = 9;
  absl::StatusOr<std::optional<Proposal>> p = bo.Propose(context);
  ASSERT_TRUE(p.ok() && p->has_value()) << p.status();
  ASSERT_TRUE((*p)->parent_id.has_value());
  const Evaluated& parent = history[static_cast<size_t>(*(*p)->parent_id - 1)];
  Rng rng(1);
  absl::StatusOr<std::vector<Neighbour>> morphs =
      Neighbours(parent.architecture, options.space, rng);
  ASSERT_TRUE(morphs.ok());
  // The candidates were that network's morphs (as many as it has, less any
  // that cannot be built for the data); fresh layers are random, so the
  // proposal itself is only known to differ from its parent.
  EXPECT_NE(Fingerprint((*p)->architecture, kData), Fingerprint(parent.architecture, kData));
  EXPECT_GT(bo.last_step().candidates, 0);
  EXPECT_LE(bo.last_step().candidates, static_cast<int>(morphs->size()));
}

TEST(BayesianOptimizationTest, KernelFieldIsValidated) {
  absl::StatusOr<v1::JobSpec> spec =
      LoadJobSpecFile(std::string(UNAS_SOURCE_DIR) + "/configs/cnn_mnist_bo.textproto");
  ASSERT_TRUE(spec.ok()) << spec.status();
  spec->mutable_algorithm()->mutable_bayesian_optimization()->set_kernel(v1::BO_KERNEL_WL);
  EXPECT_TRUE(ValidateJobSpec(*spec).ok());
  absl::StatusOr<std::unique_ptr<SearchAlgorithm>> wl = MakeSearchAlgorithm(*spec);
  ASSERT_TRUE(wl.ok()) << wl.status();
  spec->mutable_algorithm()->mutable_bayesian_optimization()->set_kernel(
      static_cast<v1::BoKernel>(9));
  absl::Status bad = ValidateJobSpec(*spec);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("algorithm.bayesian_optimization.kernel"), std::string::npos) << bad;
}

// Held-out prediction of the synthetic error from 80 random networks.
struct Fit {
  double correlation = 0;
  double mse = 0;
  double mse_of_mean = 0;
};

// `count` random small networks (their synthetic error varies with their
// size) as GP points, and their errors.
void RandomSmallPoints(uint64_t seed, int count, std::vector<bo::GpPoint>& points,
                       std::vector<double>& errors) {
  Rng rng(seed);
  SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  space.cnn.max_conv_blocks = 3;
  space.cnn.max_filters = 16;
  space.cnn.max_dense_units = 32;
  while (static_cast<int>(points.size()) < count) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, kData, rng);
    ASSERT_TRUE(arch.ok());
    auto entry = bo::MakeArchEntry(*arch, kData, Fingerprint(*arch, kData));
    ASSERT_TRUE(entry.ok());
    points.push_back({*entry, std::nullopt});
    errors.push_back(Error(*arch));
  }
}

Fit HeldOut(bo::KernelKind kernel) {
  std::vector<bo::GpPoint> points;
  std::vector<double> errors;
  RandomSmallPoints(21, 140, points, errors);
  bo::SurrogateOptions options;
  options.kind = kernel;
  bo::Surrogate s(options);
  for (int i = 0; i < 80; ++i) s.Add(points[i], errors[i]);
  absl::StatusOr<bo::HyperParameters> h = s.Fit(80);
  EXPECT_TRUE(h.ok());
  auto model = s.BuildModel(*h, {});
  EXPECT_TRUE(model.ok());
  std::vector<double> predicted, truth;
  for (int i = 80; i < 140; ++i) {
    predicted.push_back((*model)->Posterior(points[i]).first);
    truth.push_back(errors[i]);
  }
  Fit fit;
  double mp = 0, mt = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    mp += predicted[i] / truth.size();
    mt += truth[i] / truth.size();
  }
  double train_mean = h->mean;
  double cov = 0, vp = 0, vt = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    cov += (predicted[i] - mp) * (truth[i] - mt);
    vp += (predicted[i] - mp) * (predicted[i] - mp);
    vt += (truth[i] - mt) * (truth[i] - mt);
    fit.mse += (predicted[i] - truth[i]) * (predicted[i] - truth[i]) / truth.size();
    fit.mse_of_mean += (train_mean - truth[i]) * (train_mean - truth[i]) / truth.size();
  }
  fit.correlation = cov / std::sqrt(vp * vt);
  return fit;
}

TEST(SurrogateTest, APendingPointKeepsTheMeanAndLosesItsUncertainty) {
  std::vector<bo::GpPoint> points;
  std::vector<double> errors;
  RandomSmallPoints(13, 31, points, errors);
  ASSERT_EQ(points.size(), 31u);
  for (bo::KernelKind kind : {bo::KernelKind::kOtmann, bo::KernelKind::kWeisfeilerLehman}) {
    bo::SurrogateOptions options;
    options.kind = kind;
    bo::Surrogate s(options);
    for (int i = 0; i < 30; ++i) s.Add(points[i], errors[i]);
    absl::StatusOr<bo::HyperParameters> h = s.Fit(30);
    ASSERT_TRUE(h.ok());
    auto alone = s.BuildModel(*h, {});
    auto hallucinated = s.BuildModel(*h, {points[30]});
    ASSERT_TRUE(alone.ok() && hallucinated.ok());
    auto [mean, var] = (*alone)->Posterior(points[30]);
    auto [mean_h, var_h] = (*hallucinated)->Posterior(points[30]);
    EXPECT_NEAR(mean_h, mean, 1e-6 + 1e-3 * std::abs(mean));
    EXPECT_LT(var_h, var);
    EXPECT_LE(var_h, h->noise * 1.01);  // as if observed once, with noise
  }
}

TEST(BayesianOptimizationTest, BothKernelsPredictTheSyntheticErrorBetterThanItsMean) {
  Fit otmann = HeldOut(bo::KernelKind::kOtmann);
  Fit wl = HeldOut(bo::KernelKind::kWeisfeilerLehman);
  RecordProperty("otmann_correlation", std::to_string(otmann.correlation));
  RecordProperty("wl_correlation", std::to_string(wl.correlation));
  std::cout << "held-out correlation: OTMANN " << otmann.correlation << " (MSE " << otmann.mse
            << "), WL " << wl.correlation << " (MSE " << wl.mse << "); mean-only MSE "
            << otmann.mse_of_mean << "\n";
  EXPECT_GT(otmann.correlation, 0.5);
  EXPECT_GT(wl.correlation, 0.5);
  EXPECT_LT(otmann.mse, otmann.mse_of_mean);
  EXPECT_LT(wl.mse, wl.mse_of_mean);
}

TEST(BayesianOptimizationTest, EveryShippedBoConfigMakesTheAlgorithm) {
  int bo_configs = 0;
  for (const std::string name :
       {"cnn_chars74k_bo", "cnn_chars74k_bo_struct_pru", "cnn_fashion_bo", "cnn_mnist_binary",
        "cnn_mnist_bo", "cnn_mnist_bo_struct_pru", "cnn_vww", "mlp_fashion"}) {
    absl::StatusOr<v1::JobSpec> spec =
        LoadJobSpecFile(std::string(UNAS_SOURCE_DIR) + "/configs/" + name + ".textproto");
    ASSERT_TRUE(spec.ok()) << name << ": " << spec.status();
    ASSERT_TRUE(spec->algorithm().has_bayesian_optimization()) << name;
    EXPECT_EQ(spec->algorithm().bayesian_optimization().kernel(), v1::BO_KERNEL_OTMANN);
    absl::StatusOr<std::unique_ptr<SearchAlgorithm>> algorithm = MakeSearchAlgorithm(*spec);
    ASSERT_TRUE(algorithm.ok()) << name << ": " << algorithm.status();
    EXPECT_EQ((*algorithm)->name(), "bayesian_optimization");
    ++bo_configs;
  }
  EXPECT_EQ(bo_configs, 8);
}

}  // namespace
}  // namespace unas::search
