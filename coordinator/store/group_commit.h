// Group commit: the coordinator's writes go through one thread that runs
// every write queued meanwhile in one durable transaction. With
// synchronous=FULL each commit costs an fsync (milliseconds on real disks);
// one fsync per batch instead of per event keeps the throughput of durable
// acknowledgements above the disk's single-commit rate.
//
// The caller changes its in-memory state and enqueues the matching write
// under its own lock (so writes are stored in the order the state changed),
// then releases the lock and waits for the write's ticket to be durable
// before it acknowledges anything. Once a write or a commit fails, nothing
// more is written (the caller's memory already holds the change, and a later
// batch must not be stored without an earlier one): every wait returns the
// error, and the process must restart from the database.
#ifndef UNAS_COORDINATOR_STORE_GROUP_COMMIT_H_
#define UNAS_COORDINATOR_STORE_GROUP_COMMIT_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "coordinator/store/store.h"

namespace unas::store {

class GroupCommitter {
 public:
  // Told, after each durable commit, the operations it held and how long the
  // commit took (for metrics); may be empty.
  using CommitListener =
      std::function<void(const std::vector<const char*>& operations, double seconds)>;

  // `store` must outlive this object; nothing else may write to it meanwhile.
  explicit GroupCommitter(Store* store, CommitListener listener = {});
  // Stores everything enqueued, then stops the thread.
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
  // an error once the store has failed.
  absl::Status WaitDurable(uint64_t ticket);
  // Waits for everything enqueued so far.
  absl::Status Flush() { return WaitDurable(last_ticket()); }
  // OK until a commit failed.
  absl::Status health() const;

 private:
  void Run();

  Store* store_;
  CommitListener listener_;
  mutable std::mutex mu_;
  std::condition_variable work_;     // something was enqueued, or stopping
  std::condition_variable durable_;  // durable_ticket_ advanced or a commit failed
  std::vector<BatchedWrite> queue_;
  std::vector<const char*> queue_operations_;
  uint64_t last_ticket_ = 0;
  uint64_t durable_ticket_ = 0;
  absl::Status commit_error_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace unas::store

#endif  // UNAS_COORDINATOR_STORE_GROUP_COMMIT_H_
