// Exact polynomial-time PMU for a fork/join segment: one buffer x read by the first operator of
// n chains whose last operators feed one join operator (the CNN space's branch blocks, the main
// path and the tie-up pools between a block input and its Add). The proofs are in
// docs/resource_models.md ("PMU algorithm"); the comments here say what each part relies on.
//
// Each operator of a chain is a "block" (p, d): while it runs the arena holds p bytes more than
// before it (its output, or 0 when an Add works in place) and afterwards d bytes more (its output
// minus its freed input). Blocks of different chains are independent, so scheduling is merging
// the chains, and the peak is max over blocks of (level before + p). For independent blocks the
// exchange argument gives a total preorder "J before K is never worse":
//   d <= 0 before d > 0; among d <= 0 smaller p first; among d > 0 larger p - d first.
// Two consecutive blocks J, K of one chain with K strictly preferred to J can be fused into one
// block (max(p_J, d_J + p_K), d_J + d_K) without losing the optimum (whatever runs between them
// can be moved before J or after K). After fusing, every chain is sorted, and merging all chains
// by the preorder is optimal (Abdel-Wahab and Kameda's max-cumulative-cost rule).
//
// The fork buffer x couples the chains: it stays live until the last chain has started. Fusing
// the first operator of a chain with its successor is therefore not always safe, so each chain
// keeps its first operator as a separate unit; fusing among the other operators stays safe
// (x's release depends only on first operators). A polynomial family of schedules (which chain
// starts last, and a threshold on the preference order for what the others run before it) gives
// a candidate; when it meets a lower bound it is optimal. Otherwise the general exact search
// (pmu_general.cc) looks for a strictly better schedule, pruned by the candidate's peak and
// started at the lower bound; finding none proves the candidate optimal.

#include <algorithm>
#include <limits>
#include <vector>

#include "resource_models/pmu_internal.h"

namespace unas::rm::internal {
namespace {

struct Block {
  int64_t p = 0;  // peak above the level before the block
  int64_t d = 0;  // level change over the block
  int first = 0;  // operator range [first, last] within the chain
  int last = 0;
};

// True when J should run strictly before K (see the file comment).
bool Preferred(const Block& j, const Block& k) {
  const bool j_down = j.d <= 0;
  const bool k_down = k.d <= 0;
  if (j_down != k_down) return j_down;
  if (j_down) return j.p < k.p;
  return j.p - j.d > k.p - k.d;
}

// Fuses consecutive blocks until the sequence is sorted by preference (a stack pass).
std::vector<Block> FuseChain(const std::vector<Block>& blocks) {
  std::vector<Block> out;
  for (const Block& b : blocks) {
    out.push_back(b);
    while (out.size() >= 2 && Preferred(out.back(), out[out.size() - 2])) {
      const Block k = out.back();
      out.pop_back();
      Block& j = out.back();
      j.p = std::max(j.p, j.d + k.p);
      j.d += k.d;
      j.last = k.last;
    }
  }
  return out;
}

struct Chain {
  std::vector<int> ops = {};      // problem op indices, in order
  std::vector<Block> units = {};  // [first op] + fused rest, or all fused when x is not freed here
  std::vector<Block> free_units = {};  // all ops fused as if x were free (for the lower bound)
  std::vector<Block> blocks = {};      // one per operator, unfused
  int64_t last_gap = 0;  // p - d of the last operator: its step is (level at the end) + last_gap
};

class ForkJoinSolver {
 public:
  ForkJoinSolver(const Problem& p, const Segment& seg) : p_(p), seg_(seg) {}

  // Recognises the shape; false when the segment is not a fork/join of chains.
  bool Recognise() {
    const int join = seg_.end - 1;
    if (seg_.end - seg_.begin < 3) return false;
    int x = -1;
    std::vector<int> next(p_.ops.size(), -1);
    for (int i = seg_.begin; i < join; ++i) {
      const SchedOp& op = p_.ops[i];
      if (op.inputs.size() != 1) return false;
      const Buffer& out = p_.buffers[op.output];
      if (out.persistent || out.consumers.size() != 1 || out.consumers[0] >= seg_.end) {
        return false;
      }
      next[i] = out.consumers[0];
      const int in = op.inputs[0];
      if (p_.buffers[in].producer < seg_.begin) {  // a chain head
        if (x >= 0 && in != x) return false;
        x = in;
        if (!op.inplace_inputs.empty()) return false;  // would depend on x's other readers
        chains_.push_back(Chain{.ops = {i}});
      }
    }
    if (x < 0) return false;
    int64_t ops_in_chains = 0;
    for (Chain& c : chains_) {
      for (int o = next[c.ops[0]]; o != join; o = next[o]) c.ops.push_back(o);
      ops_in_chains += static_cast<int64_t>(c.ops.size());
    }
    if (ops_in_chains != join - seg_.begin) return false;  // an op reads something else
    for (int in : p_.ops[join].inputs) {
      const int prod = p_.buffers[in].producer;
      if (in != x && (prod < seg_.begin || prod >= join)) return false;
    }
    const Buffer& xb = p_.buffers[x];
    bool freeable = !xb.persistent && xb.size > 0;
    for (int c : xb.consumers) freeable = freeable && c < join;
    x_release_ = freeable ? xb.size : 0;
    for (Chain& c : chains_) {
      std::vector<Block> blocks;
      int64_t prev = 0;
      for (size_t k = 0; k < c.ops.size(); ++k) {
        const SchedOp& op = p_.ops[c.ops[k]];
        const int64_t s = p_.buffers[op.output].size;
        const bool inplace = k > 0 && !op.inplace_inputs.empty();
        blocks.push_back(Block{.p = inplace ? 0 : s,
                               .d = s - prev,
                               .first = static_cast<int>(k),
                               .last = static_cast<int>(k)});
        prev = s;
      }
      c.blocks = blocks;
      c.last_gap = blocks.back().p - blocks.back().d;
      c.free_units = FuseChain(blocks);
      if (x_release_ > 0) {
        c.units.push_back(blocks[0]);
        std::vector<Block> rest(blocks.begin() + 1, blocks.end());
        for (const Block& b : FuseChain(rest)) c.units.push_back(b);
      } else {
        c.units = FuseChain(blocks);
      }
    }
    return true;
  }

  absl::StatusOr<SegmentSchedule> Solve(int64_t max_states, bool candidate_on_limit) {
    std::vector<bool> done(p_.ops.size(), false);
    for (int i = 0; i < seg_.begin; ++i) done[i] = true;
    const int64_t start_level = LevelAfter(p_, done);
    // The join runs last, after every chain: its step is fixed.
    const int join = seg_.end - 1;
    for (int i = seg_.begin; i < join; ++i) done[i] = true;
    const int64_t before_join = LevelAfter(p_, done);
    before_join_ = before_join;
    bool join_inplace = false;
    for (int in : p_.ops[join].inplace_inputs) {
      bool last = true;
      for (int c : p_.buffers[in].consumers) last = last && (c == join || done[c]);
      join_inplace = join_inplace || last;
    }
    const int64_t join_step =
        before_join + (join_inplace ? 0 : p_.buffers[p_.ops[join].output].size);

    if (x_release_ == 0) {
      // No coupling: every chain is independent from the start, and the merge of their
      // (sorted) units is optimal.
      std::vector<std::vector<Block>> units;
      for (const Chain& c : chains_) units.push_back(c.units);
      std::vector<std::pair<int, int>> steps;
      MergeUnits(units, &steps);
      SegmentSchedule s{.peak = std::numeric_limits<int64_t>::max(), .order = {}};
      Consider(steps, start_level, &s);
      s.peak = std::max(s.peak, join_step);
      s.order.push_back(join);
      return s;
    }
    // A polynomial family of schedules gives an upper bound; when it meets the lower bound the
    // schedule is optimal and no search is needed (the common case, see the benchmark).
    const int64_t lower = std::max({start_level, join_step, RootLowerBound(start_level)});
    SegmentSchedule h = HeuristicSchedule(start_level, lower);
    h.peak = std::max(h.peak, join_step);
    h.order.push_back(join);
    if (h.peak <= lower) return h;
    // Otherwise search for a strictly better schedule; none found proves the heuristic optimal.
    absl::StatusOr<SegmentSchedule> better =
        SolveGeneral(p_, seg_, max_states, SearchBounds{.floor = lower, .upper = h.peak});
    if (absl::IsNotFound(better.status())) return h;
    if (absl::IsResourceExhausted(better.status()) && candidate_on_limit) {
      h.optimal = false;
      return h;
    }
    return better;
  }

 private:
  // The best schedule of a polynomial family (an upper bound): for every choice of the chain z
  // that starts last (and so frees x) and every threshold on the preference order, each other
  // chain runs, before z starts, its first operator and then the units of its rest preferred
  // over the threshold; phase 1 is the optimal merge of those prefixes, phase 2 the optimal
  // merge of what is left. n chains and m units give O(n * m) candidates of O(m * n) each.
  // Stops early once a schedule reaches `good_enough` (a lower bound: it cannot be beaten).
  SegmentSchedule HeuristicSchedule(int64_t start_level, int64_t good_enough) const {
    SegmentSchedule best;
    best.peak = std::numeric_limits<int64_t>::max();
    ThresholdFamily(start_level, good_enough, &best);
    return best;
  }

  // Evaluates a schedule given as (chain, operator) steps from `start_level` and keeps it in
  // *best when its peak is lower.
  void Consider(const std::vector<std::pair<int, int>>& steps, int64_t start_level,
                SegmentSchedule* best) const {
    const int n = static_cast<int>(chains_.size());
    int64_t level = start_level;
    int64_t peak = start_level;
    int started = 0;
    for (const auto& [c, k] : steps) {
      const Block& b = chains_[c].blocks[k];
      peak = std::max(peak, level + b.p);
      level += b.d;
      if (k == 0 && ++started == n) level -= x_release_;
    }
    if (peak < best->peak) {
      best->peak = peak;
      best->order.clear();
      for (const auto& [c, k] : steps) best->order.push_back(chains_[c].ops[k]);
    }
  }

  // Merges fused unit lists by preference, appending their operators to `steps`.
  static void MergeUnits(const std::vector<std::vector<Block>>& units,
                         std::vector<std::pair<int, int>>* steps) {
    const int n = static_cast<int>(units.size());
    std::vector<size_t> pos(n, 0);
    while (true) {
      int pick = -1;
      for (int i = 0; i < n; ++i) {
        if (pos[i] >= units[i].size()) continue;
        if (pick < 0 || Preferred(units[i][pos[i]], units[pick][pos[pick]])) pick = i;
      }
      if (pick < 0) break;
      const Block& u = units[pick][pos[pick]++];
      for (int k = u.first; k <= u.last; ++k) steps->push_back({pick, k});
    }
  }

  void ThresholdFamily(int64_t start_level, int64_t good_enough, SegmentSchedule* best) const {
    const int n = static_cast<int>(chains_.size());
    std::vector<Block> thresholds;
    for (const Chain& c : chains_) {
      for (size_t u = 1; u < c.units.size(); ++u) thresholds.push_back(c.units[u]);
    }
    thresholds.push_back(Block{.p = std::numeric_limits<int64_t>::max() / 4, .d = 1});  // none
    std::vector<std::pair<int, int>> steps;
    std::vector<std::vector<Block>> phase(n);
    std::vector<int> cut(n);
    for (int z = 0; z < n; ++z) {
      for (const Block& tau : thresholds) {
        for (int c = 0; c < n; ++c) {
          cut[c] = 0;
          if (c == z) continue;
          const std::vector<Block>& u = chains_[c].units;
          size_t k = 1;
          while (k < u.size() && !Preferred(tau, u[k])) ++k;
          cut[c] = k < u.size() ? u[k].first : static_cast<int>(chains_[c].blocks.size());
        }
        steps.clear();
        for (int c = 0; c < n; ++c) {
          const std::vector<Block>& b = chains_[c].blocks;
          phase[c] = c == z ? std::vector<Block>{} : FuseChain({b.begin(), b.begin() + cut[c]});
        }
        MergeUnits(phase, &steps);
        steps.push_back({z, 0});
        cut[z] = 1;
        for (int c = 0; c < n; ++c) {
          const std::vector<Block>& b = chains_[c].blocks;
          phase[c] = FuseChain({b.begin() + cut[c], b.end()});
        }
        MergeUnits(phase, &steps);
        Consider(steps, start_level, best);
        if (best->peak <= good_enough) return;
      }
    }
  }

  // A lower bound from the end of the segment: the operator that runs last before the join is
  // the last operator of some chain, and it runs when everything else has: at the level before
  // the join minus its own level change, plus its own peak.
  int64_t EndBound() const {
    int64_t best = std::numeric_limits<int64_t>::max();
    for (const Chain& c : chains_) best = std::min(best, c.last_gap);
    return before_join_ + best;
  }

  // A second lower bound from the coupling itself: the last chain to start runs while x is
  // still live, and by then every other chain holds at least its lowest reachable residual
  // (its first operator and its leading down units run). Relaxation: the down units are assumed
  // to fit, and the best choice of the last chain is taken.
  int64_t CoupledBound(int64_t level) const {
    int64_t best_last = std::numeric_limits<int64_t>::max();
    for (const Chain& c : chains_) {
      const std::vector<Block>& u = c.units;
      int64_t residual = u[0].d;
      for (size_t k = 1; k < u.size() && u[k].d <= 0; ++k) residual += u[k].d;
      level += residual;
      best_last = std::min(best_last, u[0].p - residual);
    }
    return level + best_last;
  }

  // A lower bound on every schedule of the segment: the same problem with x freed at once (a
  // relaxation: x only ever adds memory), solved exactly by the closed-form merge of the chains'
  // x-free fusions, together with the coupled and end bounds.
  int64_t RootLowerBound(int64_t level) const {
    const int n = static_cast<int>(chains_.size());
    const int64_t coupled = std::max(CoupledBound(level), EndBound());
    std::vector<size_t> pos(n, 0);
    level -= x_release_;
    int64_t peak = std::max(level, coupled);
    while (true) {
      int best = -1;
      for (int i = 0; i < n; ++i) {
        const std::vector<Block>& u = chains_[i].free_units;
        if (pos[i] >= u.size()) continue;
        if (best < 0 || Preferred(u[pos[i]], chains_[best].free_units[pos[best]])) best = i;
      }
      if (best < 0) break;
      const Block& b = chains_[best].free_units[pos[best]++];
      peak = std::max(peak, level + b.p);
      level += b.d;
    }
    return peak;
  }

  const Problem& p_;
  Segment seg_;
  std::vector<Chain> chains_;
  int64_t x_release_ = 0;
  int64_t before_join_ = 0;  // level once every chain has run (x freed)
};

}  // namespace

absl::StatusOr<SegmentSchedule> SolveForkJoin(const Problem& problem, const Segment& segment,
                                              int64_t max_states, bool candidate_on_limit) {
  ForkJoinSolver solver(problem, segment);
  if (!solver.Recognise()) return absl::NotFoundError("not a fork/join segment");
  return solver.Solve(max_states, candidate_on_limit);
}

}  // namespace unas::rm::internal
