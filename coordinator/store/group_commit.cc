#include "coordinator/store/group_commit.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace unas::store {

GroupCommitter::GroupCommitter(Store* store, CommitListener listener)
    : store_(store), listener_(std::move(listener)), thread_([this] { Run(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  thread_.join();
}

uint64_t GroupCommitter::Enqueue(const char* operation, std::function<absl::Status(Store&)> write) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(std::move(write));
  queue_operations_.push_back(operation);
  ++last_ticket_;
  work_.notify_one();
  return last_ticket_;
}

uint64_t GroupCommitter::last_ticket() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_ticket_;
}

uint64_t GroupCommitter::durable_ticket() const {
  std::lock_guard<std::mutex> lock(mu_);
  return durable_ticket_;
}

absl::Status GroupCommitter::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commit_error_;
}

absl::Status GroupCommitter::WaitDurable(uint64_t ticket) {
  std::unique_lock<std::mutex> lock(mu_);
  durable_.wait(lock, [&] { return durable_ticket_ >= ticket || !commit_error_.ok(); });
  if (durable_ticket_ < ticket) return commit_error_;
  return absl::OkStatus();
}

void GroupCommitter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is stored
    if (!commit_error_.ok()) {
      // Nothing is written after a failed commit; waiters already have the error.
      queue_.clear();
      queue_operations_.clear();
      continue;
    }
    std::vector<BatchedWrite> batch = std::move(queue_);
    std::vector<const char*> operations = std::move(queue_operations_);
    queue_.clear();
    queue_operations_.clear();
    const uint64_t last = last_ticket_;
    lock.unlock();
    auto start = std::chrono::steady_clock::now();
    absl::Status committed = store_->WriteBatch(batch);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (committed.ok() && listener_) listener_(operations, seconds);
    lock.lock();
    if (!committed.ok()) {
      commit_error_ = absl::UnavailableError(
          absl::StrCat("the coordinator's database failed to commit (", committed.message(),
                       "); nothing more is stored until the coordinator restarts"));
    } else {
      durable_ticket_ = last;
    }
    durable_.notify_all();
  }
}

}  // namespace unas::store
