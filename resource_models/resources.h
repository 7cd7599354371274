// Every resource metric of a graph in one call: what the coordinator stores per candidate.

#ifndef UNAS_RESOURCE_MODELS_RESOURCES_H_
#define UNAS_RESOURCE_MODELS_RESOURCES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "resource_models/graph.h"
#include "resource_models/macs.h"
#include "resource_models/model_size.h"
#include "resource_models/pmu.h"

namespace unas::rm {

struct ResourceOptions {
  // pmu.include_input selects which of the two PMUs gives `order` and `step_bytes`; both PMUs
  // are always reported. pmu.add_inplace applies to both.
  PmuOptions pmu;
  // Also compute the PMU with Add reuse off (TFLite Micro), with the same include_input.
  bool pmu_without_add_reuse = false;
  ModelSizeOptions size;
  LatencyWeights latency;
};

struct ResourceReport {
  int64_t pmu_bytes = 0;             // model input excluded
  int64_t pmu_with_input_bytes = 0;  // model input included
  std::optional<int64_t> pmu_without_add_reuse_bytes;
  // False when a PMU search stopped at its limit under SearchLimitPolicy::kUpperBound: the PMUs
  // above are then achievable upper bounds, not proven minima.
  bool pmu_optimal = true;
  std::vector<OpId> order;  // an order achieving the PMU selected by pmu.include_input
  std::vector<std::string> order_names;
  std::vector<int64_t> step_bytes;  // bytes live at each step of `order`
  int64_t model_size_unas = 0;
  int64_t model_size_deployed = 0;
  int64_t macs = 0;             // the original's definition (incl. pooling and Add work)
  int64_t conv_dense_macs = 0;  // Conv2D, DepthwiseConv2D and Dense only
  int64_t memory_loads = 0;
  double latency_proxy = 0.0;
  int64_t parameter_count = 0;
};

absl::StatusOr<ResourceReport> ComputeResources(const Graph& graph,
                                                const ResourceOptions& options = {});

}  // namespace unas::rm

#endif  // UNAS_RESOURCE_MODELS_RESOURCES_H_
