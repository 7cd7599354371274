// Recomputes a network's batch-normalisation statistics on training images
// before it is evaluated.
//
// Why: Keras-style moving averages (momentum 0.99, what the original μNAS
// trains with) forget slowly, so after a few short epochs the running mean
// and variance describe the weights of several hundred steps ago. Evaluation
// mode normalises with those stale numbers, and the measured error swings by
// points from seed to seed for the same architecture. Averaging the batch
// statistics of the final weights over a training subset (one forward pass,
// no gradients, no weight change) removes that noise from the numbers the
// search ranks candidates by. training.batch_norm_recalibration_images = 0
// keeps the moving averages (exact reproduction of the original).
#ifndef UNAS_WORKER_BATCH_NORM_STATISTICS_H_
#define UNAS_WORKER_BATCH_NORM_STATISTICS_H_

#include <c10/core/Device.h>

#include <cstdint>

#include "absl/status/status.h"
#include "worker/data/dataset.h"
#include "worker/model.h"

namespace unas::worker {

struct BatchNormRecalibration {
  int64_t images = 0;      // training images to average over (capped at the set's size)
  int64_t batch_size = 0;  // the training batch size: statistics of batches as training sees
  uint64_t seed = 0;       // which images: a seeded subset, the same every time for one seed
};

// Replaces every batch-norm layer's running mean and variance with the
// average of its batch statistics over `options.images` unaugmented training
// images, in whole batches of `options.batch_size` (at least one batch). The
// average is exact: every batch has the same weight (torch's cumulative
// moving average), not an exponential one. Weights, the layers' momentum and
// the network's train/eval mode are left as they were. A network without
// batch normalisation is untouched. Errors: an unreadable training example
// (Speech Commands audio) comes back as its status.
absl::Status RecalibrateBatchNorm(UnasNet& net, const Dataset& data,
                                  const BatchNormRecalibration& options, c10::Device device);

}  // namespace unas::worker

#endif  // UNAS_WORKER_BATCH_NORM_STATISTICS_H_
