// Offsets of every activation buffer in one static arena, for a network run
// one operator at a time in a given order (docs/deploy.md, "Memory plan").
//
// Lifetimes follow the execution model of resource_models/pmu.h exactly: a
// buffer lives from the step of its producer (step 0 for a model input) to
// the step of its last consumer, a model output to the end; an Add writes its
// sum into an input it frees when the PMU's reuse rule allows it (the two
// tensors then share one buffer). The bytes live at a step are therefore the
// PMU's step memory, and their maximum (`peak_bytes`) is a lower bound for
// any arena. Placing the buffers is dynamic storage allocation (NP-hard), so
// several strategies run and the smallest arena wins:
//   greedy by size, first fit   the largest buffer first, at the lowest offset
//                               free over its lifetime (TFLite Micro's planner);
//   greedy by size, best fit    the same order, into the smallest gap that
//                               holds it (the TFLite GPU delegate's);
//   greedy by breadth           the buffers of the fullest step first (largest
//                               first), then the next fullest step's, first or
//                               best fit (the GPU delegate's other planner);
//   two-ended                   buffers in production order, each at the end
//                               of the arena opposite to its input's, inside
//                               a target of peak_bytes: on a chain this is
//                               always exactly peak_bytes.
#ifndef UNAS_CODEGEN_MEMORY_PLAN_H_
#define UNAS_CODEGEN_MEMORY_PLAN_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "resource_models/graph.h"

namespace unas::codegen {

enum class Placement {
  kGreedyFirstFit,
  kGreedyBestFit,
  kBreadthFirstFit,
  kBreadthBestFit,
  kTwoEnded,
};
const char* PlacementName(Placement placement);

struct ArenaBuffer {
  std::vector<rm::TensorId> tensors;  // the tensors stored here (more than one: in-place Adds)
  int64_t size = 0;
  int first_step = 0;  // inclusive, indices into the order
  int last_step = 0;   // inclusive
  int64_t offset = -1;
};

struct MemoryPlanOptions {
  // Hold the model input in the arena (the generated code does: it copies or
  // converts the caller's input there). Off: the input stays outside.
  bool include_input = true;
  // Let an Add write into an input it frees (resource_models' rule).
  bool add_inplace = true;
};

struct MemoryPlan {
  std::vector<ArenaBuffer> buffers;
  // Per graph tensor: the index into `buffers`, or -1 (weights, an input left outside).
  std::vector<int> buffer_of;
  int64_t peak_bytes = 0;   // the most bytes live at one step: no arena can be smaller
  int64_t arena_bytes = 0;  // end of the highest buffer of the chosen placement
  Placement placement = Placement::kGreedyFirstFit;
  // Arena of each strategy tried, indexed by Placement.
  std::vector<int64_t> arena_by_placement;

  int64_t offset_of(rm::TensorId tensor) const {
    return buffer_of[tensor] < 0 ? -1 : buffers[buffer_of[tensor]].offset;
  }
};

// Plans `graph` run in `order` (every non-Input op once, inputs first; as
// rm::SimulateOrder checks). Errors name the op that breaks the order.
absl::StatusOr<MemoryPlan> PlanMemory(const rm::Graph& graph, std::span<const rm::OpId> order,
                                      const MemoryPlanOptions& options = {});

// Checks a plan independently of how it was made: every buffer inside the
// arena, no two buffers that are live at the same step overlapping in memory.
absl::Status CheckMemoryPlan(const MemoryPlan& plan);

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_MEMORY_PLAN_H_
