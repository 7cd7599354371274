#include "common/search_space/sparsity.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace unas {

absl::StatusOr<SparsityRange> ResolveSparsityRange(const v1::PruningSpec& pruning) {
  SparsityRange range;
  if (pruning.has_min_sparsity()) range.min = pruning.min_sparsity();
  if (pruning.has_max_sparsity()) range.max = pruning.max_sparsity();
  if (!(range.min >= 0.0 && range.min <= range.max && range.max < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.pruning: sparsity range [", range.min, ", ", range.max,
                     "] must satisfy 0 <= min_sparsity <= max_sparsity < 1"));
  }
  return range;
}

double RandomSparsity(const SparsityRange& range, Rng& rng) {
  return rng.Uniform(range.min, range.max);
}

double MutateSparsity(double parent, const SparsityRange& range, Rng& rng) {
  return std::clamp(parent + rng.Normal(0.0, kSparsityStep), range.min, range.max);
}

}  // namespace unas
