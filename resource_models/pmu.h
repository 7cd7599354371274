// Peak memory usage (PMU): the smallest arena that can run the network, with the operator order
// that achieves it.
//
// Execution model (docs/resource_models.md has the details): operators run one at a time; an
// operator's output buffer is allocated before it runs; an activation is freed right after its
// last consumer has run; model outputs stay live to the end; weights live in flash and are never
// counted; the model input is counted only if PmuOptions::include_input. The memory of a step is
// the total size of the buffers live while its operator runs. PMU is the minimum over all
// topological orders of the maximum step memory, computed exactly.

#ifndef UNAS_RESOURCE_MODELS_PMU_H_
#define UNAS_RESOURCE_MODELS_PMU_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "resource_models/graph.h"

namespace unas::rm {

enum class PmuAlgorithm {
  // Series decomposition, then the fork/join fast path where a segment is a fork into chains
  // joined by one operator (a polynomial candidate, proven optimal by a lower bound or by the
  // general search bounded by it), the general search elsewhere. Exact; ~30 µs on an average
  // CNN-space graph, worst case exponential: the coupled fork/join is NP-hard, so every exact
  // method shares that worst case unless P = NP (docs/resource_models.md, "Hardness").
  kAuto,
  // Only the general exact search (best-first search over sets of executed operators). Exact on
  // any graph; exponential in the graph's width in the worst case. For testing and comparison.
  kGeneral,
};

// What ComputePmu does when its exact search reaches PmuOptions::max_search_states.
enum class SearchLimitPolicy {
  // Return ResourceExhausted: an exact answer or none.
  kFail,
  // Return the best order known without the proof (a fork/join's candidate schedule, elsewhere a
  // greedy order) with PmuResult::optimal = false. Its peak is achieved by the returned order, so
  // it is an upper bound on the PMU: safe for a memory constraint, never below the truth.
  kUpperBound,
};

struct PmuOptions {
  // Count the model input buffer(s) (the original excludes them by default).
  bool include_input = false;
  // An Add may write its sum into one of its inputs when that input has exactly the output's
  // shape, is an activation that is freed by this Add (the Add is its last consumer and it is
  // not a model output) and is counted in the arena. On in the original; off models TFLite Micro.
  bool add_inplace = true;
  PmuAlgorithm algorithm = PmuAlgorithm::kAuto;
  // Safety valve for the exact search on adversarial graphs (the coupled fork/join is NP-hard):
  // a segment's search stops after this many expanded states, about 2 s and 200 MB on this
  // project's 2-core machine, instead of running for minutes and gigabytes inside the
  // coordinator. The slowest of the benchmark's 20,000 default-space CNNs takes under 1 % of
  // that. What happens then: on_search_limit.
  int64_t max_search_states = 1'000'000;
  SearchLimitPolicy on_search_limit = SearchLimitPolicy::kFail;
};

struct PmuResult {
  int64_t peak_bytes = 0;
  // Every non-Input operator once, in execution order.
  std::vector<OpId> order;
  // step_bytes[i]: bytes live while order[i] runs (its inputs, its output unless written in
  // place, and everything else still needed later).
  std::vector<int64_t> step_bytes;
  // False only under SearchLimitPolicy::kUpperBound when a search stopped at its limit: then
  // peak_bytes is the peak of `order` (achievable), not proven minimal.
  bool optimal = true;
};

// Exact PMU with an order that achieves it. Fails on an invalid graph (Graph::Validate).
absl::StatusOr<PmuResult> ComputePmu(const Graph& graph, const PmuOptions& options = {});

// Replays a given order under the execution model: checks that it runs every non-Input operator
// exactly once after its inputs exist, and returns its step memory (peak_bytes = max of steps).
absl::StatusOr<PmuResult> SimulateOrder(const Graph& graph, std::span<const OpId> order,
                                        const PmuOptions& options = {});

}  // namespace unas::rm

#endif  // UNAS_RESOURCE_MODELS_PMU_H_
