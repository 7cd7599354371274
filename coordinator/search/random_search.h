// Uniformly random architectures (§3 distributions): the baseline every
// other algorithm should beat.
#ifndef UNAS_COORDINATOR_SEARCH_RANDOM_SEARCH_H_
#define UNAS_COORDINATOR_SEARCH_RANDOM_SEARCH_H_

#include <optional>

#include "common/search_space/sparsity.h"
#include "coordinator/search/algorithm.h"

namespace unas::search {

class RandomSearch : public SearchAlgorithm {
 public:
  RandomSearch(uint64_t seed, SearchSpace space, DataShape data,
               std::optional<SparsityRange> sparsity)
      : seed_(seed), space_(std::move(space)), data_(data), sparsity_(sparsity) {}

  absl::StatusOr<std::optional<Proposal>> Propose(const ProposalContext& context) override;
  void Observe(const Evaluated&) override {}
  std::string name() const override { return "random_search"; }

 private:
  uint64_t seed_;
  SearchSpace space_;
  DataShape data_;
  std::optional<SparsityRange> sparsity_;
};

}  // namespace unas::search

#endif  // UNAS_COORDINATOR_SEARCH_RANDOM_SEARCH_H_
