#include "worker/data/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace unas::worker {
namespace {

// Index into [0, n) with symmetric reflection (edge repeated): -1 -> 0,
// -2 -> 1, n -> n-1, n+1 -> n-2. Valid for shifts up to n.
inline int Symmetric(int i, int n) {
  if (i < 0) i = -i - 1;
  if (i >= n) i = 2 * n - 1 - i;
  return std::clamp(i, 0, n - 1);
}

}  // namespace

Augmentation AugmentationFromSpec(const v1::AugmentationSpec& spec) {
  Augmentation a;
  if (spec.has_enabled() && !spec.enabled()) return a;
  a.audio = true;
  a.horizontal_flip = spec.horizontal_flip();
  a.rotation_probability = spec.rotation_probability();
  a.max_rotation_radians = spec.max_rotation_radians();
  a.max_shift_pixels = spec.max_shift_pixels();
  return a;
}

void FlipHorizontally(int height, int width, int channels, uint8_t* image) {
  for (int y = 0; y < height; ++y) {
    uint8_t* row = image + static_cast<int64_t>(y) * width * channels;
    for (int l = 0, r = width - 1; l < r; ++l, --r) {
      for (int c = 0; c < channels; ++c) std::swap(row[l * channels + c], row[r * channels + c]);
    }
  }
}

void RotateNearest(int height, int width, int channels, double radians, const uint8_t* in,
                   uint8_t* out) {
  const double cy = (height - 1) / 2.0;
  const double cx = (width - 1) / 2.0;
  const double cos_a = std::cos(radians);
  const double sin_a = std::sin(radians);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      // Inverse mapping: output (y, x) reads the source point rotated back,
      // so the content turns counter-clockwise as displayed (y down) for a
      // positive angle, as TFA's rotate does.
      const double dy = y - cy;
      const double dx = x - cx;
      const double sx = cos_a * dx - sin_a * dy + cx;
      const double sy = sin_a * dx + cos_a * dy + cy;
      const int ix = static_cast<int>(std::lround(sx));
      const int iy = static_cast<int>(std::lround(sy));
      uint8_t* o = out + (static_cast<int64_t>(y) * width + x) * channels;
      if (ix < 0 || iy < 0 || ix >= width || iy >= height) {
        std::memset(o, 0, channels);
      } else {
        std::memcpy(o, in + (static_cast<int64_t>(iy) * width + ix) * channels, channels);
      }
    }
  }
}

void ShiftMirrored(int height, int width, int channels, int dy, int dx, const uint8_t* in,
                   uint8_t* out) {
  for (int y = 0; y < height; ++y) {
    const uint8_t* src_row =
        in + static_cast<int64_t>(Symmetric(y + dy, height)) * width * channels;
    uint8_t* dst_row = out + static_cast<int64_t>(y) * width * channels;
    for (int x = 0; x < width; ++x) {
      std::memcpy(dst_row + x * channels, src_row + Symmetric(x + dx, width) * channels, channels);
    }
  }
}

void AugmentBatch(const Augmentation& a, int height, int width, int channels, int64_t count,
                  uint8_t* images, Rng& rng, std::vector<uint8_t>& scratch) {
  if (!a.active()) return;
  const int64_t bytes = int64_t{height} * width * channels;
  scratch.resize(bytes);
  // Shifts beyond the image size cannot be mirrored; clamp them.
  const int max_dy = std::min(a.max_shift_pixels, height);
  const int max_dx = std::min(a.max_shift_pixels, width);
  for (int64_t i = 0; i < count; ++i) {
    uint8_t* image = images + i * bytes;
    if (a.horizontal_flip && rng.Bernoulli(0.5)) FlipHorizontally(height, width, channels, image);
    if (a.rotation_probability > 0 && a.max_rotation_radians > 0 &&
        rng.Bernoulli(a.rotation_probability)) {
      const double angle = rng.Uniform(-a.max_rotation_radians, a.max_rotation_radians);
      RotateNearest(height, width, channels, angle, image, scratch.data());
      std::memcpy(image, scratch.data(), bytes);
    }
    if (a.max_shift_pixels > 0) {
      const int dy = static_cast<int>(rng.UniformInt(-max_dy, max_dy));
      const int dx = static_cast<int>(rng.UniformInt(-max_dx, max_dx));
      if (dy != 0 || dx != 0) {
        ShiftMirrored(height, width, channels, dy, dx, image, scratch.data());
        std::memcpy(image, scratch.data(), bytes);
      }
    }
  }
}

}  // namespace unas::worker
