// An architecture as the layer graph the BO kernels compare (docs/search.md):
// one "ip" layer for the input, one layer per operator of its network
// plan, one "op" layer after the output, edges along the data flow. Each layer
// has a label (what the label-mismatch cost and the WL kernel read), a group,
// and a mass (its compute / 1000, as μNAS weighs layers). Built once per
// architecture together with its dense resources, which the acquisition needs
// anyway.
#ifndef UNAS_COORDINATOR_SEARCH_BO_ARCH_GRAPH_H_
#define UNAS_COORDINATOR_SEARCH_BO_ARCH_GRAPH_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/space.h"
#include "unas/v1/architecture.pb.h"

namespace unas::search::bo {

// Layer groups; layers of different groups are never matched by the
// transport (their label mismatch is infinite).
enum class LayerGroup : uint8_t { kInput, kOutput, kConv, kPool, kAggregate, kDense };
inline constexpr int kNumLayerGroups = 6;

struct Layer {
  LayerGroup group = LayerGroup::kConv;
  // Label fields (the original's "<class>|{info}"): conv kernel size,
  // depthwise flag, batch norm, ReLU; pool average/max; dense ReLU.
  int kernel = 0;
  bool depthwise = false;
  bool batch_norm = false;
  bool relu = false;
  bool average_pool = false;
  // Not part of the OTMANN label; the WL kernel's labels use them.
  int stride = 0;
  int64_t channels = 0;
  double mass = 0.0;  // compute (MACs incl. pooling and Add work) / 1000
  std::vector<int> parents;
  std::vector<int> children;
};

// Path-length features of a layer: for each group selector (all, conv, pool,
// aggregate, dense) and path kind (shortest, longest, random-walk mean), the
// number of selected layers on paths from the input (backward) and to the
// output (forward).
inline constexpr int kNumPathFeatures = 15;

struct LayerGraph {
  std::vector<Layer> layers;  // topological: 0 = ip, last = op
  std::vector<std::array<double, kNumPathFeatures>> backward;
  std::vector<std::array<double, kNumPathFeatures>> forward;
  double total_mass = 0.0;
};

struct ArchResources {
  int64_t peak_memory_bytes = 0;
  int64_t model_size_bytes = 0;
  int64_t macs = 0;
};

struct ArchAnalysis {
  LayerGraph graph;
  ArchResources resources;  // dense network, PMU without the input (the job's metric)
};

// Plans the network, builds its resource graph, and derives both views.
absl::StatusOr<ArchAnalysis> AnalyseArchitecture(const v1::Architecture& arch,
                                                 const DataShape& data);

// Fills backward/forward path features of a graph whose layers and edges are
// set (exposed for tests on hand-made graphs).
void ComputePathFeatures(LayerGraph& graph);

}  // namespace unas::search::bo

#endif  // UNAS_COORDINATOR_SEARCH_BO_ARCH_GRAPH_H_
