// The general exact PMU search: a best-first (bottleneck Dijkstra) search over the sets of
// executed operators of one segment.
//
// The memory of a step depends only on the set D of operators already executed and on the
// operator o that runs, never on the order in which D was executed. So the problem is a
// bottleneck shortest path from {} to "all" in the lattice of downward-closed sets, with edge
// weight step(D, o). Popping states in non-decreasing order of their bottleneck value makes the
// first popped final state optimal.
//
// Before a state is stored it is closed under *safe moves* (docs/resource_models.md, Lemma 1):
// a sequence of operators whose steps all fit in the current bottleneck and after which fewer
// (or as many) bytes are live than before or at any point of the sequence. Moving such a
// sequence to the front of any schedule never raises any later step, so it cannot lose the
// optimum; it removes most of the lattice on chain-like graphs.

#include <array>
#include <queue>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "resource_models/pmu_internal.h"

namespace unas::rm::internal {
namespace {

template <int W>
using Bits = std::array<uint64_t, W>;

template <int W>
bool Test(const Bits<W>& b, int i) {
  return (b[i >> 6] >> (i & 63)) & 1;
}
template <int W>
void Set(Bits<W>& b, int i) {
  b[i >> 6] |= uint64_t{1} << (i & 63);
}
template <int W>
bool SubsetOf(const Bits<W>& a, const Bits<W>& b) {
  for (int w = 0; w < W; ++w) {
    if ((a[w] & ~b[w]) != 0) return false;
  }
  return true;
}

struct LocalInput {
  int64_t size = 0;
  bool never_freed = false;  // persistent, or consumed after the segment
  bool inplace = false;      // an in-place candidate of this (Add) op
  int buffer = -1;
};

template <int W>
struct LocalOp {
  Bits<W> preds{};  // local producers of its inputs
  std::vector<LocalInput> inputs;
  std::vector<Bits<W>> input_consumers;  // local consumers of each input (incl. this op)
  int64_t out = 0;
  int next = -1;  // the single local consumer of its output, when it has exactly one
};

template <int W>
class GeneralSolver {
 public:
  GeneralSolver(const Problem& p, const Segment& seg) : p_(p), seg_(seg) {
    m_ = seg.end - seg.begin;
    ops_.resize(m_);
    for (int j = 0; j < m_; ++j) {
      const SchedOp& op = p.ops[seg.begin + j];
      LocalOp<W>& lo = ops_[j];
      lo.out = p.buffers[op.output].size;
      for (int in : op.inputs) {
        const Buffer& b = p.buffers[in];
        if (b.producer >= seg.begin) Set<W>(lo.preds, b.producer - seg.begin);
        LocalInput li{.size = b.size, .never_freed = b.persistent, .buffer = in};
        Bits<W> cons{};
        for (int c : b.consumers) {
          if (c >= seg.end) li.never_freed = true;
          if (c >= seg.begin && c < seg.end) Set<W>(cons, c - seg.begin);
        }
        for (int cand : op.inplace_inputs) li.inplace = li.inplace || cand == in;
        lo.inputs.push_back(li);
        lo.input_consumers.push_back(cons);
      }
      const Buffer& ob = p.buffers[op.output];
      if (ob.consumers.size() == 1 && ob.consumers[0] < seg.end) {
        lo.next = ob.consumers[0] - seg.begin;
      }
    }
    std::vector<bool> done(p.ops.size(), false);
    for (int i = 0; i < seg.begin; ++i) done[i] = true;
    start_level_ = LevelAfter(p, done);
  }

  absl::StatusOr<SegmentSchedule> Solve(int64_t max_states, SearchBounds bounds) {
    // A lower bound on the answer: every step holds its operator's inputs and (unless it can
    // work in place) its output; the first step holds everything live at the start.
    int64_t bound = start_level_;
    for (const LocalOp<W>& op : ops_) {
      int64_t need = 0;
      bool inplace = false;
      for (const LocalInput& in : op.inputs) {
        need += in.size;
        inplace = inplace || in.inplace;
      }
      bound = std::max(bound, need + (inplace ? 0 : op.out));
    }
    bound = std::max(bound, bounds.floor);
    if (bound >= bounds.upper) return NoneBelow(bounds.upper);
    Bits<W> all{};
    for (int j = 0; j < m_; ++j) Set<W>(all, j);

    nodes_.push_back(Node{.state = {}, .level = start_level_, .parent = -1, .ops = {}});
    Close(nodes_[0], bound);
    using Entry = std::pair<int64_t, int>;  // (bottleneck, node)
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
    absl::flat_hash_map<Bits<W>, int64_t> best;
    queue.push({bound, 0});
    best[nodes_[0].state] = bound;
    int64_t expanded = 0;
    while (!queue.empty()) {
      const auto [b, idx] = queue.top();
      queue.pop();
      const Bits<W> state = nodes_[idx].state;
      auto it = best.find(state);
      if (it != best.end() && it->second < b) continue;  // a better copy was expanded
      if (state == all) return Reconstruct(idx, b);
      if (++expanded > max_states) {
        return absl::ResourceExhaustedError(
            absl::StrCat("PMU search expanded more than ", max_states,
                         " states; the graph is too wide for the exact search"));
      }
      it->second = -1;  // settled: nothing can beat it any more
      for (int j = 0; j < m_; ++j) {
        if (Test<W>(state, j) || !SubsetOf<W>(ops_[j].preds, state)) continue;
        const int64_t lvl = nodes_[idx].level;
        const int64_t nb = std::max(b, Step(state, lvl, j));
        if (nb >= bounds.upper) continue;  // not better than what the caller has
        Node child{.state = state, .level = After(state, lvl, j), .parent = idx, .ops = {j}};
        Set<W>(child.state, j);
        Close(child, nb);
        auto [pos, inserted] = best.try_emplace(child.state, nb);
        if (!inserted) {
          if (pos->second <= nb) continue;  // settled (-1) or already reached as cheaply
          pos->second = nb;
        }
        nodes_.push_back(std::move(child));
        queue.push({nb, static_cast<int>(nodes_.size()) - 1});
      }
    }
    if (bounds.upper != std::numeric_limits<int64_t>::max()) return NoneBelow(bounds.upper);
    return absl::InternalError("PMU search found no schedule");
  }

 private:
  struct Node {
    Bits<W> state;
    int64_t level;
    int parent;
    std::vector<int> ops;  // executed from the parent's state, in order
  };

  static absl::Status NoneBelow(int64_t upper) {
    return absl::NotFoundError(absl::StrCat("no schedule with a peak below ", upper));
  }

  bool Freed(const Bits<W>& done_with_j, const LocalOp<W>& op, size_t k) const {
    return !op.inputs[k].never_freed && SubsetOf<W>(op.input_consumers[k], done_with_j);
  }

  // Bytes live while op j runs from `state` (whose live bytes are `level`).
  int64_t Step(const Bits<W>& state, int64_t level, int j) const {
    const LocalOp<W>& op = ops_[j];
    Bits<W> with = state;
    Set<W>(with, j);
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      if (op.inputs[k].inplace && Freed(with, op, k)) return level;
    }
    return level + op.out;
  }

  int64_t After(const Bits<W>& state, int64_t level, int j) const {
    const LocalOp<W>& op = ops_[j];
    Bits<W> with = state;
    Set<W>(with, j);
    level += op.out;
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      if (Freed(with, op, k)) level -= op.inputs[k].size;
    }
    return level;
  }

  // Applies safe moves with steps <= budget until none is left.
  void Close(Node& node, int64_t budget) const {
    std::vector<int> seq;
    for (bool changed = true; changed;) {
      changed = false;
      for (int j = 0; j < m_ && !changed; ++j) {
        if (Test<W>(node.state, j) || !SubsetOf<W>(ops_[j].preds, node.state)) continue;
        Bits<W> cur = node.state;
        int64_t lvl = node.level;
        int64_t min_lvl = lvl;
        size_t best_len = 0;
        Bits<W> best_state = cur;
        int64_t best_level = lvl;
        seq.clear();
        for (int o = j; o >= 0;) {
          if (Step(cur, lvl, o) > budget) break;
          lvl = After(cur, lvl, o);
          Set<W>(cur, o);
          seq.push_back(o);
          if (lvl <= min_lvl) {
            min_lvl = lvl;
            best_len = seq.size();
            best_state = cur;
            best_level = lvl;
          }
          const int nx = ops_[o].next;
          o = (nx >= 0 && SubsetOf<W>(ops_[nx].preds, cur)) ? nx : -1;
        }
        if (best_len > 0) {
          node.state = best_state;
          node.level = best_level;
          node.ops.insert(node.ops.end(), seq.begin(), seq.begin() + best_len);
          changed = true;
        }
      }
    }
  }

  SegmentSchedule Reconstruct(int idx, int64_t peak) const {
    std::vector<int> rev;
    for (int i = idx; i >= 0; i = nodes_[i].parent) {
      for (auto it = nodes_[i].ops.rbegin(); it != nodes_[i].ops.rend(); ++it) rev.push_back(*it);
    }
    SegmentSchedule s;
    s.peak = peak;
    for (auto it = rev.rbegin(); it != rev.rend(); ++it) s.order.push_back(seg_.begin + *it);
    return s;
  }

  const Problem& p_;
  Segment seg_;
  int m_ = 0;
  int64_t start_level_ = 0;
  std::vector<LocalOp<W>> ops_;
  std::vector<Node> nodes_;
};

}  // namespace

absl::StatusOr<SegmentSchedule> SolveGeneral(const Problem& problem, const Segment& segment,
                                             int64_t max_states, SearchBounds bounds) {
  const int m = segment.end - segment.begin;
  if (m <= 64) return GeneralSolver<1>(problem, segment).Solve(max_states, bounds);
  if (m <= 128) return GeneralSolver<2>(problem, segment).Solve(max_states, bounds);
  if (m <= 256) return GeneralSolver<4>(problem, segment).Solve(max_states, bounds);
  if (m <= 512) return GeneralSolver<8>(problem, segment).Solve(max_states, bounds);
  return absl::ResourceExhaustedError(
      absl::StrCat("a segment of ", m,
                   " operators without a single-operator cut is too large for the exact "
                   "PMU search (limit 512)"));
}

}  // namespace unas::rm::internal
