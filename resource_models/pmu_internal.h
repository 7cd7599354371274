// Internal to the PMU solvers: the scheduling problem extracted from a Graph, and the solvers.
// Not part of the public API.

#ifndef UNAS_RESOURCE_MODELS_PMU_INTERNAL_H_
#define UNAS_RESOURCE_MODELS_PMU_INTERNAL_H_

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/statusor.h"
#include "resource_models/graph.h"
#include "resource_models/pmu.h"

namespace unas::rm::internal {

// One activation buffer (a model input or an operator output).
struct Buffer {
  int64_t size = 0;                 // bytes counted in the arena (0: an excluded model input)
  int producer = -1;                // schedulable op index, -1 for a model input
  std::vector<int> consumers = {};  // schedulable op indices, ascending, each once
  bool persistent = false;          // a model output: never freed
};

// A schedulable operator (every non-Input op), indexed in the graph's (topological) op order.
struct SchedOp {
  OpId graph_op = kNone;
  int output = -1;                       // buffer index
  std::vector<int> inputs = {};          // buffer indices, each once
  std::vector<int> inplace_inputs = {};  // inputs an Add could write into (shape, counted, not
                                         // persistent); empty unless Add reuse is on
};

struct Problem {
  std::vector<Buffer> buffers;
  std::vector<SchedOp> ops;
  int64_t initial_level = 0;  // counted model inputs
};

Problem BuildProblem(const Graph& graph, const PmuOptions& options);

// A contiguous range [begin, end) of ops (in index order) that every schedule runs as a block:
// all ops before `begin` run before it, all ops from `end` on run after it.
struct Segment {
  int begin = 0;
  int end = 0;
};

// Splits at "cut" ops, ops comparable (ancestor or descendant) with every other op.
std::vector<Segment> SplitIntoSegments(const Problem& problem);

// Live bytes once exactly the ops with done[i] have run (done must be downward closed).
int64_t LevelAfter(const Problem& problem, const std::vector<bool>& done);

// The execution model one operator at a time: the live bytes and, per buffer, how many of its
// consumers are still to run. Order replay and the greedy fallback share it.
class Arena {
 public:
  // Starts after exactly the ops with done[i] (downward closed) have run.
  Arena(const Problem& problem, const std::vector<bool>& done);

  // Bytes live while `op` runs next: everything live, plus its output unless it writes into an
  // input that it frees (Add reuse).
  int64_t StepOf(int op) const;
  // Live bytes once `op` has run.
  int64_t LevelAfterRunning(int op) const;
  void Run(int op);

 private:
  const Problem& problem_;
  int64_t level_ = 0;
  std::vector<int> pending_;
};

struct SegmentSchedule {
  int64_t peak = 0;
  std::vector<int> order;  // op indices of the segment
  bool optimal = true;     // false: a search stopped at its limit, `peak` is an upper bound
};

// Bounds a caller may know for SolveGeneral. `floor`: a lower bound on the segment's optimal
// peak (the search may treat every step up to it as free). `upper`: only schedules with a peak
// strictly below it are wanted (a caller that already has one with this peak).
struct SearchBounds {
  int64_t floor = 0;
  int64_t upper = std::numeric_limits<int64_t>::max();
};

// Exact best-first search over sets of executed ops of the segment. NotFound when no schedule
// has a peak below bounds.upper; ResourceExhausted after max_states expanded states.
absl::StatusOr<SegmentSchedule> SolveGeneral(const Problem& problem, const Segment& segment,
                                             int64_t max_states, SearchBounds bounds = {});

// A valid schedule of the segment without any search, for when the search stopped at its limit:
// each step runs the ready op with the smallest step memory (then the lowest level after it).
// optimal = false.
SegmentSchedule GreedySchedule(const Problem& problem, const Segment& segment);

// Exact solver for a segment that is a fork into chains joined by its last op: a polynomial
// candidate schedule, proven optimal by a lower bound or else by SolveGeneral bounded by it.
// NotFound when the segment does not have that shape (the caller falls back). When the search
// stops at max_states: ResourceExhausted, or with `candidate_on_limit` the candidate schedule
// (optimal = false).
absl::StatusOr<SegmentSchedule> SolveForkJoin(const Problem& problem, const Segment& segment,
                                              int64_t max_states, bool candidate_on_limit);

}  // namespace unas::rm::internal

#endif  // UNAS_RESOURCE_MODELS_PMU_INTERNAL_H_
