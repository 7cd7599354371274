// The search algorithm interface. An algorithm proposes candidates and
// observes evaluations; the coordinator persists both, and after a restart
// rebuilds an algorithm by replaying the stored evaluations in history order
// through Observe. Every random choice of a proposal is drawn from an Rng
// seeded by (job seed, candidate id), so proposals do not depend on an RNG
// state that would have to be saved, and one-worker runs repeat exactly.
#ifndef UNAS_COORDINATOR_SEARCH_ALGORITHM_H_
#define UNAS_COORDINATOR_SEARCH_ALGORITHM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/objectives/objectives.h"
#include "common/search_space/space.h"
#include "unas/v1/architecture.pb.h"
#include "unas/v1/job.pb.h"
#include "unas/v1/job_spec.pb.h"

namespace unas::search {

struct Proposal {
  v1::Architecture architecture;
  std::optional<double> sparsity;    // pruning jobs only
  std::optional<int64_t> parent_id;  // absent for random candidates
};

// A candidate proposed and not yet observed.
struct PendingCandidate {
  int64_t candidate_id = 0;
  const v1::Architecture* architecture = nullptr;  // valid during the Propose call
  std::optional<double> sparsity;
};

// Where the search stands when a worker asks for work.
struct ProposalContext {
  int64_t candidate_id = 0;  // the id the proposal will get
  int evaluations_done = 0;  // observed so far
  int in_flight = 0;         // proposed, not yet observed (queued or leased)
};

// A piece of an algorithm's derived state: what it computed from its
// observations at a cost (Bayesian optimisation: the kernel's distance rows,
// the fitted hyper-parameters), for the coordinator to store and hand back
// after a restart so the replay need not compute it again. Opaque bytes to
// the coordinator; (kind, position) is its key within the job, and a later
// record with the same key replaces the earlier one.
struct ModelRecord {
  int kind = 0;
  int64_t position = 0;
  std::string bytes;
};

struct Evaluated {
  int64_t candidate_id = 0;
  v1::Architecture architecture;
  std::optional<double> sparsity;
  ObjectiveVector objectives{};
};

class SearchAlgorithm {
 public:
  virtual ~SearchAlgorithm() = default;

  // A new candidate, or nullopt when the algorithm must wait for results
  // first (aging evolution at the end of its initial random phase).
  virtual absl::StatusOr<std::optional<Proposal>> Propose(const ProposalContext& context) = 0;

  // Propose, told which candidates are in flight (context.in_flight of
  // them). An algorithm that models pending evaluations (Bayesian
  // optimisation) overrides it; without the list it keeps its own record of
  // its proposals. The default ignores the list.
  virtual absl::StatusOr<std::optional<Proposal>> ProposeWithPending(
      const ProposalContext& context, std::span<const PendingCandidate> pending) {
    (void)pending;
    return Propose(context);
  }

  // An evaluation, in history (completion) order.
  virtual void Observe(const Evaluated& evaluated) = 0;

  virtual std::string name() const = 0;

  // A model-based algorithm's state for status displays (Bayesian
  // optimisation once it has taken a model-based step); nullopt otherwise.
  virtual std::optional<v1::BayesianOptimizationStatus> ModelStatus() const { return std::nullopt; }

  // The model records made since the last call (for the store). An
  // algorithm whose replay is cheap makes none.
  virtual std::vector<ModelRecord> TakeModelRecords() { return {}; }
  // The stored records, before the replay's Observe calls. An algorithm
  // uses a record only where it is exactly what it would compute itself
  // (checked against the replayed history), so proposals never depend on
  // whether records were stored, lost or stale.
  virtual void RestoreModelRecords(std::vector<ModelRecord> records) { (void)records; }
};

// Mixes a job seed and a candidate id into the seed of that candidate's Rng
// (SplitMix64 finaliser: nearby inputs give unrelated streams).
uint64_t CandidateSeed(uint64_t job_seed, int64_t candidate_id);

// The algorithm a validated, defaults-filled spec asks for.
absl::StatusOr<std::unique_ptr<SearchAlgorithm>> MakeSearchAlgorithm(const v1::JobSpec& spec);

}  // namespace unas::search

#endif  // UNAS_COORDINATOR_SEARCH_ALGORITHM_H_
