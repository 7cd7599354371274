#include "coordinator/search/bo/arch_graph.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/search_space/network_plan.h"
#include "common/search_space/resource_graph.h"
#include "resource_models/macs.h"
#include "resource_models/model_size.h"
#include "resource_models/operators.h"
#include "resource_models/pmu.h"

namespace unas::search::bo {
namespace {

// Selector s of a path feature counts layers of this group (s = 0: all).
bool Selected(int selector, LayerGroup group) {
  switch (selector) {
    case 0:
      return true;
    case 1:
      return group == LayerGroup::kConv;
    case 2:
      return group == LayerGroup::kPool;
    case 3:
      return group == LayerGroup::kAggregate;
    default:
      return group == LayerGroup::kDense;
  }
}

Layer LayerOf(const PlannedOp& op) {
  Layer layer;
  layer.channels = op.output.channels;
  layer.batch_norm = op.batch_norm;
  layer.relu = op.relu;
  layer.kernel = op.kernel_height;
  layer.stride = op.stride_height;
  switch (op.kind) {
    case OpKind::kConv2D:
      layer.group = LayerGroup::kConv;
      break;
    case OpKind::kDepthwiseConv2D:
      layer.group = LayerGroup::kConv;
      layer.depthwise = true;
      break;
    case OpKind::kMaxPool:
    case OpKind::kAvgPool:
      layer.group = LayerGroup::kPool;
      layer.average_pool = op.kind == OpKind::kAvgPool;
      layer.batch_norm = layer.relu = false;
      break;
    case OpKind::kAdd:
      layer.group = LayerGroup::kAggregate;
      layer.kernel = layer.stride = 0;
      layer.batch_norm = layer.relu = false;
      break;
    case OpKind::kDense:
      layer.group = LayerGroup::kDense;
      layer.kernel = layer.stride = 0;
      break;
  }
  return layer;
}

// Shortest, longest and random-walk-mean path features of a layer from those
// of its neighbours (parents going backward, children going forward), an
// edge costing edge(neighbour, selector).
template <typename EdgeCost>
std::array<double, kNumPathFeatures> Aggregate(
    const std::vector<int>& neighbours,
    const std::vector<std::array<double, kNumPathFeatures>>& features, EdgeCost edge) {
  std::array<double, kNumPathFeatures> out{};
  if (neighbours.empty()) return out;
  for (int s = 0; s < 5; ++s) {
    double lo = std::numeric_limits<double>::infinity(), hi = 0, sum = 0;
    for (int u : neighbours) {
      double e = edge(u, s);
      lo = std::min(lo, features[u][3 * s] + e);
      hi = std::max(hi, features[u][3 * s + 1] + e);
      sum += features[u][3 * s + 2] + e;
    }
    out[3 * s] = lo;
    out[3 * s + 1] = hi;
    out[3 * s + 2] = sum / static_cast<double>(neighbours.size());
  }
  return out;
}

}  // namespace

void ComputePathFeatures(LayerGraph& graph) {
  const int n = static_cast<int>(graph.layers.size());
  graph.backward.assign(n, {});
  graph.forward.assign(n, {});
  // Layers are topological: parents come first, children after.
  for (int v = 0; v < n; ++v) {
    graph.backward[v] = Aggregate(graph.layers[v].parents, graph.backward, [&](int u, int s) {
      return Selected(s, graph.layers[u].group) ? 1.0 : 0.0;  // the edge leaving u
    });
  }
  for (int v = n - 1; v >= 0; --v) {
    graph.forward[v] = Aggregate(graph.layers[v].children, graph.forward, [&](int, int s) {
      return Selected(s, graph.layers[v].group) ? 1.0 : 0.0;  // the edge leaving v
    });
  }
}

absl::StatusOr<ArchAnalysis> AnalyseArchitecture(const v1::Architecture& arch,
                                                 const DataShape& data) {
  absl::StatusOr<NetworkPlan> plan = PlanNetwork(arch, data);
  if (!plan.ok()) return plan.status();
  absl::StatusOr<rm::Graph> rg = BuildResourceGraph(*plan);
  if (!rg.ok()) return rg.status();
  // The resource graph holds the Input op first, then the plan's ops in order.
  if (rg->num_ops() != static_cast<int>(plan->ops.size()) + 1) {
    return absl::InternalError(absl::StrCat("resource graph has ", rg->num_ops(),
                                            " ops for a plan of ", plan->ops.size()));
  }
  ArchAnalysis analysis;
  LayerGraph& g = analysis.graph;
  const int n_ops = static_cast<int>(plan->ops.size());
  g.layers.resize(static_cast<size_t>(n_ops) + 2);
  g.layers.front().group = LayerGroup::kInput;
  g.layers.front().channels = plan->input.channels;
  g.layers.back().group = LayerGroup::kOutput;
  double op_mass = 0;
  for (int i = 0; i < n_ops; ++i) {
    const PlannedOp& op = plan->ops[i];
    if (rg->op(i + 1).name != op.name) {
      return absl::InternalError(absl::StrCat("resource graph op ", i + 1, " is \"",
                                              rg->op(i + 1).name, "\", the plan's \"", op.name,
                                              "\""));
    }
    Layer& layer = g.layers[i + 1];
    layer = LayerOf(op);
    layer.mass = static_cast<double>(rm::ComputeOpCost(*rg, i + 1).compute) / 1000.0;
    op_mass += layer.mass;
    for (int input : op.inputs) {
      int parent = input == kNetworkInput ? 0 : input + 1;
      layer.parents.push_back(parent);
      g.layers[parent].children.push_back(i + 1);
    }
  }
  const int last = n_ops + 1;
  g.layers[last].parents.push_back(n_ops);
  g.layers[n_ops].children.push_back(last);
  // The original's mass of the non-processing layers.
  double io_mass = std::max(0.1 * op_mass * 1000.0, 100.0) / 1000.0;
  g.layers.front().mass = g.layers.back().mass = io_mass;
  g.total_mass = op_mass + 2 * io_mass;
  ComputePathFeatures(g);

  rm::PmuOptions pmu_options;
  pmu_options.on_search_limit = rm::SearchLimitPolicy::kUpperBound;
  absl::StatusOr<rm::PmuResult> pmu = rm::ComputePmu(*rg, pmu_options);
  if (!pmu.ok()) return pmu.status();
  rm::ModelSizeOptions size_options;
  size_options.use_sparse_sizes = false;
  analysis.resources.peak_memory_bytes = pmu->peak_bytes;
  analysis.resources.model_size_bytes = rm::ModelSizeUnas(*rg, size_options);
  analysis.resources.macs = rm::ComputeMacs(*rg);
  return analysis;
}

}  // namespace unas::search::bo
