// Labelled images kept as uint8 in memory (NHWC, one byte per element), the
// form every image dataset is loaded into. Converting to float happens per
// batch (worker/batch.h), which keeps a Fashion-MNIST worker ~160 MB smaller.
// A set may instead hold float examples (Speech Commands' MFCCs), or only
// labels when its inputs are computed per batch (Dataset::train_audio).
#ifndef UNAS_WORKER_DATA_IMAGE_SET_H_
#define UNAS_WORKER_DATA_IMAGE_SET_H_

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace unas::worker {

struct ImageSet {
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // size() * height * width * channels bytes, NHWC
  // Float examples instead of pixels: size() * height * width * channels
  // values, NHWC. A set holds pixels or features (or neither), never both.
  std::vector<float> features;
  std::vector<int32_t> labels;  // one per image

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  // Elements per example (bytes for pixels, floats for features).
  int64_t image_bytes() const { return int64_t{height} * width * channels; }
  const uint8_t* image(int64_t i) const { return pixels.data() + i * image_bytes(); }
  uint8_t* mutable_image(int64_t i) { return pixels.data() + i * image_bytes(); }
  const float* example_features(int64_t i) const { return features.data() + i * image_bytes(); }
  float* mutable_example_features(int64_t i) { return features.data() + i * image_bytes(); }
  bool has_pixels() const { return !pixels.empty(); }
  bool has_features() const { return !features.empty(); }

  // A new set of the given images, in the given order.
  ImageSet Subset(std::span<const int64_t> indices) const;
  // The first n images (all when n <= 0 or n >= size()).
  void Truncate(int64_t n);
  // Appends `other` (same image shape required).
  absl::Status Append(const ImageSet& other);
};

// The indices (ascending) of the two parts of StratifiedSplit below.
absl::StatusOr<std::pair<std::vector<int64_t>, std::vector<int64_t>>> StratifiedSplitIndices(
    std::span<const int32_t> labels, double fraction, uint64_t seed);

// Holds out round(fraction * n) images for validation, stratified: every
// class keeps its share (largest-remainder apportionment), the images of each
// class chosen by a permutation seeded with `seed`. Both parts keep the
// original order of the images. fraction must lie in [0, 1).
absl::StatusOr<std::pair<ImageSet, ImageSet>> StratifiedSplit(const ImageSet& all, double fraction,
                                                              uint64_t seed);

// Images per label, labels 0..num_classes-1 (labels outside are ignored).
std::vector<int64_t> ClassCounts(const ImageSet& set, int num_classes);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_IMAGE_SET_H_
