#include "coordinator/search/aging_evolution.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/search_space/random_architecture.h"

namespace unas::search {

absl::StatusOr<std::optional<Proposal>> AgingEvolution::Propose(const ProposalContext& context) {
  Rng rng(CandidateSeed(options_.seed, context.candidate_id));
  Proposal proposal;
  if (context.evaluations_done < options_.initial_population_size) {
    // Initial phase: random candidates until the initial population is
    // evaluated or in flight; then wait for it (the original), or evolve from
    // what is evaluated once that is a full tournament sample, so that no
    // worker idles behind a few slow initial candidates.
    if (context.evaluations_done + context.in_flight < options_.initial_population_size) {
      absl::StatusOr<DrawnArchitecture> drawn =
          DrawRandomArchitecture(options_.space, options_.data, checker_, options_.feasible, rng);
      if (!drawn.ok()) return drawn.status();
      proposal.architecture = std::move(drawn->architecture);
      if (options_.sparsity) proposal.sparsity = RandomSparsity(*options_.sparsity, rng);
      return proposal;
    }
    if (options_.strict_initial_population ||
        static_cast<int>(population_.size()) < std::max(1, options_.sample_size)) {
      return std::nullopt;
    }
  }
  const Evaluated& parent = SelectParent(rng);
  absl::StatusOr<DrawnNeighbour> child = DrawNeighbour(
      parent.architecture, options_.space, options_.data, checker_, options_.feasible, rng);
  if (!child.ok()) {
    return absl::Status(
        child.status().code(),
        absl::StrCat("mutating candidate ", parent.candidate_id, ": ", child.status().message()));
  }
  proposal.architecture = std::move(child->neighbour.architecture);
  proposal.parent_id = parent.candidate_id;
  if (options_.sparsity) {
    double from = parent.sparsity.value_or(options_.sparsity->min);
    proposal.sparsity = MutateSparsity(from, *options_.sparsity, rng);
  }
  return proposal;
}

const Evaluated& AgingEvolution::SelectParent(Rng& rng) const {
  std::array<double, kNumObjectives> lambdas;
  for (double& lambda : lambdas) lambda = rng.UniformDouble();
  const Evaluated* best = nullptr;
  double best_fitness = 0;
  for (int i = 0; i < options_.sample_size; ++i) {
    const Evaluated& member = population_[rng.Index(population_.size())];
    double fitness = ScalarisedFitness(member.objectives, options_.bounds, lambdas);
    if (best == nullptr || fitness > best_fitness) {
      best = &member;
      best_fitness = fitness;
    }
  }
  return *best;
}

void AgingEvolution::Observe(const Evaluated& evaluated) {
  population_.push_back(evaluated);
  while (static_cast<int>(population_.size()) > options_.population_size) {
    population_.pop_front();
  }
}

}  // namespace unas::search
