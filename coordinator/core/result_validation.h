// Checks a worker's evaluation result before anything of it is stored:
// workers are untrusted input (a bug, a version mismatch or a malicious
// client must not corrupt a search).
#ifndef UNAS_COORDINATOR_CORE_RESULT_VALIDATION_H_
#define UNAS_COORDINATOR_CORE_RESULT_VALIDATION_H_

#include "absl/status/status.h"
#include "common/search_space/space.h"
#include "unas/v1/architecture.pb.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::coordinator {

// Largest trained-weights blob accepted (μNAS networks are ≤ a few MB even as
// float32; this bounds what one bad worker can make the store hold).
inline constexpr size_t kMaxTrainedWeightsBytes = size_t{64} << 20;

// OK, or INVALID_ARGUMENT naming the offending field: errors and sparsity in
// [0, 1], finite non-negative times, per-layer pruning entries that name
// prunable layers of this architecture with counts within its dense sizes.
absl::Status ValidateEvaluationResult(const v1::EvaluationResult& result,
                                      const v1::Architecture& architecture, const DataShape& data);

// The checks that need no job context, so they run before the coordinator's
// lock is taken: sizes of every string and blob (worker_input_limits.h), and
// the int8 model, which must pass the int8 interpreter's own validation
// (names resolve, shapes and fixed-point ranges agree, no accumulator can
// overflow) before it is stored for export and code generation.
absl::Status ValidateResultContents(const v1::EvaluationResult& result);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_RESULT_VALIDATION_H_
