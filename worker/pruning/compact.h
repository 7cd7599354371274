// The physically compacted copy of a structurally pruned network: the
// architecture rebuilt with the surviving channel counts through the same
// NetworkPlan path the coordinator uses for the pruned resource view
// (PlanNetwork with PlanOptions::pruning), with the kept channels' weights,
// biases and batch-normalisation parameters and statistics copied, and every
// consumer's input channels sliced to match.
#ifndef UNAS_WORKER_PRUNING_COMPACT_H_
#define UNAS_WORKER_PRUNING_COMPACT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/network_plan.h"
#include "worker/model.h"

namespace unas::worker {

// `masked`: the trained network with its evaluation masks applied (pruned
// channels exactly zero). `compact_plan`: the pruned plan of the same
// architecture, whose op i has kept[i].size() output channels. Returns the
// compacted network (on masked's device, in evaluation mode) whose outputs
// equal masked's up to float rounding. Errors name the op whose shapes do not
// line up.
absl::StatusOr<UnasNet> CompactNetwork(UnasNetImpl& masked, const NetworkPlan& compact_plan,
                                       const std::vector<std::vector<int64_t>>& kept);

}  // namespace unas::worker

#endif  // UNAS_WORKER_PRUNING_COMPACT_H_
