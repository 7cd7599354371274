#include "coordinator/store/group_commit.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace unas::store {

GroupCommitter::GroupCommitter(Store* store, CommitListener listener, CommitRetry retry)
    : store_(store), listener_(std::move(listener)), retry_(retry), thread_([this] { Run(); }) {}

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

CommitHealth GroupCommitter::Health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return CommitHealth{commit_error_, failed_commits_, queue_.size() + failed_.size() + committing_};
}

absl::Status GroupCommitter::WaitDurable(uint64_t ticket) {
  std::unique_lock<std::mutex> lock(mu_);
  durable_.wait(lock, [&] { return durable_ticket_ >= ticket || !commit_error_.ok(); });
  if (durable_ticket_ >= ticket) return absl::OkStatus();
  // Commits fail: a retry may still succeed within the grace.
  durable_.wait_for(lock, retry_.grace, [&] { return durable_ticket_ >= ticket; });
  if (durable_ticket_ >= ticket) return absl::OkStatus();
  return commit_error_.ok() ? absl::UnavailableError("the coordinator's database is catching up")
                            : commit_error_;
}

void GroupCommitter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::chrono::milliseconds backoff = retry_.first_backoff;
  bool last_try = false;  // stopping while commits fail: one more, then give up
  while (true) {
    if (failed_.empty()) {
      work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is stored
    } else if (!stopping_) {
      work_.wait_for(lock, backoff, [&] { return stopping_; });
    }
    if (stopping_ && !failed_.empty()) {
      if (last_try) return;  // waiters have the error; nothing was acknowledged
      last_try = true;
    }
    // The failed batch first, then what was queued meanwhile: the order of
    // the in-memory changes.
    std::vector<BatchedWrite> batch = std::move(failed_);
    std::vector<const char*> operations = std::move(failed_operations_);
    failed_.clear();
    failed_operations_.clear();
    for (BatchedWrite& write : queue_) batch.push_back(std::move(write));
    operations.insert(operations.end(), queue_operations_.begin(), queue_operations_.end());
    queue_.clear();
    queue_operations_.clear();
    const uint64_t last = last_ticket_;
    committing_ = batch.size();
    lock.unlock();
    auto start = std::chrono::steady_clock::now();
    absl::Status committed = store_->WriteBatch(batch);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (committed.ok() && listener_) listener_(operations, seconds);
    lock.lock();
    committing_ = 0;
    if (!committed.ok()) {
      // Rolled back: keep the batch, and try again after the backoff.
      ++failed_commits_;
      commit_error_ = absl::UnavailableError(
          absl::StrCat("the coordinator's database cannot commit (", committed.message(), "); ",
                       batch.size(), " writes wait, retried every ", backoff.count(),
                       " ms; changes are refused until a commit succeeds"));
      failed_ = std::move(batch);
      failed_operations_ = std::move(operations);
      backoff = std::min(backoff * 2, retry_.max_backoff);
    } else {
      durable_ticket_ = last;
      commit_error_ = absl::OkStatus();
      backoff = retry_.first_backoff;
    }
    durable_.notify_all();
  }
}

}  // namespace unas::store
