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
  // CNN-space graph, worst case exponential (docs/resource_models.md, "Complexity").
  kAuto,
  // Only the general exact search (best-first search over sets of executed operators). Exact on
  // any graph; exponential in the graph's width in the worst case. For testing and comparison.
  kGeneral,
};

struct PmuOptions {
  // Count the model input buffer(s) (the original excludes them by default).
  bool include_input = false;
  // An Add may write its sum into one of its inputs when that input has exactly the output's
  // shape, is an activation that is freed by this Add (the Add is its last consumer and it is
  // not a model output) and is counted in the arena. On in the original; off models TFLite Micro.
  bool add_inplace = true;
  PmuAlgorithm algorithm = PmuAlgorithm::kAuto;
  // Safety valve for the general search on adversarial graphs: more expanded states than this
  // returns ResourceExhausted instead of running for minutes inside the coordinator.
  int64_t max_search_states = 20'000'000;
};

struct PmuResult {
  int64_t peak_bytes = 0;
  // Every non-Input operator once, in execution order.
  std::vector<OpId> order;
  // step_bytes[i]: bytes live while order[i] runs (its inputs, its output unless written in
  // place, and everything else still needed later).
  std::vector<int64_t> step_bytes;
};

// Exact PMU with an order that achieves it. Fails on an invalid graph (Graph::Validate).
absl::StatusOr<PmuResult> ComputePmu(const Graph& graph, const PmuOptions& options = {});

// Replays a given order under the execution model: checks that it runs every non-Input operator
// exactly once after its inputs exist, and returns its step memory (peak_bytes = max of steps).
absl::StatusOr<PmuResult> SimulateOrder(const Graph& graph, std::span<const OpId> order,
                                        const PmuOptions& options = {});

}  // namespace unas::rm

#endif  // UNAS_RESOURCE_MODELS_PMU_H_
