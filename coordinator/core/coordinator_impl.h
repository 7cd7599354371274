// Coordinator::Impl: the shared state (coordinator_state.h) plus what only
// the public calls need, the start of the group committer and the
// durability wrapper. Internal to coordinator/core: coordinator.cc creates
// it, job_calls.cc and worker_calls.cc hold the call bodies.
#ifndef UNAS_COORDINATOR_CORE_COORDINATOR_IMPL_H_
#define UNAS_COORDINATOR_CORE_COORDINATOR_IMPL_H_

#include "absl/status/status.h"
#include "coordinator/core/coordinator.h"
#include "coordinator/core/coordinator_state.h"

namespace unas::coordinator {

struct Coordinator::Impl : CoordinatorState {
  // Starts the group committer and hands it the writes the restart replay
  // queued (mu held).
  void StartCommitter();

  // Runs `call` (which takes mu itself), then waits, without mu, until
  // every write queued so far is durable: the answer acknowledges only what
  // a power loss cannot undo. While the store cannot commit (a full disk,
  // say) the call is refused with UNAVAILABLE before it changes anything:
  // callers retry, and nothing piles up in memory meanwhile.
  template <typename Call>
  auto Durably(Call call) -> decltype(call()) {
    if (absl::Status health = committer->health(); !health.ok()) return health;
    auto result = call();
    if (absl::Status durable = committer->Flush(); !durable.ok()) return durable;
    return result;
  }
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_COORDINATOR_IMPL_H_
