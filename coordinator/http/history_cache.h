// Each job's evaluated candidates (the history, in evaluation order) and its
// Pareto set, read through the Coordinator's public queries and kept until
// the job changes. Every dashboard page polls; a job that did not change
// since the last poll costs one GetJob, not a copy of its whole history.
// The snapshots kept are bounded in bytes (--http-history-cache-mb): the
// least recently read go first, and a snapshot larger than the whole bound
// is served but not kept.
#ifndef UNAS_COORDINATOR_HTTP_HISTORY_CACHE_H_
#define UNAS_COORDINATOR_HTTP_HISTORY_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "coordinator/core/coordinator.h"
#include "unas/v1/job.pb.h"

namespace unas::dashboard {

inline constexpr size_t kDefaultHistoryCacheBytes = size_t{256} << 20;

struct JobSnapshot {
  v1::Job job;
  std::vector<v1::Candidate> history;  // DONE candidates, by finish time
  std::vector<v1::Candidate> pareto;   // feasible Pareto set by test error, as reports rank it
  size_t bytes = 0;                    // the messages' serialized size, what the bound counts
};

class HistoryCache {
 public:
  explicit HistoryCache(coordinator::Coordinator* coordinator,
                        size_t max_bytes = kDefaultHistoryCacheBytes)
      : coordinator_(coordinator), max_bytes_(max_bytes) {}

  // The snapshot of `job` (as just read with GetJob or ListJobs): the cached
  // one while the job's progress and state are unchanged, else a fresh one.
  absl::StatusOr<std::shared_ptr<const JobSnapshot>> Get(const v1::Job& job);

  // What the kept snapshots count, and how many there are.
  size_t bytes() const;
  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const JobSnapshot> snapshot;
    uint64_t last_used = 0;
  };
  // Drops the least recently used snapshots until the bound holds.
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  coordinator::Coordinator* coordinator_;
  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int64_t, Entry> snapshots_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t clock_ ABSL_GUARDED_BY(mu_) = 0;
};

// True when two reads of one job may differ in history or Pareto set.
bool JobChanged(const v1::Job& before, const v1::Job& after);

}  // namespace unas::dashboard

#endif  // UNAS_COORDINATOR_HTTP_HISTORY_CACHE_H_
