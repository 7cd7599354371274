// Group commit: the coordinator's writes go through one thread that runs
// every write queued meanwhile in one durable transaction. With
// synchronous=FULL each commit costs an fsync (milliseconds on real disks);
// one fsync per batch instead of per event keeps the throughput of durable
// acknowledgements above the disk's single-commit rate.
//
// The caller changes its in-memory state and enqueues the matching write
// under its own lock (so writes are stored in the order the state changed),
// then releases the lock and waits for the write's ticket to be durable
// before it acknowledges anything.
//
// A failed commit (a full disk, an I/O error, SQLITE_BUSY past its
// timeout) rolls the batch back and is retried, with the writes queued
// meanwhile appended in order, after a backoff that doubles up to a limit;
// nothing is lost and nothing is stored out of order. While commits fail
// health() is UNAVAILABLE (the coordinator refuses new writes with it and
// reports it), and a waiter whose write is not durable within a grace
// period gets that error: its change stays queued and is stored once a
// commit succeeds again.
#ifndef UNAS_COORDINATOR_STORE_GROUP_COMMIT_H_
#define UNAS_COORDINATOR_STORE_GROUP_COMMIT_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "coordinator/store/store.h"

namespace unas::store {

// How failed commits are retried.
struct CommitRetry {
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  // How long a waiter waits for its write while commits fail.
  std::chrono::milliseconds grace{3000};
};

// The committer's state, for status pages and metrics.
struct CommitHealth {
  absl::Status status;         // OK, or UNAVAILABLE while commits fail
  int64_t failed_commits = 0;  // since the start
  size_t pending_writes = 0;   // queued or waiting for a retry
};

class GroupCommitter {
 public:
  // Told, after each durable commit, the operations it held and how long the
  // commit took (for metrics); may be empty.
  using CommitListener =
      std::function<void(const std::vector<const char*>& operations, double seconds)>;

  // `store` must outlive this object; nothing else may write to it meanwhile.
  explicit GroupCommitter(Store* store, CommitListener listener = {}, CommitRetry retry = {});
  // Stores everything enqueued (with one more try if commits are failing:
  // what still fails then is not stored, and was never acknowledged), then
  // stops the thread.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues one event's writes; returns its ticket (increasing from 1).
  uint64_t Enqueue(const char* operation, std::function<absl::Status(Store&)> write);
  // The ticket of the last write enqueued (0: none yet).
  uint64_t last_ticket() const;
  // Every write up to this ticket is durable (0: none yet). A caller may
  // drop its in-memory copy of what those writes stored and read it back.
  uint64_t durable_ticket() const;
  // Waits until the write of `ticket` (and every earlier one) is durable;
  // UNAVAILABLE when commits fail and it is not durable within the grace.
  absl::Status WaitDurable(uint64_t ticket);
  // Waits for everything enqueued so far.
  absl::Status Flush() { return WaitDurable(last_ticket()); }
  // OK unless the last commit failed (then UNAVAILABLE, until one succeeds).
  absl::Status health() const;
  CommitHealth Health() const;

 private:
  void Run();

  Store* store_;
  CommitListener listener_;
  const CommitRetry retry_;
  mutable std::mutex mu_;
  std::condition_variable work_;     // something was enqueued, or stopping
  std::condition_variable durable_;  // durable_ticket_ advanced or a commit failed
  std::vector<BatchedWrite> queue_;
  std::vector<const char*> queue_operations_;
  // A batch whose commit failed, retried before (and with) queue_.
  std::vector<BatchedWrite> failed_;
  std::vector<const char*> failed_operations_;
  uint64_t last_ticket_ = 0;
  uint64_t durable_ticket_ = 0;
  absl::Status commit_error_;
  int64_t failed_commits_ = 0;
  size_t committing_ = 0;  // writes in the commit under way
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace unas::store

#endif  // UNAS_COORDINATOR_STORE_GROUP_COMMIT_H_
