// Size limits on everything a worker sends that the coordinator keeps in
// memory or stores. Workers are untrusted: one buggy or hostile worker must
// not be able to grow the coordinator's memory or database without bound.
// Over a limit, the call fails with INVALID_ARGUMENT naming the field, the
// size and the limit. Failure reasons are cut instead (failure_text.h).
#ifndef UNAS_COORDINATOR_CORE_WORKER_INPUT_LIMITS_H_
#define UNAS_COORDINATOR_CORE_WORKER_INPUT_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace unas::coordinator {

inline constexpr size_t kMaxWorkerNameBytes = 256;  // RegisterWorker.name
inline constexpr size_t kMaxHostBytes = 256;        // RegisterWorker.host
inline constexpr size_t kMaxDeviceBytes = 64;       // RegisterWorker.device, result.device
inline constexpr size_t kMaxIdBytes = 64;           // worker_id, lease_id
inline constexpr int kMaxEpochRecords = 10000;      // result.epochs
// A worker name is live (counts against CoordinatorOptions.max_workers)
// while it holds a lease or for this long after its last call.
inline constexpr int64_t kWorkerLiveMs = int64_t{10} * 60 * 1000;
// Releases (FailTask.released, leases a worker forgot) of one candidate
// beyond its max_attempts; past them it fails.
inline constexpr int kMaxReleasesPerCandidate = 32;
// A quantised μNAS model is at most a few hundred KiB; this is generous.
inline constexpr size_t kMaxQuantizedModelBytes = size_t{16} << 20;

// OK, or INVALID_ARGUMENT "FIELD is N bytes; the limit is LIMIT".
absl::Status CheckSize(absl::string_view field, size_t bytes, size_t limit);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_WORKER_INPUT_LIMITS_H_
