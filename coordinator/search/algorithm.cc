#include "coordinator/search/algorithm.h"

#include "coordinator/search/aging_evolution.h"
#include "coordinator/search/bayesian_optimization.h"
#include "coordinator/search/random_search.h"

namespace unas::search {

uint64_t CandidateSeed(uint64_t job_seed, int64_t candidate_id) {
  uint64_t z = job_seed ^ (static_cast<uint64_t>(candidate_id) * 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

absl::StatusOr<std::unique_ptr<SearchAlgorithm>> MakeSearchAlgorithm(const v1::JobSpec& spec) {
  absl::StatusOr<SearchSpace> space = ResolveSearchSpace(spec.search_space());
  if (!space.ok()) return space.status();
  DataShape data = MakeDataShape(spec.input_shape(), spec.num_classes());
  if (absl::Status s = ValidateDataShape(data); !s.ok()) return s;
  std::optional<SparsityRange> sparsity;
  if (spec.training().has_pruning()) {
    absl::StatusOr<SparsityRange> range = ResolveSparsityRange(spec.training().pruning());
    if (!range.ok()) return range.status();
    sparsity = *range;
  }
  const v1::AlgorithmSpec& a = spec.algorithm();
  switch (a.kind_case()) {
    case v1::AlgorithmSpec::kAgingEvolution: {
      AgingEvolutionOptions options;
      options.population_size = a.aging_evolution().population_size();
      options.sample_size = a.aging_evolution().sample_size();
      options.initial_population_size = a.aging_evolution().initial_population_size();
      options.strict_initial_population = a.aging_evolution().strict_initial_population();
      options.seed = spec.seed();
      options.space = *std::move(space);
      options.data = data;
      options.bounds = MakeBounds(spec);
      options.sparsity = sparsity;
      options.feasible = MakeFeasibleProposalOptions(spec);
      return std::make_unique<AgingEvolution>(std::move(options));
    }
    case v1::AlgorithmSpec::kRandomSearch: {
      RandomSearchOptions options;
      options.seed = spec.seed();
      options.space = *std::move(space);
      options.data = data;
      options.bounds = MakeBounds(spec);
      options.sparsity = sparsity;
      options.feasible = MakeFeasibleProposalOptions(spec);
      return std::make_unique<RandomSearch>(std::move(options));
    }
    case v1::AlgorithmSpec::kBayesianOptimization: {
      const v1::BayesianOptimizationSpec& bo = a.bayesian_optimization();
      if (bo.multi_fidelity()) {
        return absl::UnimplementedError(
            "algorithm.bayesian_optimization.multi_fidelity: multi-fidelity BO is not "
            "implemented; no shipped config uses it");
      }
      BayesianOptimizationOptions options;
      options.starting_points = bo.starting_points();
      options.seed = spec.seed();
      options.space = *std::move(space);
      options.data = data;
      options.bounds = MakeBounds(spec);
      options.sparsity = sparsity;
      options.kernel = bo.kernel() == v1::BO_KERNEL_WL ? bo::KernelKind::kWeisfeilerLehman
                                                       : bo::KernelKind::kOtmann;
      options.local_optimizer = bo.acquisition_optimizer() == v1::ACQUISITION_OPTIMIZER_LOCAL;
      options.skip_infeasible_factor = a.skip_infeasible_factor();
      options.feasible = MakeFeasibleProposalOptions(spec);
      return std::make_unique<BayesianOptimization>(std::move(options));
    }
    default:
      return absl::InvalidArgumentError("algorithm: no algorithm selected");
  }
}

}  // namespace unas::search
