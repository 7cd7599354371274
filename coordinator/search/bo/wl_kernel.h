// The Weisfeiler-Lehman subtree kernel on layer graphs (as NAS-BOWL uses it):
// every layer starts with a label (kind, kernel, stride, batch norm, ReLU,
// pool type, log2 of its channels, its compute to within a factor of 4); each iteration relabels a
// layer with its label and the sorted labels of its parents and of its children. The feature vector
// of depth h counts the labels of iterations 0..h; the kernel is the normalised dot product,
// positive semi-definite by construction.
#ifndef UNAS_COORDINATOR_SEARCH_BO_WL_KERNEL_H_
#define UNAS_COORDINATOR_SEARCH_BO_WL_KERNEL_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "coordinator/search/bo/arch_graph.h"

namespace unas::search::bo {

inline constexpr int kMaxWlDepth = 3;

// Label counts per iteration 0..kMaxWlDepth, each sorted by label.
struct WlFeatures {
  std::vector<std::vector<std::pair<uint64_t, int>>> counts;
  // Squared norm of the features of depth h (iterations 0..h), h = 0..kMaxWlDepth.
  std::vector<double> squared_norm;
};

WlFeatures ComputeWlFeatures(const LayerGraph& graph);

// Unnormalised dot product of the label counts of iteration `iteration`.
double WlDot(const WlFeatures& a, const WlFeatures& b, int iteration);

// The normalised WL kernel of depth h (1..kMaxWlDepth): 1 for identical
// graphs, in [0, 1] otherwise.
double WlKernel(const WlFeatures& a, const WlFeatures& b, int depth);

}  // namespace unas::search::bo

#endif  // UNAS_COORDINATOR_SEARCH_BO_WL_KERNEL_H_
