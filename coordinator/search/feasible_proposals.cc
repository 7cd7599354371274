#include "coordinator/search/feasible_proposals.h"

#include <algorithm>
#include <utility>

#include "common/search_space/random_architecture.h"
#include "common/search_space/resource_graph.h"
#include "common/status/status_macros.h"
#include "resource_models/macs.h"
#include "resource_models/model_size.h"
#include "resource_models/pmu.h"

namespace unas::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

FeasibleProposalOptions MakeFeasibleProposalOptions(const v1::JobSpec& spec) {
  FeasibleProposalOptions options;
  if (!spec.algorithm().has_feasible_proposals()) return options;  // plain draws
  const v1::FeasibleProposalsSpec& f = spec.algorithm().feasible_proposals();
  options.enabled = f.enabled();
  options.draws = f.draws();
  options.max_bound_excess = f.max_bound_excess();
  options.morphism_redraws = f.morphism_redraws();
  return options;
}

double BoundViolation(const ObjectiveVector& x, const BoundVector& bounds) {
  double worst = 0;
  for (int i = 1; i < kNumObjectives; ++i) {
    if (bounds[i]) worst = std::max(worst, x[i] / *bounds[i]);
  }
  return worst;
}

BoundChecker::BoundChecker(DataShape data, BoundVector bounds) : data_(data), bounds_(bounds) {
  active_ = bounds_[1] || bounds_[2] || bounds_[3];
}

absl::StatusOr<double> BoundChecker::Violation(const v1::Architecture& arch,
                                               double at_least) const {
  if (!active_) return 0.0;
  UNAS_ASSIGN_OR_RETURN(rm::Graph graph, BuildResourceGraph(arch, data_));
  ObjectiveVector x{};
  if (bounds_[2]) {
    rm::ModelSizeOptions size;
    size.use_sparse_sizes = false;  // the dense network, as candidate metrics count it
    x[2] = static_cast<double>(rm::ModelSizeUnas(graph, size));
  }
  if (bounds_[3]) x[3] = static_cast<double>(rm::ComputeMacs(graph));
  if (bounds_[1]) {
    // With x[1] still 0 this is the violation of size and MACs alone, a lower
    // bound on the whole: when it reaches `at_least` the PMU cannot matter.
    const double without_pmu = BoundViolation(x, bounds_);
    if (without_pmu >= at_least) return without_pmu;
    rm::PmuOptions pmu;
    pmu.on_search_limit = rm::SearchLimitPolicy::kUpperBound;
    UNAS_ASSIGN_OR_RETURN(rm::PmuResult peak, rm::ComputePmu(graph, pmu));
    x[1] = static_cast<double>(peak.peak_bytes);
  }
  return BoundViolation(x, bounds_);
}

absl::StatusOr<DrawnArchitecture> DrawRandomArchitecture(const SearchSpace& space,
                                                         const DataShape& data,
                                                         const BoundChecker& checker,
                                                         const FeasibleProposalOptions& options,
                                                         Rng& rng) {
  DrawnArchitecture best;
  if (!options.enabled || !checker.active()) {
    UNAS_ASSIGN_OR_RETURN(best.architecture, RandomArchitecture(space, data, rng));
    best.draws = 1;
    return best;
  }
  best.violation = kInf;
  const int draws = std::max(1, options.draws);
  while (best.draws < draws && best.violation > 1.0) {
    UNAS_ASSIGN_OR_RETURN(v1::Architecture arch, RandomArchitecture(space, data, rng));
    ++best.draws;
    UNAS_ASSIGN_OR_RETURN(double violation, checker.Violation(arch, best.violation));
    if (violation < best.violation) {
      best.architecture = std::move(arch);
      best.violation = violation;
    }
  }
  return best;
}

absl::StatusOr<DrawnNeighbour> DrawNeighbour(const v1::Architecture& parent,
                                             const SearchSpace& space, const DataShape& data,
                                             const BoundChecker& checker,
                                             const FeasibleProposalOptions& options, Rng& rng) {
  DrawnNeighbour best;
  if (!options.enabled || !checker.active()) {
    UNAS_ASSIGN_OR_RETURN(best.neighbour, RandomNeighbour(parent, space, data, rng));
    best.draws = 1;
    return best;
  }
  best.violation = kInf;
  const int draws = 1 + std::max(0, options.morphism_redraws);
  while (best.draws < draws && best.violation > options.max_bound_excess) {
    UNAS_ASSIGN_OR_RETURN(Neighbour child, RandomNeighbour(parent, space, data, rng));
    ++best.draws;
    UNAS_ASSIGN_OR_RETURN(double violation, checker.Violation(child.architecture, best.violation));
    if (violation < best.violation) {
      best.neighbour = std::move(child);
      best.violation = violation;
    }
  }
  return best;
}

}  // namespace unas::search
