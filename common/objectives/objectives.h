// The four objectives of a search (validation error, peak memory, model size,
// MACs), the user's bounds on them, and what follows from both: feasibility,
// the randomised scalarisation of aging evolution (docs/unas_original.md §5.2)
// and Pareto fronts.
#ifndef UNAS_COMMON_OBJECTIVES_OBJECTIVES_H_
#define UNAS_COMMON_OBJECTIVES_OBJECTIVES_H_

#include <array>
#include <optional>
#include <vector>

#include "unas/v1/job_spec.pb.h"
#include "unas/v1/metrics.pb.h"

namespace unas::search {

inline constexpr int kNumObjectives = 4;  // error, peak memory, model size, MACs

using ObjectiveVector = std::array<double, kNumObjectives>;
// A bound per objective; nullopt = not an objective.
using BoundVector = std::array<std::optional<double>, kNumObjectives>;

// Normalised values are capped here before the λ division (§5.2), so one
// hugely infeasible objective cannot swamp the others' randomised weights.
inline constexpr double kNormalisedCap = 10.0;

ObjectiveVector MakeObjectives(double validation_error, const v1::ResourceMetrics& metrics);

// The job's bounds. With unstructured pruning the peak-memory and MAC bounds
// are dropped, as in the original: single-weight sparsity changes neither.
BoundVector MakeBounds(const v1::JobSpec& spec);

// Every bounded objective within its bound.
bool IsFeasible(const ObjectiveVector& x, const BoundVector& bounds);

// Every bounded resource objective (peak memory, size, MACs; x's error is
// ignored, as it is unknown before training) is over its bound times
// `factor`: a network so far out is not worth training (the job spec's
// algorithm.skip_infeasible_factor). False when `factor` <= 0 or no resource
// is bounded.
bool ExceedsEveryBound(const ObjectiveVector& x, const BoundVector& bounds, double factor);

// −max_i (min(x_i / c_i, cap) / λ_i) over the bounded objectives: higher is
// better; values within bounds map to ≤ 1/λ_i.
double ScalarisedFitness(const ObjectiveVector& x, const BoundVector& bounds,
                         const std::array<double, kNumObjectives>& lambdas);

// Indices of the non-dominated points (minimising every objective selected by
// `use`); of identical points only the first is kept. O(n log n + n·front).
std::vector<size_t> ParetoFront(const std::vector<ObjectiveVector>& points,
                                const std::array<bool, kNumObjectives>& use);

}  // namespace unas::search

#endif  // UNAS_COMMON_OBJECTIVES_OBJECTIVES_H_
