// Aging evolution with the randomised scalarisation of μNAS
// (docs/unas_original.md): a random initial population, then children of
// tournament winners; the population is the last N evaluations (the oldest,
// not the worst, leaves). One difference from the original, for clusters:
// once the rest of the initial population is in flight, evolution starts as
// soon as sample_size members are evaluated instead of waiting for all of
// them (strict_initial_population restores the original).
#ifndef UNAS_COORDINATOR_SEARCH_AGING_EVOLUTION_H_
#define UNAS_COORDINATOR_SEARCH_AGING_EVOLUTION_H_

#include <deque>
#include <optional>
#include <vector>

#include "common/search_space/rng.h"
#include "common/search_space/sparsity.h"
#include "coordinator/search/algorithm.h"
#include "coordinator/search/feasible_proposals.h"

namespace unas::search {

struct AgingEvolutionOptions {
  int population_size = 100;
  int sample_size = 25;
  int initial_population_size = 100;
  // Wait for the whole initial population before evolving (the original);
  // false: evolve once sample_size members are evaluated.
  bool strict_initial_population = false;
  uint64_t seed = 0;
  SearchSpace space;
  DataShape data;
  BoundVector bounds;
  std::optional<SparsityRange> sparsity;  // set for pruning jobs
  // Random members and children within the resource bounds (off: μNAS).
  FeasibleProposalOptions feasible;
};

class AgingEvolution : public SearchAlgorithm {
 public:
  explicit AgingEvolution(AgingEvolutionOptions options)
      : options_(std::move(options)), checker_(options_.data, options_.bounds) {}

  absl::StatusOr<std::optional<Proposal>> Propose(const ProposalContext& context) override;
  void Observe(const Evaluated& evaluated) override;
  std::string name() const override { return "aging_evolution"; }

  // The tournament: `sample_size` members drawn with replacement, one fresh
  // λ ~ U(0,1)^4, the fittest (first on ties) wins. Exposed for tests.
  const Evaluated& SelectParent(Rng& rng) const;

  const std::deque<Evaluated>& population() const { return population_; }

 private:
  AgingEvolutionOptions options_;
  BoundChecker checker_;
  std::deque<Evaluated> population_;
};

}  // namespace unas::search

#endif  // UNAS_COORDINATOR_SEARCH_AGING_EVOLUTION_H_
