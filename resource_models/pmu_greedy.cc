// A schedule without search, for a segment whose exact search stopped at its limit
// (SearchLimitPolicy::kUpperBound): its peak is achievable, so it bounds the PMU from above.

#include <algorithm>
#include <vector>

#include "resource_models/pmu_internal.h"

namespace unas::rm::internal {

SegmentSchedule GreedySchedule(const Problem& problem, const Segment& segment) {
  std::vector<bool> done(problem.ops.size(), false);
  for (int i = 0; i < segment.begin; ++i) done[i] = true;
  int64_t level = LevelAfter(problem, done);
  // Consumers still to run, per buffer, as in the execution model.
  std::vector<int> pending(problem.buffers.size(), 0);
  for (size_t b = 0; b < problem.buffers.size(); ++b) {
    for (int c : problem.buffers[b].consumers) pending[b] += done[c] ? 0 : 1;
  }
  auto ready = [&](int op) {
    for (int in : problem.ops[op].inputs) {
      const int producer = problem.buffers[in].producer;
      if (producer >= 0 && !done[producer]) return false;
    }
    return true;
  };
  auto step_of = [&](int op) {
    for (int in : problem.ops[op].inplace_inputs) {
      if (pending[in] == 1) return level;  // writes into that input
    }
    return level + problem.buffers[problem.ops[op].output].size;
  };
  auto level_after = [&](int op) {
    int64_t after = level + problem.buffers[problem.ops[op].output].size;
    for (int in : problem.ops[op].inputs) {
      const Buffer& b = problem.buffers[in];
      if (pending[in] == 1 && !b.persistent) after -= b.size;
    }
    return after;
  };

  SegmentSchedule s{.peak = 0, .order = {}, .optimal = false};
  for (int n = segment.begin; n < segment.end; ++n) {
    // The ready op with the smallest step, then the lowest level after it.
    int pick = -1;
    int64_t pick_step = 0;
    int64_t pick_after = 0;
    for (int op = segment.begin; op < segment.end; ++op) {
      if (done[op] || !ready(op)) continue;
      const int64_t step = step_of(op);
      const int64_t after = level_after(op);
      if (pick < 0 || step < pick_step || (step == pick_step && after < pick_after)) {
        pick = op;
        pick_step = step;
        pick_after = after;
      }
    }
    s.peak = std::max(s.peak, pick_step);
    s.order.push_back(pick);
    done[pick] = true;
    level = pick_after;
    for (int in : problem.ops[pick].inputs) --pending[in];
  }
  return s;
}

}  // namespace unas::rm::internal
