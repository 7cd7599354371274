// Resource metrics of a candidate, computed by the coordinator itself: for
// the dense network before dispatch, and for the trained network from the
// per-layer pruned sizes a worker reports (workers are never trusted with a
// resource number).
#ifndef UNAS_COORDINATOR_CORE_CANDIDATE_METRICS_H_
#define UNAS_COORDINATOR_CORE_CANDIDATE_METRICS_H_

#include "absl/status/statusor.h"
#include "common/search_space/space.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "unas/v1/architecture.pb.h"
#include "unas/v1/evaluation.pb.h"
#include "unas/v1/metrics.pb.h"

namespace unas::coordinator {

// `pruning`: null for the dense network. `sparse_size`: count only non-zero
// kernel elements in model_size_bytes (unstructured pruning, as the original).
absl::StatusOr<v1::ResourceMetrics> ComputeCandidateMetrics(
    const v1::Architecture& architecture, const DataShape& data,
    const google::protobuf::RepeatedPtrField<v1::LayerPruning>* pruning = nullptr,
    bool sparse_size = false);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_CANDIDATE_METRICS_H_
