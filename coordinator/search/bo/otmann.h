// The OTMANN-style distance between two architectures (docs/search.md): an optimal transport of
// layer mass where matching two layers costs their label mismatch plus their difference in position
// (path lengths), and leaving mass unmatched costs 1 per unit. One transport per (mislabel,
// structural) coefficient pair; each gives an "lp" distance (the optimal cost,
// in mass units) and an "emd" distance (lp over the total mass).
#ifndef UNAS_COORDINATOR_SEARCH_BO_OTMANN_H_
#define UNAS_COORDINATOR_SEARCH_BO_OTMANN_H_

#include <array>

#include "coordinator/search/bo/arch_graph.h"

namespace unas::search::bo {

struct CoefficientPair {
  double mislabel = 1.0;
  double structural = 0.0;
};

// μNAS's five pairs. The original's GP silently used only the first four;
// all five are used here (docs/search.md).
inline constexpr int kNumCoefficientPairs = 5;
inline constexpr std::array<CoefficientPair, kNumCoefficientPairs> kCoefficientPairs = {{
    {1.0, 0.1},   // all layers
    {1.0, 0.25},  // conv
    {1.0, 0.61},  // pool
    {1.0, 0.2},   // aggregate
    {1.0, 1.5},   // dense
}};

struct OtmannDistance {
  std::array<double, kNumCoefficientPairs> lp{};
  std::array<double, kNumCoefficientPairs> emd{};
};

// Label mismatch of two layers: 0 for identical labels; conv–conv
// sqrt(2|Δkernel|)/10 + 0.1 per differing batch-norm, activation and
// depthwise flag; pool–pool 0.5 if average vs max; dense–dense 0.1 per
// differing batch-norm and activation; infinity across groups (input and
// output layers match only their own kind).
double LabelMismatch(const Layer& a, const Layer& b);

// ½·(mean |Δ backward features| + mean |Δ forward features|).
double StructuralCost(const LayerGraph& a, int layer_a, const LayerGraph& b, int layer_b);

// Symmetric; zero between identical graphs. Layers of different groups never
// match, so the transport splits into one problem per group (exact: the
// dummies cost the same whichever group's mass they take).
OtmannDistance ComputeOtmannDistance(const LayerGraph& a, const LayerGraph& b);

}  // namespace unas::search::bo

#endif  // UNAS_COORDINATOR_SEARCH_BO_OTMANN_H_
