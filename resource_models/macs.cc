#include "resource_models/macs.h"

#include "resource_models/operators.h"

namespace unas::rm {

int64_t ConvDenseMacs(const Graph& graph) {
  int64_t total = 0;
  for (OpId id = 0; id < graph.num_ops(); ++id) total += ComputeOpCost(graph, id).macs;
  return total;
}

int64_t ComputeMacs(const Graph& graph) {
  int64_t total = 0;
  for (OpId id = 0; id < graph.num_ops(); ++id) total += ComputeOpCost(graph, id).compute;
  return total;
}

int64_t MemoryLoads(const Graph& graph) {
  int64_t total = 0;
  for (OpId id = 0; id < graph.num_ops(); ++id) total += ComputeOpCost(graph, id).loads;
  return total;
}

double LatencyProxy(const Graph& graph, const LatencyWeights& weights) {
  double total = 0.0;
  for (OpId id = 0; id < graph.num_ops(); ++id) {
    const OpCost cost = ComputeOpCost(graph, id);
    total += weights.memory_access * static_cast<double>(cost.loads) +
             weights.compute * static_cast<double>(cost.compute);
  }
  return total;
}

}  // namespace unas::rm
