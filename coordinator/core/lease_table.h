// The leases in force, by lease id and by the worker holding them. The two
// indexes change together (Add, Remove) and nowhere else, so "which leases
// does this worker hold" (its busy slots, the leases a restarted worker
// loses, those a worker has forgotten) is a lookup, not a scan of every
// lease. Plain data; the coordinator changes it under its lock.
#ifndef UNAS_COORDINATOR_CORE_LEASE_TABLE_H_
#define UNAS_COORDINATOR_CORE_LEASE_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace unas::coordinator {

struct LeaseRef {
  int64_t job_id = 0;
  int64_t candidate_id = 0;
  int64_t leased_at_ms = 0;  // 0: leased before a restart (unknown)
  std::string worker_id;     // the holder
  // The most training steps its heartbeats reported, and when that count
  // last grew (or the lease began, or the coordinator restarted): a lease
  // whose count stands still for the job's progress_timeout_seconds ends.
  int64_t progress_steps = 0;
  int64_t progress_ms = 0;
};

class LeaseTable {
 public:
  using Map = absl::flat_hash_map<std::string, LeaseRef>;

  // Records a lease (replacing one with the same id).
  void Add(const std::string& lease_id, LeaseRef ref);
  // Ends a lease; nothing when it is not in force.
  void Remove(const std::string& lease_id);

  // The lease, or null when it is not in force.
  const LeaseRef* Find(const std::string& lease_id) const;
  LeaseRef* Find(const std::string& lease_id);
  bool contains(const std::string& lease_id) const { return by_id_.contains(lease_id); }
  bool empty() const { return by_id_.empty(); }
  size_t size() const { return by_id_.size(); }
  // Every lease, by id, in no particular order.
  Map::const_iterator begin() const { return by_id_.begin(); }
  Map::const_iterator end() const { return by_id_.end(); }

  // The leases `worker_id` holds, by job then candidate id (a copy: ending
  // them while walking it is safe).
  std::vector<LeaseRef> HeldBy(const std::string& worker_id) const;
  // How many leases `worker_id` holds (its busy slots).
  int CountHeldBy(const std::string& worker_id) const;

 private:
  Map by_id_;
  // Worker id -> the ids of the leases it holds; a worker holding none has
  // no entry.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> ids_by_worker_;
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_LEASE_TABLE_H_
