// Bayesian optimisation as μNAS runs it (docs/search.md): a GP models the validation error only
// (OTMANN or WL kernel); each step draws λ ~ U(0,1)^4 and scores candidates by the aging
// evolution's randomised scalarisation of a Thompson sample of the error and
// the exact resources, maximised by a small aging evolution over morphs.
//
// Every random draw of a proposal comes from the Rng of (job seed, candidate
// id), and the hyper-parameters are a function of the first m observations
// (m a multiple of the refit period), so a replay of the same history
// proposes the same candidates. Not thread-safe: Propose and Observe of one
// instance must not overlap.
#ifndef UNAS_COORDINATOR_SEARCH_BAYESIAN_OPTIMIZATION_H_
#define UNAS_COORDINATOR_SEARCH_BAYESIAN_OPTIMIZATION_H_

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/search_space/rng.h"
#include "common/search_space/sparsity.h"
#include "coordinator/search/algorithm.h"
#include "coordinator/search/bo/surrogate.h"
#include "coordinator/search/feasible_proposals.h"

namespace unas::search {

struct BayesianOptimizationOptions {
  int starting_points = 15;
  uint64_t seed = 0;
  SearchSpace space;
  DataShape data;
  BoundVector bounds;
  std::optional<SparsityRange> sparsity;  // set for pruning jobs
  bo::KernelKind kernel = bo::KernelKind::kOtmann;
  bool local_optimizer = false;  // all morphs of one observation instead of the aging GA
  // Candidates whose dense resources exceed every bound by this factor are
  // never proposed (0: off), as the coordinator would skip them.
  double skip_infeasible_factor = 0.0;
  // Random starting points within the resource bounds (off: μNAS). Only
  // enabled and draws apply: BO's own steps already weigh the resources.
  FeasibleProposalOptions feasible;
  // The acquisition's aging evolution: evaluations per step, random
  // initial population (also the pool size) and tournament size.
  int acquisition_evaluations = 300;
  int acquisition_population = 100;
  int acquisition_sample = 25;
  int refit_period = 17;  // hyper-parameters refitted every this many observations
  int max_fit_observations = 200;
  int threads = 0;  // distance computations; 0 = up to 2
};

// What the last step did, for status and benchmarks.
struct BoStepReport {
  int observations = 0;
  int pending = 0;
  int candidates = 0;      // acquisition candidates created
  int gp_evaluations = 0;  // of those, posteriors computed (the others were bounded out)
  bool refitted = false;
  bool gram_projected = false;
  double projection_removed = 0;  // relative norm of the clipped eigenvalues
  double fit_seconds = 0;
  double model_seconds = 0;
  double acquisition_seconds = 0;
  bo::HyperParameters hyper;
};

class BayesianOptimization : public SearchAlgorithm {
 public:
  explicit BayesianOptimization(BayesianOptimizationOptions options);

  // Without the in-flight list, the pending candidates are the newest
  // context.in_flight of this instance's own unobserved proposals.
  absl::StatusOr<std::optional<Proposal>> Propose(const ProposalContext& context) override;
  absl::StatusOr<std::optional<Proposal>> ProposeWithPending(
      const ProposalContext& context, std::span<const PendingCandidate> pending) override;
  void Observe(const Evaluated& evaluated) override;
  std::string name() const override { return "bayesian_optimization"; }

  std::optional<v1::BayesianOptimizationStatus> ModelStatus() const override;

  // Model records (algorithm.h): kModelRow at position i is observation i's
  // distance row (bo::Surrogate::EncodeRow), kModelHyper at position 0 the
  // last fitted hyper-parameters with a checksum of the observations they
  // were fitted on. Both are reused after a restart only where they equal
  // what this instance would compute, so restored and replayed runs propose
  // the same.
  static constexpr int kModelRow = 1;
  static constexpr int kModelHyper = 2;
  std::vector<ModelRecord> TakeModelRecords() override;
  void RestoreModelRecords(std::vector<ModelRecord> records) override;
  int restored_rows_used() const { return surrogate_.restored_rows_used(); }
  bool restored_hyper_used() const { return restored_hyper_used_; }

  const BoStepReport& last_step() const { return last_step_; }
  int observations() const { return surrogate_.size(); }

 private:
  struct Candidate;
  struct Own {
    v1::Architecture architecture;
    std::optional<double> sparsity;
  };

  absl::StatusOr<std::optional<Proposal>> ProposeImpl(
      const ProposalContext& context, const std::span<const PendingCandidate>* pending);
  absl::StatusOr<std::shared_ptr<const bo::ArchEntry>> Entry(const v1::Architecture& arch);
  absl::StatusOr<Proposal> RandomProposal(Rng& rng, const absl::flat_hash_set<uint64_t>& taken);
  absl::StatusOr<std::optional<Proposal>> Step(Rng& rng, std::vector<bo::GpPoint> pending,
                                               const absl::flat_hash_set<uint64_t>& taken);

  BayesianOptimizationOptions options_;
  bo::Surrogate surrogate_;
  absl::flat_hash_set<uint64_t> observed_;
  std::vector<Evaluated> history_;   // observations in order (the local optimiser's parents)
  std::map<int64_t, Own> proposed_;  // own proposals not yet observed
  absl::flat_hash_map<uint64_t, std::shared_ptr<const bo::ArchEntry>> entries_;
  std::optional<bo::HyperParameters> hyper_;
  // From RestoreModelRecords: hyper-parameters fitted before a restart, and
  // the checksum of the observations they were fitted on.
  std::optional<std::pair<bo::HyperParameters, uint64_t>> restored_hyper_;
  bool restored_hyper_used_ = false;
  std::vector<ModelRecord> records_;  // made since the last TakeModelRecords
  absl::Status observe_error_;
  BoStepReport last_step_;
  bool stepped_ = false;  // a model-based step was taken (last_step_ is set)
};

}  // namespace unas::search

#endif  // UNAS_COORDINATOR_SEARCH_BAYESIAN_OPTIMIZATION_H_
