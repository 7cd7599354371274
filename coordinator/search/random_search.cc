#include "coordinator/search/random_search.h"

#include "common/search_space/rng.h"

namespace unas::search {

absl::StatusOr<std::optional<Proposal>> RandomSearch::Propose(const ProposalContext& context) {
  Rng rng(CandidateSeed(options_.seed, context.candidate_id));
  absl::StatusOr<DrawnArchitecture> drawn =
      DrawRandomArchitecture(options_.space, options_.data, checker_, options_.feasible, rng);
  if (!drawn.ok()) return drawn.status();
  Proposal proposal;
  proposal.architecture = std::move(drawn->architecture);
  if (options_.sparsity) proposal.sparsity = RandomSparsity(*options_.sparsity, rng);
  return proposal;
}

}  // namespace unas::search
