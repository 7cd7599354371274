#include "coordinator/search/bo/wl_kernel.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace unas::search::bo {
namespace {

// A fixed 64-bit mix (SplitMix64 finaliser): labels must be the same in
// every process, which absl::Hash does not promise.
uint64_t Mix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t InitialLabel(const Layer& layer) {
  uint64_t h = Mix(0, static_cast<uint64_t>(layer.group));
  h = Mix(h, static_cast<uint64_t>(layer.kernel));
  h = Mix(h, static_cast<uint64_t>(layer.stride));
  h = Mix(h, (layer.batch_norm ? 1u : 0u) | (layer.relu ? 2u : 0u) | (layer.depthwise ? 4u : 0u) |
                 (layer.average_pool ? 8u : 0u));
  uint64_t channels = layer.channels > 0 ? static_cast<uint64_t>(layer.channels) : 1;
  h = Mix(h, static_cast<uint64_t>(std::bit_width(channels - 1)));  // ceil(log2)
  // The layer's compute to within a factor of 4: network size matters to the error.
  uint64_t macs = static_cast<uint64_t>(std::max(0.0, layer.mass * 1000.0));
  h = Mix(h, static_cast<uint64_t>(std::bit_width(macs) / 2));
  return h;
}

std::vector<std::pair<uint64_t, int>> Count(std::vector<uint64_t> labels) {
  std::sort(labels.begin(), labels.end());
  std::vector<std::pair<uint64_t, int>> counts;
  for (uint64_t l : labels) {
    if (!counts.empty() && counts.back().first == l) {
      ++counts.back().second;
    } else {
      counts.emplace_back(l, 1);
    }
  }
  return counts;
}

}  // namespace

WlFeatures ComputeWlFeatures(const LayerGraph& graph) {
  const size_t n = graph.layers.size();
  std::vector<uint64_t> labels(n);
  for (size_t v = 0; v < n; ++v) labels[v] = InitialLabel(graph.layers[v]);
  WlFeatures f;
  f.counts.push_back(Count(labels));
  std::vector<uint64_t> next(n), neighbours;
  for (int it = 1; it <= kMaxWlDepth; ++it) {
    for (size_t v = 0; v < n; ++v) {
      uint64_t h = Mix(labels[v], static_cast<uint64_t>(it));
      for (const std::vector<int>* side : {&graph.layers[v].parents, &graph.layers[v].children}) {
        neighbours.clear();
        for (int u : *side) neighbours.push_back(labels[static_cast<size_t>(u)]);
        std::sort(neighbours.begin(), neighbours.end());
        h = Mix(h, neighbours.size());
        for (uint64_t l : neighbours) h = Mix(h, l);
      }
      next[v] = h;
    }
    labels.swap(next);
    f.counts.push_back(Count(labels));
  }
  double norm = 0;
  for (int it = 0; it <= kMaxWlDepth; ++it) {
    norm += WlDot(f, f, it);
    f.squared_norm.push_back(norm);
  }
  return f;
}

double WlDot(const WlFeatures& a, const WlFeatures& b, int iteration) {
  const auto& x = a.counts[static_cast<size_t>(iteration)];
  const auto& y = b.counts[static_cast<size_t>(iteration)];
  double dot = 0;
  size_t i = 0, j = 0;
  while (i < x.size() && j < y.size()) {
    if (x[i].first < y[j].first) {
      ++i;
    } else if (y[j].first < x[i].first) {
      ++j;
    } else {
      dot += static_cast<double>(x[i].second) * y[j].second;
      ++i;
      ++j;
    }
  }
  return dot;
}

double WlKernel(const WlFeatures& a, const WlFeatures& b, int depth) {
  double dot = 0;
  for (int it = 0; it <= depth; ++it) dot += WlDot(a, b, it);
  double norm = std::sqrt(a.squared_norm[static_cast<size_t>(depth)] *
                          b.squared_norm[static_cast<size_t>(depth)]);
  return norm > 0 ? dot / norm : 0.0;
}

}  // namespace unas::search::bo
