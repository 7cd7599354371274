#include "coordinator/core/lease_table.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace unas::coordinator {

void LeaseTable::Add(const std::string& lease_id, LeaseRef ref) {
  Remove(lease_id);
  ids_by_worker_[ref.worker_id].insert(lease_id);
  by_id_.emplace(lease_id, std::move(ref));
}

void LeaseTable::Remove(const std::string& lease_id) {
  auto it = by_id_.find(lease_id);
  if (it == by_id_.end()) return;
  auto held = ids_by_worker_.find(it->second.worker_id);
  if (held != ids_by_worker_.end()) {
    held->second.erase(lease_id);
    if (held->second.empty()) ids_by_worker_.erase(held);
  }
  by_id_.erase(it);
}

const LeaseRef* LeaseTable::Find(const std::string& lease_id) const {
  auto it = by_id_.find(lease_id);
  return it == by_id_.end() ? nullptr : &it->second;
}

LeaseRef* LeaseTable::Find(const std::string& lease_id) {
  auto it = by_id_.find(lease_id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::vector<LeaseRef> LeaseTable::HeldBy(const std::string& worker_id) const {
  std::vector<LeaseRef> held;
  auto ids = ids_by_worker_.find(worker_id);
  if (ids == ids_by_worker_.end()) return held;
  held.reserve(ids->second.size());
  for (const std::string& lease_id : ids->second) held.push_back(by_id_.at(lease_id));
  std::sort(held.begin(), held.end(), [](const LeaseRef& a, const LeaseRef& b) {
    return std::tie(a.job_id, a.candidate_id) < std::tie(b.job_id, b.candidate_id);
  });
  return held;
}

int LeaseTable::CountHeldBy(const std::string& worker_id) const {
  auto ids = ids_by_worker_.find(worker_id);
  return ids == ids_by_worker_.end() ? 0 : static_cast<int>(ids->second.size());
}

}  // namespace unas::coordinator
