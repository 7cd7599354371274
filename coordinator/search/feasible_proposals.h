// Proposals that respect the resource bounds (docs/search.md, "Proposals
// within the bounds"). A network's peak memory, model size and MACs are exact
// functions of its architecture, known before it is trained, so a random
// candidate or a morphism child that breaks the job's resource bounds can be
// redrawn instead of trained:
//
//   random candidates   up to `draws` draws; the first within every resource
//                       bound is proposed, else the least-violating draw
//   morphism children   a child whose violation is above `max_bound_excess`
//                       is redrawn (another morphism of the same parent) up
//                       to `morphism_redraws` times; else the least-violating
//
// The violation of a network is the largest ratio of a dense resource to its
// bound over the bounded resources (the error is unknown before training):
// at most 1 means within every resource bound. Ties go to the earliest draw.
// Every draw comes from the candidate's Rng, so the result is a function of
// (job seed, candidate id, parent): a replay after a restart draws the same.
// Switched off, each function draws exactly once, as μNAS does, and consumes
// the Rng exactly as the plain draw would.
#ifndef UNAS_COORDINATOR_SEARCH_FEASIBLE_PROPOSALS_H_
#define UNAS_COORDINATOR_SEARCH_FEASIBLE_PROPOSALS_H_

#include <limits>

#include "absl/status/statusor.h"
#include "common/objectives/objectives.h"
#include "common/search_space/morphisms.h"
#include "common/search_space/rng.h"
#include "common/search_space/space.h"
#include "unas/v1/architecture.pb.h"
#include "unas/v1/job_spec.pb.h"

namespace unas::search {

struct FeasibleProposalOptions {
  bool enabled = false;           // false: one plain draw (μNAS)
  int draws = 200;                // per random candidate, >= 1
  double max_bound_excess = 1.0;  // a child above this violation is redrawn
  int morphism_redraws = 20;      // redraws of such a child, >= 0
};

// The options of a validated, defaults-filled spec. A spec stored before the
// field existed (no feasible_proposals) keeps the plain draws it was run with.
FeasibleProposalOptions MakeFeasibleProposalOptions(const v1::JobSpec& spec);

// Largest x_i / bound_i over the bounded resource objectives (peak memory,
// model size, MACs; x's error is ignored); 0 when none is bounded.
double BoundViolation(const ObjectiveVector& x, const BoundVector& bounds);

// Violations of architectures for one job's data and bounds, computed as the
// coordinator computes a candidate's dense metrics (PMU without the input,
// an achievable upper bound where the exact search hits its limit; model
// size as μNAS counts it; MACs).
class BoundChecker {
 public:
  BoundChecker(DataShape data, BoundVector bounds);

  // Some resource is bounded (else every network is within the bounds).
  bool active() const { return active_; }

  // The violation of `arch`. The peak-memory search, the one costly metric,
  // is skipped when model size and MACs alone already reach `at_least`: the
  // value returned is then only a lower bound, >= `at_least`, which is all a
  // caller looking for a violation below `at_least` needs.
  absl::StatusOr<double> Violation(const v1::Architecture& arch,
                                   double at_least = std::numeric_limits<double>::infinity()) const;

 private:
  DataShape data_;
  BoundVector bounds_;
  bool active_ = false;
};

struct DrawnArchitecture {
  v1::Architecture architecture;
  double violation = 0;  // exact; 0 when the checker is inactive or draws were plain
  int draws = 0;         // architectures drawn
};

// A random architecture of the space for the data (RandomArchitecture),
// drawn as the options say.
absl::StatusOr<DrawnArchitecture> DrawRandomArchitecture(const SearchSpace& space,
                                                         const DataShape& data,
                                                         const BoundChecker& checker,
                                                         const FeasibleProposalOptions& options,
                                                         Rng& rng);

struct DrawnNeighbour {
  Neighbour neighbour;
  double violation = 0;  // exact; 0 when the checker is inactive or draws were plain
  int draws = 0;         // morphisms drawn: 1 + redraws
};

// A random neighbour of `parent` buildable for the data (RandomNeighbour),
// redrawn as the options say.
absl::StatusOr<DrawnNeighbour> DrawNeighbour(const v1::Architecture& parent,
                                             const SearchSpace& space, const DataShape& data,
                                             const BoundChecker& checker,
                                             const FeasibleProposalOptions& options, Rng& rng);

}  // namespace unas::search

#endif  // UNAS_COORDINATOR_SEARCH_FEASIBLE_PROPOSALS_H_
