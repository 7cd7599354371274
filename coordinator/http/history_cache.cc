#include "coordinator/http/history_cache.h"

#include <string>
#include <utility>

namespace unas::dashboard {

bool JobChanged(const v1::Job& before, const v1::Job& after) {
  const v1::JobProgress& a = before.progress();
  const v1::JobProgress& b = after.progress();
  return before.state() != after.state() || a.evaluations_done() != b.evaluations_done() ||
         a.evaluations_failed() != b.evaluations_failed() ||
         before.update_time().seconds() != after.update_time().seconds() ||
         before.update_time().nanos() != after.update_time().nanos();
}

absl::StatusOr<std::shared_ptr<const JobSnapshot>> HistoryCache::Get(const v1::Job& job) {
  {
    absl::MutexLock lock(&mu_);
    auto it = snapshots_.find(job.job_id());
    if (it != snapshots_.end() && !JobChanged(it->second.snapshot->job, job)) {
      it->second.last_used = ++clock_;
      return it->second.snapshot;
    }
  }
  // Outside our mutex: two pollers may both refresh, which is harmless.
  auto snapshot = std::make_shared<JobSnapshot>();
  snapshot->job = job;
  snapshot->bytes = job.ByteSizeLong();
  v1::ListCandidatesRequest request;
  request.set_job_id(job.job_id());
  request.add_states(v1::CANDIDATE_STATE_DONE);
  request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
  request.set_page_size(1000);
  for (;;) {
    absl::StatusOr<v1::ListCandidatesResponse> page = coordinator_->ListCandidates(request);
    if (!page.ok()) return page.status();
    for (v1::Candidate& c : *page->mutable_candidates()) {
      snapshot->bytes += c.ByteSizeLong();
      snapshot->history.push_back(std::move(c));
    }
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  v1::GetParetoFrontRequest pareto_request;
  pareto_request.set_job_id(job.job_id());
  pareto_request.set_use_test_error(true);
  absl::StatusOr<v1::GetParetoFrontResponse> pareto = coordinator_->GetParetoFront(pareto_request);
  if (!pareto.ok()) return pareto.status();
  for (v1::Candidate& c : *pareto->mutable_candidates()) {
    snapshot->bytes += c.ByteSizeLong();
    snapshot->pareto.push_back(std::move(c));
  }

  std::shared_ptr<const JobSnapshot> result = std::move(snapshot);
  absl::MutexLock lock(&mu_);
  auto it = snapshots_.find(job.job_id());
  if (it != snapshots_.end()) {
    bytes_ -= it->second.snapshot->bytes;
    snapshots_.erase(it);
  }
  if (result->bytes <= max_bytes_) {
    snapshots_[job.job_id()] = Entry{result, ++clock_};
    bytes_ += result->bytes;
    EvictLocked();
  }
  return result;
}

void HistoryCache::EvictLocked() {
  while (bytes_ > max_bytes_ && !snapshots_.empty()) {
    auto oldest = snapshots_.begin();
    for (auto it = snapshots_.begin(); it != snapshots_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    }
    bytes_ -= oldest->second.snapshot->bytes;
    snapshots_.erase(oldest);
  }
}

size_t HistoryCache::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

size_t HistoryCache::size() const {
  absl::MutexLock lock(&mu_);
  return snapshots_.size();
}

}  // namespace unas::dashboard
