#include "worker/data/image_set.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/search_space/rng.h"

namespace unas::worker {

ImageSet ImageSet::Subset(std::span<const int64_t> indices) const {
  ImageSet out;
  out.height = height;
  out.width = width;
  out.channels = channels;
  const int64_t n = image_bytes();
  if (has_pixels()) out.pixels.resize(indices.size() * n);
  if (has_features()) out.features.resize(indices.size() * n);
  out.labels.reserve(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) {
    if (has_pixels()) std::memcpy(out.pixels.data() + k * n, image(indices[k]), n);
    if (has_features()) {
      std::memcpy(out.features.data() + k * n, example_features(indices[k]), n * sizeof(float));
    }
    out.labels.push_back(labels[indices[k]]);
  }
  return out;
}

void ImageSet::Truncate(int64_t n) {
  if (n <= 0 || n >= size()) return;
  labels.resize(n);
  if (has_pixels()) pixels.resize(n * image_bytes());
  if (has_features()) features.resize(n * image_bytes());
  labels.shrink_to_fit();
  pixels.shrink_to_fit();
  features.shrink_to_fit();
}

absl::Status ImageSet::Append(const ImageSet& other) {
  if (size() == 0 && labels.empty() && pixels.empty() && features.empty() && height == 0) {
    *this = other;
    return absl::OkStatus();
  }
  if (other.height != height || other.width != width || other.channels != channels) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot append images of shape ", other.height, "x", other.width, "x",
                     other.channels, " to images of shape ", height, "x", width, "x", channels));
  }
  if (has_features() != other.has_features() && size() > 0 && other.size() > 0) {
    return absl::InvalidArgumentError("cannot append float examples to pixel images");
  }
  pixels.insert(pixels.end(), other.pixels.begin(), other.pixels.end());
  features.insert(features.end(), other.features.begin(), other.features.end());
  labels.insert(labels.end(), other.labels.begin(), other.labels.end());
  return absl::OkStatus();
}

std::vector<int64_t> ClassCounts(const ImageSet& set, int num_classes) {
  std::vector<int64_t> counts(std::max(num_classes, 0), 0);
  for (int32_t label : set.labels) {
    if (label >= 0 && label < num_classes) ++counts[label];
  }
  return counts;
}

absl::StatusOr<std::pair<std::vector<int64_t>, std::vector<int64_t>>> StratifiedSplitIndices(
    std::span<const int32_t> labels, double fraction, uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("validation fraction ", fraction, " is outside [0, 1)"));
  }
  const int64_t n = static_cast<int64_t>(labels.size());
  const int64_t n_val = static_cast<int64_t>(std::llround(fraction * static_cast<double>(n)));
  if (n_val == 0) {
    std::vector<int64_t> every(n);
    std::iota(every.begin(), every.end(), 0);
    return std::make_pair(std::move(every), std::vector<int64_t>());
  }
  // Group image indices by label (labels are non-negative and checked by the
  // loaders; a sorted map keeps the class order deterministic).
  int32_t max_label = 0;
  for (int32_t l : labels) max_label = std::max(max_label, l);
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(max_label) + 1);
  for (int64_t i = 0; i < n; ++i) by_class[labels[i]].push_back(i);

  // Largest-remainder apportionment of n_val over the classes.
  const size_t k = by_class.size();
  std::vector<int64_t> take(k, 0);
  std::vector<std::pair<double, size_t>> remainders;
  int64_t assigned = 0;
  for (size_t c = 0; c < k; ++c) {
    const double exact = static_cast<double>(n_val) * by_class[c].size() / static_cast<double>(n);
    take[c] = static_cast<int64_t>(std::floor(exact));
    assigned += take[c];
    remainders.emplace_back(exact - std::floor(exact), c);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t r = 0; assigned < n_val && r < remainders.size(); ++r) {
    const size_t c = remainders[r].second;
    if (take[c] < static_cast<int64_t>(by_class[c].size())) {
      ++take[c];
      ++assigned;
    }
  }

  Rng rng(seed);
  std::vector<char> is_val(n, 0);
  for (size_t c = 0; c < k; ++c) {
    std::vector<int64_t>& idx = by_class[c];
    // Partial Fisher-Yates: the first take[c] entries are a uniform sample.
    for (int64_t j = 0; j < take[c]; ++j) {
      const int64_t pick = j + static_cast<int64_t>(rng.Index(idx.size() - j));
      std::swap(idx[j], idx[pick]);
      is_val[idx[j]] = 1;
    }
  }
  std::vector<int64_t> train_idx, val_idx;
  train_idx.reserve(n - n_val);
  val_idx.reserve(n_val);
  for (int64_t i = 0; i < n; ++i) (is_val[i] ? val_idx : train_idx).push_back(i);
  return std::make_pair(std::move(train_idx), std::move(val_idx));
}

absl::StatusOr<std::pair<ImageSet, ImageSet>> StratifiedSplit(const ImageSet& all, double fraction,
                                                              uint64_t seed) {
  auto parts = StratifiedSplitIndices(all.labels, fraction, seed);
  if (!parts.ok()) return parts.status();
  return std::make_pair(all.Subset(parts->first), all.Subset(parts->second));
}

}  // namespace unas::worker
