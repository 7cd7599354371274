// Architecture -> resource graph (resource_models/): the network of a
// NetworkPlan as a graph of tensors and operators, from which PMU, model
// size, MACs and the latency proxy are computed.
//
// Operators carry the plan's names ("conv_blocks[1].layers[0]",
// "conv_output_add", ...), the input tensor is "input", and every output
// shape is checked against the plan: the two must never disagree.
#ifndef UNAS_COMMON_SEARCH_SPACE_RESOURCE_GRAPH_H_
#define UNAS_COMMON_SEARCH_SPACE_RESOURCE_GRAPH_H_

#include "absl/status/statusor.h"
#include "common/search_space/network_plan.h"
#include "common/search_space/space.h"
#include "resource_models/graph.h"
#include "resource_models/resources.h"
#include "unas/v1/architecture.pb.h"

namespace unas {

// One byte per element (int8 deployment), batch 1. Kernels of a pruned plan
// carry their non-zero counts as sparse sizes.
absl::StatusOr<rm::Graph> BuildResourceGraph(const NetworkPlan& plan);

// PlanNetwork + BuildResourceGraph.
absl::StatusOr<rm::Graph> BuildResourceGraph(const v1::Architecture& arch, const DataShape& data,
                                             const PlanOptions& options = {});

// Every resource metric of the architecture for the data (dense network, or
// the pruned view when options.pruning is set).
absl::StatusOr<rm::ResourceReport> ComputeArchitectureResources(
    const v1::Architecture& arch, const DataShape& data, const PlanOptions& options = {},
    const rm::ResourceOptions& resource_options = {});

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_RESOURCE_GRAPH_H_
