#include "coordinator/core/candidate_metrics.h"

#include "common/search_space/network_plan.h"
#include "common/search_space/resource_graph.h"

namespace unas::coordinator {

absl::StatusOr<v1::ResourceMetrics> ComputeCandidateMetrics(
    const v1::Architecture& architecture, const DataShape& data,
    const google::protobuf::RepeatedPtrField<v1::LayerPruning>* pruning, bool sparse_size) {
  PlanOptions plan;
  plan.pruning = pruning;
  rm::ResourceOptions options;
  options.size.use_sparse_sizes = sparse_size;
  // A candidate whose exact PMU search hits its limit keeps an achievable upper bound rather
  // than failing the job: the search goes on, and the PMU constraint stays safe.
  options.pmu.on_search_limit = rm::SearchLimitPolicy::kUpperBound;
  absl::StatusOr<rm::ResourceReport> report =
      ComputeArchitectureResources(architecture, data, plan, options);
  if (!report.ok()) return report.status();
  v1::ResourceMetrics metrics;
  metrics.set_peak_memory_bytes(report->pmu_bytes);
  metrics.set_peak_memory_with_input_bytes(report->pmu_with_input_bytes);
  metrics.set_model_size_bytes(report->model_size_unas);
  metrics.set_model_size_deployed_bytes(report->model_size_deployed);
  metrics.set_macs(report->macs);
  metrics.set_conv_dense_macs(report->conv_dense_macs);
  metrics.set_latency_proxy(report->latency_proxy);
  metrics.set_parameter_count(report->parameter_count);
  metrics.set_peak_memory_is_upper_bound(!report->pmu_optimal);
  for (const std::string& name : report->order_names) metrics.add_operator_order(name);
  return metrics;
}

}  // namespace unas::coordinator
