// The DPF sparsity schedule (docs/unas_original.md §8): a cubic ramp from 0 at
// the start epoch to the target at the finish epoch (Zhu & Gupta).
#ifndef UNAS_WORKER_PRUNING_SCHEDULE_H_
#define UNAS_WORKER_PRUNING_SCHEDULE_H_

#include "absl/status/statusor.h"
#include "unas/v1/job_spec.pb.h"

namespace unas::worker {

inline constexpr int kDefaultMaskUpdatePeriod = 16;

struct PruningSchedule {
  double target_sparsity = 0;  // s_f, in (0, 1)
  bool structured = false;
  int start_epoch = 1;   // a, 1-based
  int finish_epoch = 1;  // b, 1-based, >= a
  int mask_update_period = kDefaultMaskUpdatePeriod;

  // 0-based first and last epoch of the ramp: t0 = a - 1, tn = b - 1.
  int first_pruning_epoch() const { return start_epoch - 1; }
  int last_pruning_epoch() const { return finish_epoch - 1; }
  // Whether masks are recomputed during this 0-based epoch.
  bool UpdatesMasksIn(int epoch) const {
    return epoch >= first_pruning_epoch() && epoch <= last_pruning_epoch();
  }
  // The first 0-based epoch whose validation accuracy counts (§7.1): the
  // original indexes its per-epoch list with finish_pruning_by_epoch, i.e.
  // the epochs after the ramp.
  int first_counted_epoch() const { return finish_epoch; }
};

// The schedule of a job's pruning spec for a candidate's target sparsity;
// errors name the field.
absl::StatusOr<PruningSchedule> MakePruningSchedule(const v1::PruningSpec& spec,
                                                    double target_sparsity);

// s_t for a 0-based epoch: s_f + (0 - s_f) * (1 - (e - t0) / n)^3 inside
// [t0, tn] with n = tn - t0; 0 before t0 and s_f after tn. A one-epoch ramp
// (n = 0) reaches s_f at once.
double SparsityForEpoch(const PruningSchedule& schedule, int epoch);

}  // namespace unas::worker

#endif  // UNAS_WORKER_PRUNING_SCHEDULE_H_
