// Each job's evaluated candidates (the history, in evaluation order) and its
// Pareto set, read through the Coordinator's public queries and kept until
// the job changes. Every dashboard page polls; a job that did not change
// since the last poll costs one GetJob, not a copy of its whole history.
#ifndef UNAS_COORDINATOR_HTTP_HISTORY_CACHE_H_
#define UNAS_COORDINATOR_HTTP_HISTORY_CACHE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "coordinator/core/coordinator.h"
#include "unas/v1/job.pb.h"

namespace unas::dashboard {

struct JobSnapshot {
  v1::Job job;
  std::vector<v1::Candidate> history;  // DONE candidates, by finish time
  std::vector<v1::Candidate> pareto;   // feasible Pareto set by test error, as reports rank it
};

class HistoryCache {
 public:
  explicit HistoryCache(coordinator::Coordinator* coordinator) : coordinator_(coordinator) {}

  // The snapshot of `job` (as just read with GetJob or ListJobs): the cached
  // one while the job's progress and state are unchanged, else a fresh one.
  absl::StatusOr<std::shared_ptr<const JobSnapshot>> Get(const v1::Job& job);

 private:
  coordinator::Coordinator* coordinator_;
  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, std::shared_ptr<const JobSnapshot>> snapshots_ ABSL_GUARDED_BY(mu_);
};

// True when two reads of one job may differ in history or Pareto set.
bool JobChanged(const v1::Job& before, const v1::Job& after);

}  // namespace unas::dashboard

#endif  // UNAS_COORDINATOR_HTTP_HISTORY_CACHE_H_
