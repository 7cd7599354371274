#include "codegen/memory_plan.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"

namespace unas::codegen {
namespace {

bool Overlap(const ArenaBuffer& a, const ArenaBuffer& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

// The [begin, end) byte ranges of the already placed buffers that are live
// together with `buffer`, sorted by begin.
std::vector<std::pair<int64_t, int64_t>> Occupied(const std::vector<ArenaBuffer>& buffers,
                                                  const std::vector<bool>& placed, int buffer) {
  std::vector<std::pair<int64_t, int64_t>> used;
  for (size_t b = 0; b < buffers.size(); ++b) {
    if (!placed[b] || !Overlap(buffers[b], buffers[buffer])) continue;
    used.emplace_back(buffers[b].offset, buffers[b].offset + buffers[b].size);
  }
  std::sort(used.begin(), used.end());
  return used;
}

// The free gaps between occupied ranges, the last one unbounded (end -1).
std::vector<std::pair<int64_t, int64_t>> Gaps(
    const std::vector<std::pair<int64_t, int64_t>>& used) {
  std::vector<std::pair<int64_t, int64_t>> gaps;
  int64_t cursor = 0;
  for (const auto& [begin, end] : used) {
    if (begin > cursor) gaps.emplace_back(cursor, begin);
    cursor = std::max(cursor, end);
  }
  gaps.emplace_back(cursor, -1);
  return gaps;
}

int64_t FirstFit(const std::vector<std::pair<int64_t, int64_t>>& gaps, int64_t size) {
  for (const auto& [begin, end] : gaps) {
    if (end < 0 || end - begin >= size) return begin;
  }
  return gaps.back().first;
}

int64_t BestFit(const std::vector<std::pair<int64_t, int64_t>>& gaps, int64_t size) {
  int64_t best = -1, best_length = 0;
  for (const auto& [begin, end] : gaps) {
    if (end < 0 || end - begin < size) continue;
    if (best < 0 || end - begin < best_length) {
      best = begin;
      best_length = end - begin;
    }
  }
  return best >= 0 ? best : gaps.back().first;
}

// Largest buffer first; among equals the one produced earlier.
std::vector<int> BySizeDescending(const std::vector<ArenaBuffer>& buffers) {
  std::vector<int> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (buffers[a].size != buffers[b].size) return buffers[a].size > buffers[b].size;
    return buffers[a].first_step < buffers[b].first_step;
  });
  return order;
}

// Largest step first (TFLite's "greedy by breadth"): the buffers live at the
// fullest step, largest first, then those of the next fullest step.
std::vector<int> ByBreadth(const std::vector<ArenaBuffer>& buffers) {
  int steps = 0;
  for (const ArenaBuffer& b : buffers) steps = std::max(steps, b.last_step + 1);
  std::vector<int64_t> live(steps, 0);
  for (const ArenaBuffer& b : buffers) {
    for (int s = b.first_step; s <= b.last_step; ++s) live[s] += b.size;
  }
  std::vector<int> by_live(steps);
  std::iota(by_live.begin(), by_live.end(), 0);
  std::stable_sort(by_live.begin(), by_live.end(), [&](int a, int b) { return live[a] > live[b]; });
  const std::vector<int> by_size = BySizeDescending(buffers);
  std::vector<int> order;
  std::vector<bool> taken(buffers.size(), false);
  for (int s : by_live) {
    for (int b : by_size) {
      if (taken[b] || buffers[b].first_step > s || buffers[b].last_step < s) continue;
      taken[b] = true;
      order.push_back(b);
    }
  }
  return order;
}

void PlaceInOrder(std::vector<ArenaBuffer>& buffers, const std::vector<int>& order, bool best_fit) {
  std::vector<bool> placed(buffers.size(), false);
  for (int b : order) {
    const auto gaps = Gaps(Occupied(buffers, placed, b));
    buffers[b].offset = best_fit ? BestFit(gaps, buffers[b].size) : FirstFit(gaps, buffers[b].size);
    placed[b] = true;
  }
}

// Production order; each buffer at the end of [0, target) opposite to the
// buffer of its producer's first input, else at the other end, else first fit
// above the target.
void PlaceTwoEnded(std::vector<ArenaBuffer>& buffers, const std::vector<int>& input_buffer,
                   int64_t target) {
  std::vector<int> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return buffers[a].first_step < buffers[b].first_step; });
  std::vector<bool> placed(buffers.size(), false);
  std::vector<bool> at_top(buffers.size(), false);
  for (int b : order) {
    const int64_t size = buffers[b].size;
    const auto gaps = Gaps(Occupied(buffers, placed, b));
    int64_t bottom = -1, top = -1;
    for (const auto& [begin, end_or_open] : gaps) {
      const int64_t end = end_or_open < 0 ? target : std::min(end_or_open, target);
      if (end - begin < size) continue;
      if (bottom < 0) bottom = begin;
      top = end - size;
    }
    const int from = input_buffer[b];
    const bool prefer_top = from >= 0 && placed[from] && !at_top[from];
    if (prefer_top && top >= 0) {
      buffers[b].offset = top;
      at_top[b] = true;
    } else if (bottom >= 0) {
      buffers[b].offset = bottom;
    } else if (top >= 0) {
      buffers[b].offset = top;
      at_top[b] = true;
    } else {
      buffers[b].offset = FirstFit(gaps, size);
    }
    placed[b] = true;
  }
}

int64_t ArenaEnd(const std::vector<ArenaBuffer>& buffers) {
  int64_t end = 0;
  for (const ArenaBuffer& b : buffers) end = std::max(end, b.offset + b.size);
  return end;
}

}  // namespace

const char* PlacementName(Placement placement) {
  switch (placement) {
    case Placement::kGreedyFirstFit:
      return "greedy by size, first fit";
    case Placement::kGreedyBestFit:
      return "greedy by size, best fit";
    case Placement::kBreadthFirstFit:
      return "greedy by breadth, first fit";
    case Placement::kBreadthBestFit:
      return "greedy by breadth, best fit";
    case Placement::kTwoEnded:
      return "two-ended";
  }
  return "?";
}

absl::StatusOr<MemoryPlan> PlanMemory(const rm::Graph& graph, std::span<const rm::OpId> order,
                                      const MemoryPlanOptions& options) {
  const int steps = static_cast<int>(order.size());
  std::vector<int> step_of(graph.num_ops(), -1);
  for (int s = 0; s < steps; ++s) {
    const rm::OpId id = order[s];
    if (id < 0 || id >= graph.num_ops() || graph.op(id).kind == rm::OpKind::kInput) {
      return absl::InvalidArgumentError(absl::StrCat("order[", s, "]: not a schedulable op"));
    }
    if (step_of[id] >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("order[", s, "]: op '", graph.op(id).name, "' runs twice"));
    }
    for (rm::TensorId in : graph.op(id).inputs) {
      const rm::OpId producer = graph.tensor(in).producer;
      if (graph.op(producer).kind != rm::OpKind::kInput && step_of[producer] < 0) {
        return absl::InvalidArgumentError(absl::StrCat("order[", s, "]: op '", graph.op(id).name,
                                                       "' runs before its input '",
                                                       graph.tensor(in).name, "' exists"));
      }
    }
    step_of[id] = s;
  }
  for (rm::OpId id = 0; id < graph.num_ops(); ++id) {
    if (graph.op(id).kind != rm::OpKind::kInput && step_of[id] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("the order leaves out op '", graph.op(id).name, "'"));
    }
  }
  if (steps == 0) return absl::InvalidArgumentError("the graph has no ops to run");

  MemoryPlan plan;
  plan.buffer_of.assign(graph.num_tensors(), -1);
  std::vector<int> last_use(graph.num_tensors(), -1);
  for (rm::TensorId t = 0; t < graph.num_tensors(); ++t) {
    const rm::Tensor& tensor = graph.tensor(t);
    if (tensor.is_constant) continue;
    const bool model_input = graph.op(tensor.producer).kind == rm::OpKind::kInput;
    if (model_input && !options.include_input) continue;
    const int first = model_input ? 0 : step_of[tensor.producer];
    int last = first;
    for (rm::OpId c : tensor.consumers) last = std::max(last, step_of[c]);
    if (graph.is_output(t)) last = steps - 1;
    last_use[t] = last;
    if (!model_input) continue;  // op outputs get their buffer below, in step order
    plan.buffer_of[t] = static_cast<int>(plan.buffers.size());
    plan.buffers.push_back(
        {.tensors = {t}, .size = tensor.bytes(), .first_step = 0, .last_step = last});
  }
  // Per buffer, the buffer of its producer's first input (two-ended placement).
  std::vector<int> input_buffer(plan.buffers.size(), -1);
  for (int s = 0; s < steps; ++s) {
    const rm::Operator& op = graph.op(order[s]);
    const rm::TensorId out = op.output;
    int shared = -1;
    if (options.add_inplace && op.kind == rm::OpKind::kAdd) {
      for (rm::TensorId in : op.inputs) {
        const int b = plan.buffer_of[in];
        if (b >= 0 && last_use[in] == s && !graph.is_output(in) &&
            graph.tensor(in).shape == graph.tensor(out).shape) {
          shared = b;
          break;
        }
      }
    }
    if (shared >= 0) {
      plan.buffer_of[out] = shared;
      plan.buffers[shared].tensors.push_back(out);
      plan.buffers[shared].last_step = std::max(plan.buffers[shared].last_step, last_use[out]);
      continue;
    }
    plan.buffer_of[out] = static_cast<int>(plan.buffers.size());
    plan.buffers.push_back({.tensors = {out},
                            .size = graph.tensor(out).bytes(),
                            .first_step = s,
                            .last_step = last_use[out]});
    input_buffer.push_back(op.inputs.empty() ? -1 : plan.buffer_of[op.inputs[0]]);
  }
  std::vector<int64_t> live(steps, 0);
  for (const ArenaBuffer& b : plan.buffers) {
    for (int s = b.first_step; s <= b.last_step; ++s) live[s] += b.size;
  }
  plan.peak_bytes = *std::max_element(live.begin(), live.end());

  std::vector<ArenaBuffer> best;
  for (Placement placement :
       {Placement::kGreedyFirstFit, Placement::kGreedyBestFit, Placement::kBreadthFirstFit,
        Placement::kBreadthBestFit, Placement::kTwoEnded}) {
    std::vector<ArenaBuffer> buffers = plan.buffers;
    switch (placement) {
      case Placement::kGreedyFirstFit:
      case Placement::kGreedyBestFit:
        PlaceInOrder(buffers, BySizeDescending(buffers), placement == Placement::kGreedyBestFit);
        break;
      case Placement::kBreadthFirstFit:
      case Placement::kBreadthBestFit:
        PlaceInOrder(buffers, ByBreadth(buffers), placement == Placement::kBreadthBestFit);
        break;
      case Placement::kTwoEnded:
        PlaceTwoEnded(buffers, input_buffer, plan.peak_bytes);
        break;
    }
    const int64_t arena = ArenaEnd(buffers);
    plan.arena_by_placement.push_back(arena);
    if (best.empty() || arena < plan.arena_bytes) {
      best = std::move(buffers);
      plan.arena_bytes = arena;
      plan.placement = placement;
    }
  }
  plan.buffers = std::move(best);
  return plan;
}

absl::Status CheckMemoryPlan(const MemoryPlan& plan) {
  for (size_t a = 0; a < plan.buffers.size(); ++a) {
    const ArenaBuffer& x = plan.buffers[a];
    if (x.offset < 0 || x.offset + x.size > plan.arena_bytes) {
      return absl::InternalError(absl::StrCat("arena buffer ", a, " lies outside the arena"));
    }
    for (size_t b = a + 1; b < plan.buffers.size(); ++b) {
      const ArenaBuffer& y = plan.buffers[b];
      if (Overlap(x, y) && x.offset < y.offset + y.size && y.offset < x.offset + x.size) {
        return absl::InternalError(
            absl::StrCat("arena buffers ", a, " and ", b, " are live together and overlap"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace unas::codegen
