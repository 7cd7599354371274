// Examples -> the float NCHW tensors the network reads, with the dataset's
// preprocessing (docs/unas_original.md §9): x = (byte / 255 - mean) / std for
// uint8 images, (value - mean) / std for float features. Training batches
// are augmented here; Speech Commands' training features are computed here
// from the audio, per batch.
#ifndef UNAS_WORKER_BATCH_H_
#define UNAS_WORKER_BATCH_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/rng.h"
#include "worker/data/augment.h"
#include "worker/data/dataset.h"

namespace unas::worker {

// A float32 CPU tensor (count, channels, height, width) stored channels-last
// (NHWC in memory, at::MemoryFormat::ChannelsLast): the images' own layout,
// so no transposition, and the layout the CPU trainer runs in.
at::Tensor ImagesToTensor(const uint8_t* images, int64_t count, int height, int width, int channels,
                          const Preprocessing& preprocessing);

// The same for float NHWC features: (value - mean[c]) / stddev[c].
at::Tensor FeaturesToTensor(const float* features, int64_t count, int height, int width,
                            int channels, const Preprocessing& preprocessing);

// Examples [start, start + count) of a set that stores its inputs (pixels or
// features), unaugmented. A labels-only set (Dataset::train_audio's) throws
// std::invalid_argument: use TrainingBatch for it.
at::Tensor SetToTensor(const ImageSet& set, int64_t start, int64_t count,
                       const Preprocessing& preprocessing);

// Labels as int64 (class indices) or, for a single-logit binary network,
// float32 0/1 targets.
at::Tensor LabelsToTensor(std::span<const int32_t> labels, bool as_float);

// Copies the selected images and labels into contiguous buffers (the batch
// the augmentation then works on in place).
void GatherBatch(const ImageSet& set, std::span<const int64_t> indices,
                 std::vector<uint8_t>& images, std::vector<int32_t>& labels);

// Buffers TrainingBatch reuses from batch to batch.
struct BatchBuffers {
  std::vector<uint8_t> images;
  std::vector<uint8_t> scratch;
  std::vector<float> features;
  std::vector<ClipMix> mixes;
};

// The inputs of training examples `indices` of data.train (float NCHW, CPU)
// with their labels in `labels`. With `augment`, the images get
// `augmentation`'s operations and Speech Commands clips their time shift and
// background noise (when augmentation.audio), all drawn from rng in example
// order, so a seed gives the same batches with any thread count. Speech
// features are computed over LibTorch's intra-op threads; an unreadable WAV
// file is an error naming it.
absl::StatusOr<at::Tensor> TrainingBatch(const Dataset& data, const Augmentation& augmentation,
                                         bool augment, std::span<const int64_t> indices, Rng& rng,
                                         BatchBuffers& buffers, std::vector<int32_t>& labels);

}  // namespace unas::worker

#endif  // UNAS_WORKER_BATCH_H_
