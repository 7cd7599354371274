#include "worker/pruning/schedule.h"

#include "absl/strings/str_cat.h"

namespace unas::worker {

absl::StatusOr<PruningSchedule> MakePruningSchedule(const v1::PruningSpec& spec,
                                                    double target_sparsity) {
  if (!(target_sparsity > 0 && target_sparsity < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pruning target sparsity (", target_sparsity, ") must be in (0, 1)"));
  }
  if (spec.start_epoch() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.pruning.start_epoch (", spec.start_epoch(), ") must be at least 1"));
  }
  if (spec.finish_epoch() < spec.start_epoch()) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.pruning.finish_epoch (", spec.finish_epoch(),
                     ") must be >= start_epoch (", spec.start_epoch(), ")"));
  }
  PruningSchedule s;
  s.target_sparsity = target_sparsity;
  s.structured = spec.structured();
  s.start_epoch = spec.start_epoch();
  s.finish_epoch = spec.finish_epoch();
  if (spec.has_mask_update_period()) {
    if (spec.mask_update_period() < 1) {
      return absl::InvalidArgumentError(absl::StrCat("training.pruning.mask_update_period (",
                                                     spec.mask_update_period(),
                                                     ") must be at least 1"));
    }
    s.mask_update_period = spec.mask_update_period();
  }
  return s;
}

double SparsityForEpoch(const PruningSchedule& schedule, int epoch) {
  const int t0 = schedule.first_pruning_epoch();
  const int tn = schedule.last_pruning_epoch();
  const double sf = schedule.target_sparsity;
  constexpr double kInitialSparsity = 0.0;
  if (epoch < t0) return kInitialSparsity;
  if (epoch >= tn) return sf;
  const double progress = static_cast<double>(epoch - t0) / static_cast<double>(tn - t0);
  const double remaining = 1.0 - progress;
  return sf + (kInitialSparsity - sf) * remaining * remaining * remaining;
}

}  // namespace unas::worker
