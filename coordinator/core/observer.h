// What the core reports as it happens, for monitoring (coordinator/metrics/
// turns it into Prometheus metrics). Called with the core's mutex held: an
// implementation must be quick and must not call back into the Coordinator.
#ifndef UNAS_COORDINATOR_CORE_OBSERVER_H_
#define UNAS_COORDINATOR_CORE_OBSERVER_H_

#include <cstdint>

namespace unas::coordinator {

class CoordinatorObserver {
 public:
  virtual ~CoordinatorObserver() = default;

  // A worker's result was accepted. `lease_seconds`: from the lease to the
  // result, or negative when unknown (a lease from before a restart).
  virtual void EvaluationDone(int64_t job_id, double lease_seconds) = 0;
  // An attempt ended without a result and the candidate gave up (FAILED) or
  // went back to the queue; `lease_expired` when no heartbeat came in time.
  virtual void AttemptEnded(int64_t job_id, bool candidate_failed, bool lease_expired) = 0;
  // One store transaction (`operation`: "lease", "evaluation",
  // "attempt_failure") took `seconds`.
  virtual void StoreCommit(const char* operation, double seconds) = 0;
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_OBSERVER_H_
