#include "worker/batch.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace unas::worker {

namespace {

// Per channel: value = x * scale[c] + offset[c].
struct ChannelAffine {
  std::vector<float> scale, offset;
};

ChannelAffine Affine(int channels, float input_range, const Preprocessing& preprocessing) {
  ChannelAffine a{std::vector<float>(channels), std::vector<float>(channels)};
  for (int c = 0; c < channels; ++c) {
    const float mean =
        c < static_cast<int>(preprocessing.mean.size()) ? preprocessing.mean[c] : 0.0f;
    const float sd =
        c < static_cast<int>(preprocessing.stddev.size()) ? preprocessing.stddev[c] : 1.0f;
    a.scale[c] = 1.0f / (input_range * sd);
    a.offset[c] = -mean / sd;
  }
  return a;
}

// (count, channels, height, width) with NHWC memory, filled from NHWC values.
template <typename T>
at::Tensor NhwcToTensor(const T* src, int64_t count, int height, int width, int channels,
                        const ChannelAffine& a) {
  at::Tensor out = at::empty({count, height, width, channels}, at::kFloat);
  float* dst = out.data_ptr<float>();
  const int64_t pixels = count * height * width;
  if (channels == 1) {
    const float s = a.scale[0], o = a.offset[0];
    for (int64_t p = 0; p < pixels; ++p) dst[p] = static_cast<float>(src[p]) * s + o;
  } else {
    for (int64_t p = 0; p < pixels; ++p) {
      for (int c = 0; c < channels; ++c) {
        dst[p * channels + c] =
            static_cast<float>(src[p * channels + c]) * a.scale[c] + a.offset[c];
      }
    }
  }
  return out.permute({0, 3, 1, 2});
}

}  // namespace

at::Tensor ImagesToTensor(const uint8_t* images, int64_t count, int height, int width, int channels,
                          const Preprocessing& preprocessing) {
  return NhwcToTensor(images, count, height, width, channels,
                      Affine(channels, 255.0f, preprocessing));
}

at::Tensor FeaturesToTensor(const float* features, int64_t count, int height, int width,
                            int channels, const Preprocessing& preprocessing) {
  return NhwcToTensor(features, count, height, width, channels,
                      Affine(channels, 1.0f, preprocessing));
}

at::Tensor SetToTensor(const ImageSet& set, int64_t start, int64_t count,
                       const Preprocessing& preprocessing) {
  if (set.has_features()) {
    return FeaturesToTensor(set.example_features(start), count, set.height, set.width, set.channels,
                            preprocessing);
  }
  if (!set.has_pixels() && count > 0) {
    throw std::invalid_argument(
        "this example set stores no inputs (they are computed per training batch)");
  }
  return ImagesToTensor(set.image(start), count, set.height, set.width, set.channels,
                        preprocessing);
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

namespace {

absl::StatusOr<at::Tensor> SpeechBatch(const Dataset& data, bool augment,
                                       std::span<const int64_t> indices, Rng& rng,
                                       BatchBuffers& buffers) {
  const SpeechAudio& audio = *data.train_audio;
  const int64_t count = static_cast<int64_t>(indices.size());
  const int64_t per_example = data.train.image_bytes();
  // The random choices first, in example order: the batch does not depend on
  // how the feature computation below is spread over threads.
  buffers.mixes.resize(count);
  for (int64_t k = 0; k < count; ++k) buffers.mixes[k] = audio.Draw(indices[k], augment, rng);
  buffers.features.resize(count * per_example);
  std::mutex mu;
  absl::Status first_error;
  at::parallel_for(0, count, 4, [&](int64_t begin, int64_t end) {
    MfccExtractor mfcc;
    for (int64_t k = begin; k < end; ++k) {
      absl::Status s = audio.Features(indices[k], buffers.mixes[k], mfcc,
                                      buffers.features.data() + k * per_example);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = s;
        return;
      }
    }
  });
  if (!first_error.ok()) return first_error;
  return FeaturesToTensor(buffers.features.data(), count, data.train.height, data.train.width,
                          data.train.channels, data.preprocessing);
}

}  // namespace

absl::StatusOr<at::Tensor> TrainingBatch(const Dataset& data, const Augmentation& augmentation,
                                         bool augment, std::span<const int64_t> indices, Rng& rng,
                                         BatchBuffers& buffers, std::vector<int32_t>& labels) {
  const ImageSet& set = data.train;
  labels.resize(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) labels[k] = set.labels[indices[k]];
  const int64_t count = static_cast<int64_t>(indices.size());
  if (data.train_audio != nullptr) {
    return SpeechBatch(data, augment && augmentation.audio, indices, rng, buffers);
  }
  if (set.has_features()) {
    buffers.features.resize(count * set.image_bytes());
    for (int64_t k = 0; k < count; ++k) {
      std::memcpy(buffers.features.data() + k * set.image_bytes(), set.example_features(indices[k]),
                  set.image_bytes() * sizeof(float));
    }
    return FeaturesToTensor(buffers.features.data(), count, set.height, set.width, set.channels,
                            data.preprocessing);
  }
  GatherBatch(set, indices, buffers.images, labels);
  if (augment) {
    AugmentBatch(augmentation, set.height, set.width, set.channels, count, buffers.images.data(),
                 rng, buffers.scratch);
  }
  return ImagesToTensor(buffers.images.data(), count, set.height, set.width, set.channels,
                        data.preprocessing);
}

}  // namespace unas::worker
