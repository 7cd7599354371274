// uint8 NHWC images -> the float NCHW tensors the network reads, with the
// dataset's preprocessing (UNAS_REFERENCE.md §9): x = (byte / 255 - mean) / std.
#ifndef UNAS_WORKER_BATCH_H_
#define UNAS_WORKER_BATCH_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <vector>

#include "worker/data/dataset.h"

namespace unas::worker {

// A float32 CPU tensor (count, channels, height, width).
at::Tensor ImagesToTensor(const uint8_t* images, int64_t count, int height, int width, int channels,
                          const Preprocessing& preprocessing);

// Labels as int64 (class indices) or, for a single-logit binary network,
// float32 0/1 targets.
at::Tensor LabelsToTensor(std::span<const int32_t> labels, bool as_float);

// Copies the selected images and labels into contiguous buffers (the batch
// the augmentation then works on in place).
void GatherBatch(const ImageSet& set, std::span<const int64_t> indices,
                 std::vector<uint8_t>& images, std::vector<int32_t>& labels);

}  // namespace unas::worker

#endif  // UNAS_WORKER_BATCH_H_
