// The coordinator's life: Create (the rebuild from the store, then the group
// committer), Shutdown and StoreHealth. The calls are in job_calls.cc
// (JobService) and worker_calls.cc (WorkerService).
#include "coordinator/core/coordinator.h"

#include <chrono>
#include <mutex>
#include <utility>
#include <vector>

#include "coordinator/core/coordinator_impl.h"
#include "coordinator/core/restart_replay.h"
#include "coordinator/store/group_commit.h"

namespace unas::coordinator {
namespace {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Coordinator::Impl::StartCommitter() {
  committer = std::make_unique<store::GroupCommitter>(
      store.get(),
      [this](const std::vector<const char*>& operations, double seconds) {
        if (options.observer == nullptr) return;
        for (const char* operation : operations) {
          options.observer->StoreCommit(operation, seconds);
        }
      },
      options.commit_retry);
  for (store::BatchedWrite& write : writes_before_start) {
    committer->Enqueue("restore", std::move(write));
  }
  writes_before_start.clear();
}

Coordinator::Coordinator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Coordinator::~Coordinator() { Shutdown(); }

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Create(
    std::unique_ptr<store::Store> store, CoordinatorOptions options) {
  if (!options.now_ms) options.now_ms = SystemNowMs;
  auto impl = std::make_unique<Impl>();
  impl->store = std::move(store);
  impl->options = std::move(options);
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    if (absl::Status status = RestoreFromStore(*impl); !status.ok()) return status;
    impl->StartCommitter();
  }
  if (absl::Status status = impl->committer->Flush(); !status.ok()) return status;
  return std::unique_ptr<Coordinator>(new Coordinator(std::move(impl)));
}

void Coordinator::Shutdown() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->shutdown = true;
  impl_->changed.notify_all();
}

absl::Status Coordinator::StoreHealth() const { return impl_->committer->health(); }

store::CommitHealth Coordinator::StoreCommitHealth() const { return impl_->committer->Health(); }

}  // namespace unas::coordinator
