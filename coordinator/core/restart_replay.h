// Restart replay: the coordinator rebuilds its state from the store. Workers
// keep their ids; each job gets its algorithm back and its candidates are
// streamed (never a whole history in memory at once): in id order for the
// counts, queue, leases (given a fresh TTL, since no worker could heartbeat
// while the coordinator was down) and waiting duplicates, then the DONE ones
// in history order for the search to observe again. Finished rows keep only
// their state byte in memory.
#ifndef UNAS_COORDINATOR_CORE_RESTART_REPLAY_H_
#define UNAS_COORDINATOR_CORE_RESTART_REPLAY_H_

#include "absl/status/status.h"
#include "coordinator/core/coordinator_state.h"

namespace unas::coordinator {

// Fills an empty `state` from `state.store` (before the group committer
// starts; writes it needs, such as failing a job whose spec no longer loads,
// are queued for it).
absl::Status RestoreFromStore(CoordinatorState& state);

// A job's derived state from its spec: algorithm, data shape, bounds.
absl::Status PrepareJob(JobEntry& job);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_RESTART_REPLAY_H_
