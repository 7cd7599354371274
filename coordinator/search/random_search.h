// Random architectures (§3 distributions): the baseline every other
// algorithm should beat. With feasible proposals on (the default), each is
// the first of up to `draws` random networks within the resource bounds
// (feasible_proposals.h): random search within the bounds.
#ifndef UNAS_COORDINATOR_SEARCH_RANDOM_SEARCH_H_
#define UNAS_COORDINATOR_SEARCH_RANDOM_SEARCH_H_

#include <optional>

#include "common/search_space/sparsity.h"
#include "coordinator/search/algorithm.h"
#include "coordinator/search/feasible_proposals.h"

namespace unas::search {

struct RandomSearchOptions {
  uint64_t seed = 0;
  SearchSpace space;
  DataShape data;
  BoundVector bounds;
  std::optional<SparsityRange> sparsity;  // set for pruning jobs
  // Candidates within the resource bounds (off: uniform over the space).
  FeasibleProposalOptions feasible;
};

class RandomSearch : public SearchAlgorithm {
 public:
  explicit RandomSearch(RandomSearchOptions options)
      : options_(std::move(options)), checker_(options_.data, options_.bounds) {}

  absl::StatusOr<std::optional<Proposal>> Propose(const ProposalContext& context) override;
  void Observe(const Evaluated&) override {}
  std::string name() const override { return "random_search"; }

 private:
  RandomSearchOptions options_;
  BoundChecker checker_;
};

}  // namespace unas::search

#endif  // UNAS_COORDINATOR_SEARCH_RANDOM_SEARCH_H_
