// Target sparsity of a candidate in pruning jobs (docs/unas_original.md §5.4):
// drawn uniformly for a random candidate, and perturbed by a normal step for
// a child, clipped to the job's range.
#ifndef UNAS_COMMON_SEARCH_SPACE_SPARSITY_H_
#define UNAS_COMMON_SEARCH_SPACE_SPARSITY_H_

#include "absl/status/statusor.h"
#include "common/search_space/rng.h"
#include "unas/v1/job_spec.pb.h"

namespace unas {

// Standard deviation of the child's sparsity step.
inline constexpr double kSparsityStep = 0.05;

struct SparsityRange {
  double min = 0.0;
  double max = 0.995;
};

// The range of a PruningSpec, defaults for absent fields; an error unless
// 0 <= min <= max < 1.
absl::StatusOr<SparsityRange> ResolveSparsityRange(const v1::PruningSpec& pruning);

// Uniform in [min, max) (max when min == max).
double RandomSparsity(const SparsityRange& range, Rng& rng);

// clip(parent + Normal(0, kSparsityStep), min, max).
double MutateSparsity(double parent, const SparsityRange& range, Rng& rng);

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_SPARSITY_H_
