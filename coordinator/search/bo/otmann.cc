#include "coordinator/search/bo/otmann.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>
#include <vector>

#include "coordinator/search/bo/transport.h"

namespace unas::search::bo {

double LabelMismatch(const Layer& a, const Layer& b) {
  if (a.group != b.group) return std::numeric_limits<double>::infinity();
  auto differs = [](bool x, bool y) { return x != y ? 0.1 : 0.0; };
  switch (a.group) {
    case LayerGroup::kConv:
      return std::sqrt(2.0 * std::abs(a.kernel - b.kernel)) / 10.0 +
             differs(a.batch_norm, b.batch_norm) + differs(a.relu, b.relu) +
             differs(a.depthwise, b.depthwise);
    case LayerGroup::kPool:
      return a.average_pool != b.average_pool ? 0.5 : 0.0;
    case LayerGroup::kDense:
      return differs(a.batch_norm, b.batch_norm) + differs(a.relu, b.relu);
    default:  // input, output, aggregate: one label each
      return 0.0;
  }
}

double StructuralCost(const LayerGraph& a, int layer_a, const LayerGraph& b, int layer_b) {
  double backward = 0, forward = 0;
  for (int f = 0; f < kNumPathFeatures; ++f) {
    backward += std::abs(a.backward[layer_a][f] - b.backward[layer_b][f]);
    forward += std::abs(a.forward[layer_a][f] - b.forward[layer_b][f]);
  }
  return 0.5 * (backward + forward) / kNumPathFeatures;
}

namespace {

// kCoefficientPairs' indices by increasing structural coefficient.
constexpr std::array<int, kNumCoefficientPairs> kByStructural = [] {
  std::array<int, kNumCoefficientPairs> order{};
  for (int i = 0; i < kNumCoefficientPairs; ++i) order[i] = i;
  for (int i = 1; i < kNumCoefficientPairs; ++i) {
    for (int j = i; j > 0 && kCoefficientPairs[order[j]].structural <
                                 kCoefficientPairs[order[j - 1]].structural;
         --j) {
      std::swap(order[j], order[j - 1]);
    }
  }
  return order;
}();

}  // namespace

OtmannDistance ComputeOtmannDistance(const LayerGraph& a, const LayerGraph& b) {
  OtmannDistance d;
  std::array<double, kNumCoefficientPairs> lp{};
  // Scratch kept per thread: distances are computed by the thousand.
  thread_local std::vector<int> rows, cols;
  thread_local std::vector<double> row_mass, col_mass;
  thread_local std::vector<std::vector<double>> costs(kNumCoefficientPairs);
  for (int group = 0; group < kNumLayerGroups; ++group) {
    rows.clear();
    cols.clear();
    row_mass.clear();
    col_mass.clear();
    for (int i = 0; i < static_cast<int>(a.layers.size()); ++i) {
      if (static_cast<int>(a.layers[i].group) != group) continue;
      rows.push_back(i);
      row_mass.push_back(a.layers[i].mass);
    }
    for (int j = 0; j < static_cast<int>(b.layers.size()); ++j) {
      if (static_cast<int>(b.layers[j].group) != group) continue;
      cols.push_back(j);
      col_mass.push_back(b.layers[j].mass);
    }
    if (rows.empty() || cols.empty()) {
      // Nothing to match: all of this group's mass goes to a dummy.
      double unmatched = 0;
      for (double m : row_mass) unmatched += m;
      for (double m : col_mass) unmatched += m;
      for (double& v : lp) v += unmatched;
      continue;
    }
    for (auto& c : costs) c.resize(rows.size() * cols.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      for (size_t c = 0; c < cols.size(); ++c) {
        double mismatch = LabelMismatch(a.layers[rows[r]], b.layers[cols[c]]);
        double structural = StructuralCost(a, rows[r], b, cols[c]);
        for (int i = 0; i < kNumCoefficientPairs; ++i) {
          const CoefficientPair& pair = kCoefficientPairs[kByStructural[i]];
          costs[i][r * cols.size() + c] = pair.mislabel * mismatch + pair.structural * structural;
        }
      }
    }
    // In increasing structural coefficient, neighbouring matrices often share
    // their optimal plan, which the solver then reuses.
    std::vector<double> group_lp = SolveDummyTransport(row_mass, col_mass, costs);
    for (int i = 0; i < kNumCoefficientPairs; ++i) lp[kByStructural[i]] += group_lp[i];
  }
  const double total = a.total_mass + b.total_mass;
  for (int k = 0; k < kNumCoefficientPairs; ++k) {
    d.lp[k] = lp[k];
    d.emd[k] = total > 0 ? lp[k] / total : 0.0;
  }
  return d;
}

}  // namespace unas::search::bo
