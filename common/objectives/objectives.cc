#include "common/objectives/objectives.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace unas::search {

ObjectiveVector MakeObjectives(double validation_error, const v1::ResourceMetrics& metrics) {
  return {validation_error, static_cast<double>(metrics.peak_memory_bytes()),
          static_cast<double>(metrics.model_size_bytes()), static_cast<double>(metrics.macs())};
}

BoundVector MakeBounds(const v1::JobSpec& spec) {
  const v1::Bounds& b = spec.bounds();
  BoundVector bounds;
  if (b.has_error()) bounds[0] = b.error();
  if (b.has_peak_memory_bytes()) bounds[1] = static_cast<double>(b.peak_memory_bytes());
  if (b.has_model_size_bytes()) bounds[2] = static_cast<double>(b.model_size_bytes());
  if (b.has_macs()) bounds[3] = static_cast<double>(b.macs());
  if (spec.training().has_pruning() && !spec.training().pruning().structured()) {
    bounds[1].reset();
    bounds[3].reset();
  }
  return bounds;
}

bool IsFeasible(const ObjectiveVector& x, const BoundVector& bounds) {
  for (int i = 0; i < kNumObjectives; ++i) {
    if (bounds[i] && x[i] > *bounds[i]) return false;
  }
  return true;
}

bool ExceedsEveryBound(const ObjectiveVector& x, const BoundVector& bounds, double factor) {
  if (factor <= 0) return false;
  bool any = false;
  for (int i = 1; i < kNumObjectives; ++i) {
    if (!bounds[i]) continue;
    any = true;
    if (x[i] <= *bounds[i] * factor) return false;
  }
  return any;
}

double ScalarisedFitness(const ObjectiveVector& x, const BoundVector& bounds,
                         const std::array<double, kNumObjectives>& lambdas) {
  double worst = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < kNumObjectives; ++i) {
    if (!bounds[i]) continue;
    // λ ~ U(0, 1) can be exactly 0 with probability 2^-53; treat it as the
    // smallest positive weight rather than dividing by zero.
    double lambda = std::max(lambdas[i], std::numeric_limits<double>::min());
    worst = std::max(worst, std::min(x[i] / *bounds[i], kNormalisedCap) / lambda);
  }
  return worst == -std::numeric_limits<double>::infinity() ? 0.0 : -worst;
}

std::vector<size_t> ParetoFront(const std::vector<ObjectiveVector>& points,
                                const std::array<bool, kNumObjectives>& use) {
  // Sort lexicographically on the used objectives: a point can only be
  // dominated by (or equal to) one that comes before it.
  std::vector<size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  auto key_less = [&](size_t a, size_t b) {
    for (int i = 0; i < kNumObjectives; ++i) {
      if (!use[i] || points[a][i] == points[b][i]) continue;
      return points[a][i] < points[b][i];
    }
    return a < b;  // identical points: keep the first
  };
  std::stable_sort(order.begin(), order.end(), key_less);
  std::vector<size_t> front;
  for (size_t candidate : order) {
    bool dominated = false;
    for (size_t kept : front) {
      bool all_le = true;
      for (int i = 0; i < kNumObjectives && all_le; ++i) {
        if (use[i] && points[kept][i] > points[candidate][i]) all_le = false;
      }
      if (all_le) {  // ≤ everywhere and earlier in the order: dominates or equals
        dominated = true;
        break;
      }
    }
    if (!dominated) front.push_back(candidate);
  }
  std::sort(front.begin(), front.end());
  return front;
}

}  // namespace unas::search
