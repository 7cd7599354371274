// The learning curve's plan (no LibTorch): which validation images it is
// measured on and after which batches of an epoch (TrainingSpec.learning_curve,
// docs/training.md, "Learning curves"). The trainer measures; the automated
// stopping rule of the coordinator reads the points.
#ifndef UNAS_WORKER_LEARNING_CURVE_H_
#define UNAS_WORKER_LEARNING_CURVE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "unas/v1/job_spec.pb.h"
#include "worker/data/image_set.h"

namespace unas::worker {

// Defaults of LearningCurveSpec's fields (also filled by the job spec loader).
inline constexpr int kDefaultCurvePointsPerEpoch = 4;
inline constexpr int kDefaultCurveValidationImages = 1024;

struct LearningCurvePlan {
  int points_per_epoch = 0;
  int64_t images = 0;  // requested subset size (capped at the validation set's size)
};

// The spec's plan with defaults for unset fields; InvalidArgument for
// points_per_epoch or validation_images below 1.
absl::StatusOr<LearningCurvePlan> MakeLearningCurvePlan(const v1::LearningCurveSpec& spec);

// The curve's fixed subset of `validation`: `images` of them (all when
// fewer), drawn with `job_seed` so that every candidate of a job is measured
// on the same images, kept in the split's order.
ImageSet LearningCurveImages(const ImageSet& validation, int64_t images, uint64_t job_seed);

// For points 1..points_per_epoch of an epoch of `batches` batches: how many
// batches are done when the point is measured, ceil(p · batches /
// points_per_epoch), so points are evenly spaced and the last is the epoch's
// end. Non-decreasing; with fewer batches than points, several points share
// a batch (and the measurement).
std::vector<int64_t> CurvePointBatches(int64_t batches, int points_per_epoch);

}  // namespace unas::worker

#endif  // UNAS_WORKER_LEARNING_CURVE_H_
