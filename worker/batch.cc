#include "worker/batch.h"

#include <ATen/ATen.h>

#include <cstring>

namespace unas::worker {

at::Tensor ImagesToTensor(const uint8_t* images, int64_t count, int height, int width, int channels,
                          const Preprocessing& preprocessing) {
  at::Tensor out = at::empty({count, channels, height, width}, at::kFloat);
  float* dst = out.data_ptr<float>();
  const int64_t plane = int64_t{height} * width;
  // Per channel: value = byte * scale + offset.
  std::vector<float> scale(channels, 1.0f / 255.0f);
  std::vector<float> offset(channels, 0.0f);
  for (int c = 0; c < channels; ++c) {
    const float mean =
        c < static_cast<int>(preprocessing.mean.size()) ? preprocessing.mean[c] : 0.0f;
    const float sd =
        c < static_cast<int>(preprocessing.stddev.size()) ? preprocessing.stddev[c] : 1.0f;
    scale[c] = 1.0f / (255.0f * sd);
    offset[c] = -mean / sd;
  }
  for (int64_t n = 0; n < count; ++n) {
    const uint8_t* src = images + n * plane * channels;
    float* image = dst + n * plane * channels;
    if (channels == 1) {
      const float s = scale[0], o = offset[0];
      for (int64_t p = 0; p < plane; ++p) image[p] = src[p] * s + o;
      continue;
    }
    for (int c = 0; c < channels; ++c) {
      float* d = image + c * plane;
      const float s = scale[c], o = offset[c];
      for (int64_t p = 0; p < plane; ++p) d[p] = src[p * channels + c] * s + o;
    }
  }
  return out;
}

at::Tensor LabelsToTensor(std::span<const int32_t> labels, bool as_float) {
  const int64_t n = static_cast<int64_t>(labels.size());
  if (as_float) {
    at::Tensor t = at::empty({n}, at::kFloat);
    float* d = t.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(labels[i]);
    return t;
  }
  at::Tensor t = at::empty({n}, at::kLong);
  int64_t* d = t.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) d[i] = labels[i];
  return t;
}

void GatherBatch(const ImageSet& set, std::span<const int64_t> indices,
                 std::vector<uint8_t>& images, std::vector<int32_t>& labels) {
  const int64_t bytes = set.image_bytes();
  images.resize(indices.size() * bytes);
  labels.resize(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) {
    std::memcpy(images.data() + k * bytes, set.image(indices[k]), bytes);
    labels[k] = set.labels[indices[k]];
  }
}

}  // namespace unas::worker
