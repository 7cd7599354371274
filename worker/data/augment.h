// Training-time augmentation of uint8 NHWC batches (docs/unas_original.md §9),
// reproducible from the Rng that drives it: per image, in this order,
//   1. horizontal flip with probability 1/2 (when enabled);
//   2. with probability rotation_probability, a rotation about the image
//      centre by an angle uniform in [-max_rotation, max_rotation] radians,
//      nearest-neighbour sampling, zero fill (TFA's rotate);
//   3. a shift by (dy, dx), each uniform in [-max_shift, max_shift], with
//      mirror ("symmetric", edge repeated) padding: the original pads by
//      max_shift and crops a random window of the original size. Here the
//      vertical amount pads the height and the horizontal amount the width
//      (the original swaps them, which only matters for non-square inputs).
#ifndef UNAS_WORKER_DATA_AUGMENT_H_
#define UNAS_WORKER_DATA_AUGMENT_H_

#include <cstdint>
#include <vector>

#include "common/search_space/rng.h"
#include "unas/v1/job_spec.pb.h"

namespace unas::worker {

struct Augmentation {
  bool horizontal_flip = false;
  double rotation_probability = 0.0;
  double max_rotation_radians = 0.0;
  int max_shift_pixels = 0;
  // Speech Commands' audio augmentation (time shift and background mixing,
  // worker/data/speech_commands.h): on unless augmentation.enabled is false.
  bool audio = false;

  // Whether any image operation is on.
  bool active() const {
    return horizontal_flip || (rotation_probability > 0 && max_rotation_radians > 0) ||
           max_shift_pixels > 0;
  }
};

// The spec's fields as given (job_spec's FillAugmentationDefaults fills the
// dataset's standard values); `enabled: false` gives no augmentation.
Augmentation AugmentationFromSpec(const v1::AugmentationSpec& spec);

// Augments `count` images of height x width x channels bytes each, in place.
// `scratch` is reused between calls to avoid allocations.
void AugmentBatch(const Augmentation& augmentation, int height, int width, int channels,
                  int64_t count, uint8_t* images, Rng& rng, std::vector<uint8_t>& scratch);

// The single-image operations, exposed for tests. `out` must not alias `in`.
void FlipHorizontally(int height, int width, int channels, uint8_t* image);
void RotateNearest(int height, int width, int channels, double radians, const uint8_t* in,
                   uint8_t* out);
void ShiftMirrored(int height, int width, int channels, int dy, int dx, const uint8_t* in,
                   uint8_t* out);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_AUGMENT_H_
