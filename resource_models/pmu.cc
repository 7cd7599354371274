#include "resource_models/pmu.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "resource_models/pmu_internal.h"

namespace unas::rm {
namespace internal {

Problem BuildProblem(const Graph& graph, const PmuOptions& options) {
  Problem p;
  p.buffers.resize(graph.num_tensors());
  std::vector<int> sched_index(graph.num_ops(), -1);
  for (OpId id = 0; id < graph.num_ops(); ++id) {
    if (graph.op(id).kind == OpKind::kInput) continue;
    sched_index[id] = static_cast<int>(p.ops.size());
    p.ops.push_back(SchedOp{.graph_op = id, .output = graph.op(id).output});
  }
  for (TensorId t = 0; t < graph.num_tensors(); ++t) {
    const Tensor& tensor = graph.tensor(t);
    if (tensor.is_constant) continue;
    Buffer& b = p.buffers[t];
    const bool is_model_input = graph.op(tensor.producer).kind == OpKind::kInput;
    b.size = is_model_input && !options.include_input ? 0 : tensor.bytes();
    b.producer = sched_index[tensor.producer];
    for (OpId c : tensor.consumers) b.consumers.push_back(sched_index[c]);
    b.persistent = graph.is_output(t);
    if (is_model_input) p.initial_level += b.size;
  }
  for (SchedOp& op : p.ops) {
    const Operator& gop = graph.op(op.graph_op);
    for (TensorId in : gop.inputs) {
      if (std::find(op.inputs.begin(), op.inputs.end(), in) == op.inputs.end()) {
        op.inputs.push_back(in);
      }
    }
    if (options.add_inplace && gop.kind == OpKind::kAdd) {
      for (int in : op.inputs) {
        const Buffer& b = p.buffers[in];
        // Writing into a buffer the arena does not hold (an excluded model input) would hide the
        // output's memory, and an output buffer must keep its value: neither can be reused.
        if (graph.tensor(in).shape == graph.tensor(op.output).shape && b.size > 0 &&
            !b.persistent) {
          op.inplace_inputs.push_back(in);
        }
      }
    }
  }
  return p;
}

std::vector<Segment> SplitIntoSegments(const Problem& problem) {
  const int n = static_cast<int>(problem.ops.size());
  const int words = (n + 63) / 64;
  // anc[i]: bitset of the (schedulable) ancestors of op i.
  std::vector<std::vector<uint64_t>> anc(n, std::vector<uint64_t>(words, 0));
  std::vector<int> num_desc(n, 0);
  for (int i = 0; i < n; ++i) {
    for (int in : problem.ops[i].inputs) {
      const int p = problem.buffers[in].producer;
      if (p < 0) continue;
      for (int w = 0; w < words; ++w) anc[i][w] |= anc[p][w];
      anc[i][p / 64] |= uint64_t{1} << (p % 64);
    }
  }
  std::vector<int> num_anc(n, 0);
  for (int i = 0; i < n; ++i) {
    for (int w = 0; w < words; ++w) {
      num_anc[i] += __builtin_popcountll(anc[i][w]);
      uint64_t bits = anc[i][w];
      while (bits != 0) {
        ++num_desc[w * 64 + __builtin_ctzll(bits)];
        bits &= bits - 1;
      }
    }
  }
  std::vector<Segment> segments;
  int begin = 0;
  for (int i = 0; i < n; ++i) {
    if (num_anc[i] + num_desc[i] == n - 1) {
      segments.push_back({begin, i + 1});
      begin = i + 1;
    }
  }
  if (begin < n) segments.push_back({begin, n});
  return segments;
}

int64_t LevelAfter(const Problem& problem, const std::vector<bool>& done) {
  int64_t level = 0;
  for (const Buffer& b : problem.buffers) {
    if (b.producer >= 0 && !done[b.producer]) continue;
    if (b.size == 0) continue;
    bool live = b.persistent;
    for (int c : b.consumers) live = live || !done[c];
    if (live || (b.producer < 0 && b.consumers.empty())) level += b.size;
  }
  return level;
}

Arena::Arena(const Problem& problem, const std::vector<bool>& done)
    : problem_(problem), level_(LevelAfter(problem, done)), pending_(problem.buffers.size(), 0) {
  for (size_t b = 0; b < problem.buffers.size(); ++b) {
    for (int c : problem.buffers[b].consumers) pending_[b] += done[c] ? 0 : 1;
  }
}

int64_t Arena::StepOf(int op) const {
  for (int in : problem_.ops[op].inplace_inputs) {
    if (pending_[in] == 1) return level_;  // writes into that input
  }
  return level_ + problem_.buffers[problem_.ops[op].output].size;
}

int64_t Arena::LevelAfterRunning(int op) const {
  int64_t after = level_ + problem_.buffers[problem_.ops[op].output].size;
  for (int in : problem_.ops[op].inputs) {
    const Buffer& b = problem_.buffers[in];
    if (pending_[in] == 1 && !b.persistent) after -= b.size;
  }
  return after;
}

void Arena::Run(int op) {
  level_ = LevelAfterRunning(op);
  for (int in : problem_.ops[op].inputs) --pending_[in];
}

}  // namespace internal

namespace {

using internal::Problem;

// Replays `order` (schedulable op indices) and fills step memory; also validates it.
absl::StatusOr<PmuResult> Replay(const Graph& graph, const Problem& p,
                                 const std::vector<int>& order) {
  const int n = static_cast<int>(p.ops.size());
  if (static_cast<int>(order.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("order has ", order.size(), " operators, the graph has ", n));
  }
  std::vector<bool> done(n, false);
  internal::Arena arena(p, done);
  PmuResult result;
  for (int i : order) {
    if (i < 0 || i >= n) return absl::InvalidArgumentError("order names an unknown operator");
    const std::string& name = graph.op(p.ops[i].graph_op).name;
    if (done[i]) {
      return absl::InvalidArgumentError(absl::StrCat("operator '", name, "' runs twice"));
    }
    for (int in : p.ops[i].inputs) {
      const int prod = p.buffers[in].producer;
      if (prod >= 0 && !done[prod]) {
        return absl::InvalidArgumentError(absl::StrCat("operator '", name, "' runs before '",
                                                       graph.op(p.ops[prod].graph_op).name,
                                                       "', which produces its input"));
      }
    }
    result.step_bytes.push_back(arena.StepOf(i));
    result.order.push_back(p.ops[i].graph_op);
    done[i] = true;
    arena.Run(i);
  }
  result.peak_bytes = p.initial_level;
  for (int64_t s : result.step_bytes) result.peak_bytes = std::max(result.peak_bytes, s);
  return result;
}

}  // namespace

absl::StatusOr<PmuResult> SimulateOrder(const Graph& graph, std::span<const OpId> order,
                                        const PmuOptions& options) {
  if (absl::Status s = graph.Validate(); !s.ok()) return s;
  const Problem p = internal::BuildProblem(graph, options);
  std::vector<int> sched(graph.num_ops(), -1);
  for (size_t i = 0; i < p.ops.size(); ++i) sched[p.ops[i].graph_op] = static_cast<int>(i);
  std::vector<int> local;
  for (OpId id : order) {
    if (id < 0 || id >= graph.num_ops()) {
      return absl::InvalidArgumentError(absl::StrCat("order names unknown operator id ", id));
    }
    if (sched[id] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("order names input '", graph.op(id).name, "', which is not scheduled"));
    }
    local.push_back(sched[id]);
  }
  return Replay(graph, p, local);
}

absl::StatusOr<PmuResult> ComputePmu(const Graph& graph, const PmuOptions& options) {
  if (absl::Status s = graph.Validate(); !s.ok()) return s;
  const Problem p = internal::BuildProblem(graph, options);
  std::vector<internal::Segment> segments;
  const int n = static_cast<int>(p.ops.size());
  if (options.algorithm == PmuAlgorithm::kGeneral) {
    if (n > 0) segments.push_back({0, n});
  } else {
    segments = internal::SplitIntoSegments(p);
  }
  const bool upper_bound_on_limit = options.on_search_limit == SearchLimitPolicy::kUpperBound;
  std::vector<int> order;
  int64_t peak = p.initial_level;
  bool optimal = true;
  for (const internal::Segment& seg : segments) {
    absl::StatusOr<internal::SegmentSchedule> s = absl::NotFoundError("");
    if (options.algorithm == PmuAlgorithm::kAuto) {
      s = internal::SolveForkJoin(p, seg, options.max_search_states, upper_bound_on_limit);
    }
    if (absl::IsNotFound(s.status())) {
      s = internal::SolveGeneral(p, seg, options.max_search_states);
      if (absl::IsResourceExhausted(s.status()) && upper_bound_on_limit) {
        s = internal::GreedySchedule(p, seg);
      }
    }
    if (!s.ok()) return s.status();
    peak = std::max(peak, s->peak);
    optimal = optimal && s->optimal;
    order.insert(order.end(), s->order.begin(), s->order.end());
  }
  absl::StatusOr<PmuResult> result = Replay(graph, p, order);
  if (!result.ok()) return result.status();
  if (result->peak_bytes != peak) {
    return absl::InternalError(absl::StrCat("PMU solver inconsistency: solver peak ", peak,
                                            ", replayed order peak ", result->peak_bytes));
  }
  result->optimal = optimal;
  return result;
}

}  // namespace unas::rm
