#include "worker/learning_curve.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/search_space/rng.h"

namespace unas::worker {
namespace {

// Keeps the curve's subset independent of every other draw from the job seed
// (the split itself, shuffling, the batch-norm recalibration subset).
constexpr uint64_t kCurveSubsetSalt = 0xbb67ae8584caa73bULL;

}  // namespace

absl::StatusOr<LearningCurvePlan> MakeLearningCurvePlan(const v1::LearningCurveSpec& spec) {
  LearningCurvePlan plan;
  plan.points_per_epoch =
      spec.has_points_per_epoch() ? spec.points_per_epoch() : kDefaultCurvePointsPerEpoch;
  plan.images =
      spec.has_validation_images() ? spec.validation_images() : kDefaultCurveValidationImages;
  if (plan.points_per_epoch < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.learning_curve.points_per_epoch: must be at least 1, got ",
                     plan.points_per_epoch));
  }
  if (plan.images < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training.learning_curve.validation_images: must be at least 1, got ", plan.images));
  }
  return plan;
}

ImageSet LearningCurveImages(const ImageSet& validation, int64_t images, uint64_t job_seed) {
  std::vector<int64_t> indices(static_cast<size_t>(validation.size()));
  std::iota(indices.begin(), indices.end(), 0);
  if (images < validation.size()) {
    Rng rng(job_seed ^ kCurveSubsetSalt);
    rng.Shuffle(indices);
    indices.resize(static_cast<size_t>(std::max<int64_t>(0, images)));
    std::sort(indices.begin(), indices.end());
  }
  return validation.Subset(indices);
}

std::vector<int64_t> CurvePointBatches(int64_t batches, int points_per_epoch) {
  std::vector<int64_t> done;
  done.reserve(static_cast<size_t>(std::max(0, points_per_epoch)));
  for (int p = 1; p <= points_per_epoch; ++p) {
    done.push_back((p * batches + points_per_epoch - 1) / points_per_epoch);
  }
  return done;
}

}  // namespace unas::worker
