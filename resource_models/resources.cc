#include "resource_models/resources.h"

namespace unas::rm {

absl::StatusOr<ResourceReport> ComputeResources(const Graph& graph,
                                                const ResourceOptions& options) {
  ResourceReport r;
  PmuOptions without_input = options.pmu;
  without_input.include_input = false;
  PmuOptions with_input = options.pmu;
  with_input.include_input = true;

  absl::StatusOr<PmuResult> primary = ComputePmu(graph, options.pmu);
  if (!primary.ok()) return primary.status();
  // The other PMU differs only when the model input is counted or not.
  absl::StatusOr<PmuResult> other =
      ComputePmu(graph, options.pmu.include_input ? without_input : with_input);
  if (!other.ok()) return other.status();
  r.pmu_bytes = options.pmu.include_input ? other->peak_bytes : primary->peak_bytes;
  r.pmu_with_input_bytes = options.pmu.include_input ? primary->peak_bytes : other->peak_bytes;
  r.pmu_optimal = primary->optimal && other->optimal;
  if (options.pmu_without_add_reuse) {
    PmuOptions no_reuse = options.pmu;
    no_reuse.add_inplace = false;
    absl::StatusOr<PmuResult> nr = ComputePmu(graph, no_reuse);
    if (!nr.ok()) return nr.status();
    r.pmu_without_add_reuse_bytes = nr->peak_bytes;
    r.pmu_optimal = r.pmu_optimal && nr->optimal;
  }
  r.order = primary->order;
  for (OpId id : r.order) r.order_names.push_back(graph.op(id).name);
  r.step_bytes = primary->step_bytes;

  r.model_size_unas = ModelSizeUnas(graph, options.size);
  r.model_size_deployed = ModelSizeDeployed(graph, options.size);
  r.macs = ComputeMacs(graph);
  r.conv_dense_macs = ConvDenseMacs(graph);
  r.memory_loads = MemoryLoads(graph);
  r.latency_proxy = LatencyProxy(graph, options.latency);
  r.parameter_count = ParameterCount(graph);
  return r;
}

}  // namespace unas::rm
