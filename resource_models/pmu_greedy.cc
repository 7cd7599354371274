// A schedule without search, for a segment whose exact search stopped at its limit
// (SearchLimitPolicy::kUpperBound): its peak is achievable, so it bounds the PMU from above.

#include <algorithm>
#include <vector>

#include "resource_models/pmu_internal.h"

namespace unas::rm::internal {

SegmentSchedule GreedySchedule(const Problem& problem, const Segment& segment) {
  std::vector<bool> done(problem.ops.size(), false);
  for (int i = 0; i < segment.begin; ++i) done[i] = true;
  Arena arena(problem, done);
  auto ready = [&](int op) {
    for (int in : problem.ops[op].inputs) {
      const int producer = problem.buffers[in].producer;
      if (producer >= 0 && !done[producer]) return false;
    }
    return true;
  };

  SegmentSchedule s{.peak = 0, .order = {}, .optimal = false};
  for (int n = segment.begin; n < segment.end; ++n) {
    // The ready op with the smallest step, then the lowest level after it.
    int pick = -1;
    int64_t pick_step = 0;
    int64_t pick_after = 0;
    for (int op = segment.begin; op < segment.end; ++op) {
      if (done[op] || !ready(op)) continue;
      const int64_t step = arena.StepOf(op);
      const int64_t after = arena.LevelAfterRunning(op);
      if (pick < 0 || step < pick_step || (step == pick_step && after < pick_after)) {
        pick = op;
        pick_step = step;
        pick_after = after;
      }
    }
    s.peak = std::max(s.peak, pick_step);
    s.order.push_back(pick);
    done[pick] = true;
    arena.Run(pick);
  }
  return s;
}

}  // namespace unas::rm::internal
