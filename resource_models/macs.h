// MACs and the original's latency proxy (docs/unas_original.md §4.2, §4.5).

#ifndef UNAS_RESOURCE_MODELS_MACS_H_
#define UNAS_RESOURCE_MODELS_MACS_H_

#include <cstdint>

#include "resource_models/graph.h"

namespace unas::rm {

// Multiply-accumulates of Conv2D, DepthwiseConv2D and Dense operators only.
int64_t ConvDenseMacs(const Graph& graph);

// The original's "MACs" objective: the sum of compute over all operators, including pooling
// window operations and Add element operations. The search's MAC objective uses this.
int64_t ComputeMacs(const Graph& graph);

// The original's memory-access count ("loads") summed over operators.
int64_t MemoryLoads(const Graph& graph);

struct LatencyWeights {
  double compute = 1.0;
  double memory_access = 0.0;
};

// latency = sum over ops of memory_access * loads + compute * compute.
double LatencyProxy(const Graph& graph, const LatencyWeights& weights = {});

}  // namespace unas::rm

#endif  // UNAS_RESOURCE_MODELS_MACS_H_
