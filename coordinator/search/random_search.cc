#include "coordinator/search/random_search.h"

#include "common/search_space/random_architecture.h"
#include "common/search_space/rng.h"

namespace unas::search {

absl::StatusOr<std::optional<Proposal>> RandomSearch::Propose(const ProposalContext& context) {
  Rng rng(CandidateSeed(seed_, context.candidate_id));
  absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space_, data_, rng);
  if (!arch.ok()) return arch.status();
  Proposal proposal;
  proposal.architecture = *std::move(arch);
  if (sparsity_) proposal.sparsity = RandomSparsity(*sparsity_, rng);
  return proposal;
}

}  // namespace unas::search
