// The JobService calls of Coordinator (coordinator.h): jobs submitted,
// read, listed and cancelled, candidate listings, Pareto fronts and exports,
// the workers' list, and WatchJob's events. Queries choose under the lock
// what an answer holds and copy the rows still in memory; finished rows and
// blobs are read from the store after it (job_queries.h).
#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/job_spec/loader.h"
#include "coordinator/core/coordinator.h"
#include "coordinator/core/coordinator_impl.h"
#include "coordinator/core/job_queries.h"
#include "coordinator/core/restart_replay.h"
#include "google/protobuf/util/time_util.h"

namespace unas::coordinator {

namespace {
using google::protobuf::util::TimeUtil;
}  // namespace

absl::StatusOr<v1::Job> Coordinator::SubmitJob(v1::JobSpec spec) {
  return impl_->Durably([&]() -> absl::StatusOr<v1::Job> {
    if (!spec.has_lease_ttl_seconds() && impl_->options.default_lease_ttl_seconds > 0) {
      spec.set_lease_ttl_seconds(impl_->options.default_lease_ttl_seconds);
    }
    absl::StatusOr<v1::JobSpec> prepared = PrepareJobSpec(std::move(spec));
    if (!prepared.ok()) return prepared.status();
    std::lock_guard<std::mutex> lock(impl_->mu);
    JobEntry probe;
    probe.job.mutable_spec()->CopyFrom(*prepared);
    if (absl::Status status = PrepareJob(probe); !status.ok()) {
      return absl::Status(status.code() == absl::StatusCode::kUnimplemented
                              ? absl::StatusCode::kInvalidArgument
                              : status.code(),
                          status.message());
    }
    int64_t now = impl_->Now();
    const int64_t job_id = impl_->next_job_id++;
    impl_->Write("job", [job_id, spec = *prepared, now](store::Store& db) {
      return db.InsertJob(job_id, spec, now);
    });
    JobEntry& job = impl_->jobs[job_id];
    job = std::move(probe);
    job.job.set_job_id(job_id);
    job.job.set_state(v1::JOB_STATE_RUNNING);
    *job.job.mutable_create_time() = TimeUtil::MillisecondsToTimestamp(now);
    *job.job.mutable_update_time() = TimeUtil::MillisecondsToTimestamp(now);
    impl_->AddEvent(job, v1::JobEvent());
    return impl_->JobView(job);
  });
}

absl::StatusOr<v1::Job> Coordinator::GetJob(int64_t job_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  absl::StatusOr<JobEntry*> job = impl_->FindJob(job_id);
  if (!job.ok()) return job.status();
  return impl_->JobView(**job);
}

std::vector<v1::Job> Coordinator::ListJobs(const v1::ListJobsRequest& request) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<v1::Job> out;
  for (const auto& [id, job] : impl_->jobs) {
    if (!request.states().empty() && std::find(request.states().begin(), request.states().end(),
                                               job.job.state()) == request.states().end()) {
      continue;
    }
    out.push_back(impl_->JobView(job));
  }
  return out;
}

absl::StatusOr<v1::Job> Coordinator::CancelJob(int64_t job_id) {
  return impl_->Durably([&]() -> absl::StatusOr<v1::Job> {
    std::lock_guard<std::mutex> lock(impl_->mu);
    absl::StatusOr<JobEntry*> job = impl_->FindJob(job_id);
    if (!job.ok()) return job.status();
    if (IsFinished((*job)->job.state())) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", job_id, " has already ended (", v1::JobState_Name((*job)->job.state()), ")"));
    }
    if (absl::Status status =
            impl_->SetJobState(**job, v1::JOB_STATE_CANCELLED, "cancelled by a client");
        !status.ok()) {
      return status;
    }
    return impl_->JobView(**job);
  });
}

absl::StatusOr<v1::ListCandidatesResponse> Coordinator::ListCandidates(
    const v1::ListCandidatesRequest& request) {
  // The page is chosen, and its rows still in memory copied, under the lock;
  // finished rows are read from the store after it (they no longer change).
  CandidatePage page;
  CandidateAssembly assembly;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    absl::StatusOr<JobEntry*> found = impl_->FindJob(request.job_id());
    if (!found.ok()) return found.status();
    absl::StatusOr<CandidatePage> selected = SelectCandidatePage(**found, request);
    if (!selected.ok()) return selected.status();
    page = *std::move(selected);
    assembly.CopyInMemory(**found, page.ids);
  }
  absl::StatusOr<std::vector<v1::Candidate>> candidates =
      std::move(assembly).Read(*impl_->store, request.job_id(), page.ids);
  if (!candidates.ok()) return candidates.status();
  v1::ListCandidatesResponse response;
  response.set_total_size(page.total_size);
  for (v1::Candidate& candidate : *candidates) *response.add_candidates() = std::move(candidate);
  if (!page.next_page_token.empty()) response.set_next_page_token(page.next_page_token);
  return response;
}

absl::StatusOr<v1::Candidate> Coordinator::GetCandidate(int64_t job_id, int64_t candidate_id) {
  CandidateAssembly assembly;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    absl::StatusOr<JobEntry*> found = impl_->FindJob(job_id);
    if (!found.ok()) return found.status();
    if (!(*found)->has(candidate_id)) {
      return absl::NotFoundError(absl::StrCat("job ", job_id, " has no candidate ", candidate_id));
    }
    assembly.CopyInMemory(**found, {candidate_id});
  }
  absl::StatusOr<std::vector<v1::Candidate>> candidates =
      std::move(assembly).Read(*impl_->store, job_id, {candidate_id});
  if (!candidates.ok()) return candidates.status();
  return std::move(candidates->front());
}

absl::StatusOr<v1::GetParetoFrontResponse> Coordinator::GetParetoFront(
    const v1::GetParetoFrontRequest& request) {
  // Evaluations not yet durable are taken from memory; the rest are read
  // from the store without the lock.
  std::vector<store::EvaluationPoint> recent;
  CandidateAssembly assembly;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    absl::StatusOr<JobEntry*> found = impl_->FindJob(request.job_id());
    if (!found.ok()) return found.status();
    if (absl::StatusOr<std::vector<int64_t>> checked = ParetoFrontIds({}, request); !checked.ok()) {
      return checked.status();
    }
    std::vector<int64_t> recent_ids;
    for (const auto& [id, row] : (*found)->finishing) {
      if (row.candidate.state() != v1::CANDIDATE_STATE_DONE) continue;
      recent.push_back(EvaluationPointOf(row.candidate));
      recent_ids.push_back(id);
    }
    assembly.CopyInMemory(**found, recent_ids);
  }
  absl::StatusOr<std::vector<store::EvaluationPoint>> points =
      impl_->store->ReadEvaluationPoints(request.job_id());
  if (!points.ok()) return points.status();
  absl::flat_hash_set<int64_t> stored;
  for (const store::EvaluationPoint& point : *points) stored.insert(point.candidate_id);
  for (store::EvaluationPoint& point : recent) {
    if (!stored.contains(point.candidate_id)) points->push_back(std::move(point));
  }
  absl::StatusOr<std::vector<int64_t>> front = ParetoFrontIds(*points, request);
  if (!front.ok()) return front.status();
  absl::StatusOr<std::vector<v1::Candidate>> candidates =
      std::move(assembly).Read(*impl_->store, request.job_id(), *front);
  if (!candidates.ok()) return candidates.status();
  v1::GetParetoFrontResponse response;
  for (v1::Candidate& candidate : *candidates) *response.add_candidates() = std::move(candidate);
  return response;
}

absl::StatusOr<v1::ExportCandidateResponse> Coordinator::ExportCandidate(int64_t job_id,
                                                                         int64_t candidate_id) {
  v1::ExportCandidateResponse response;
  CandidateAssembly assembly;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    absl::StatusOr<JobEntry*> found = impl_->FindJob(job_id);
    if (!found.ok()) return found.status();
    JobEntry& job = **found;
    if (!job.has(candidate_id)) {
      return absl::NotFoundError(absl::StrCat("job ", job_id, " has no candidate ", candidate_id));
    }
    const v1::CandidateState state = job.state(candidate_id);
    if (state != v1::CANDIDATE_STATE_DONE) {
      return absl::FailedPreconditionError(
          absl::StrCat("candidate ", candidate_id, " is ", v1::CandidateState_Name(state),
                       ": only evaluated candidates can be exported"));
    }
    assembly.CopyInMemory(job, {candidate_id});
    *response.mutable_input_shape() = job.job.spec().input_shape();
    response.set_num_classes(job.job.spec().num_classes());
  }
  // The row and the blobs (up to 64 MiB) are read without the lock, through
  // the store's reader, once the evaluation is surely committed.
  if (absl::Status durable = impl_->committer->Flush(); !durable.ok()) return durable;
  absl::StatusOr<std::vector<v1::Candidate>> candidates =
      std::move(assembly).Read(*impl_->store, job_id, {candidate_id});
  if (!candidates.ok()) return candidates.status();
  *response.mutable_architecture() = candidates->front().architecture();
  *response.mutable_candidate() = std::move(candidates->front());
  // A reused result's blobs come from the evaluation it copies (the store
  // follows its reused_from), not from whichever candidate shares its
  // fingerprint now.
  absl::StatusOr<store::Artifacts> artifacts = impl_->store->LoadArtifacts(job_id, candidate_id);
  if (!artifacts.ok()) return artifacts.status();
  response.set_trained_weights(std::move(artifacts->trained_weights));
  *response.mutable_quantized_model() = std::move(artifacts->quantized_model);
  return response;
}

std::vector<v1::WorkerInfo> Coordinator::ListWorkers(bool include_inactive) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  int64_t now = impl_->Now();
  int64_t horizon = int64_t{impl_->options.heartbeat_interval_seconds} * 1000 * 6;
  std::vector<v1::WorkerInfo> out;
  for (const auto& [id, worker] : impl_->workers) {
    if (!include_inactive && now - worker.last_seen_ms > horizon) continue;
    v1::WorkerInfo info = worker.info;
    info.set_busy_slots(impl_->leases.CountHeldBy(id));
    *info.mutable_last_heartbeat() = TimeUtil::MillisecondsToTimestamp(worker.last_seen_ms);
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const v1::WorkerInfo& a, const v1::WorkerInfo& b) { return a.name() < b.name(); });
  return out;
}

void Coordinator::CompactEndedJobs() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const int64_t cutoff = impl_->Now() - int64_t{impl_->options.ended_job_grace_seconds} * 1000;
  for (auto& [job_id, job] : impl_->jobs) {
    if (job.compacted || !IsFinished(job.job.state())) continue;
    if (TimeUtil::TimestampToMilliseconds(job.job.update_time()) > cutoff) continue;
    job.Compact();
  }
}

absl::StatusOr<bool> Coordinator::NextEvents(int64_t job_id, int64_t* cursor,
                                             absl::Duration timeout,
                                             std::vector<v1::JobEvent>* events) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  absl::StatusOr<JobEntry*> found = impl_->FindJob(job_id);
  if (!found.ok()) return found.status();
  JobEntry* job = *found;
  auto end_seq = [&] { return job->events_base + static_cast<int64_t>(job->events.size()); };
  if (*cursor <= 0) {
    v1::JobEvent snapshot;
    snapshot.set_job_id(job_id);
    *snapshot.mutable_time() = TimeUtil::MillisecondsToTimestamp(impl_->Now());
    *snapshot.mutable_progress() = job->Progress();
    snapshot.set_state(job->job.state());
    events->push_back(std::move(snapshot));
    *cursor = end_seq();
    return !IsFinished(job->job.state());
  }
  impl_->changed.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    return impl_->shutdown || end_seq() > *cursor || IsFinished(job->job.state());
  });
  int64_t from = std::max(*cursor, job->events_base);
  for (int64_t seq = from; seq < end_seq(); ++seq) {
    v1::JobEvent& event = events->emplace_back();
    if (!event.ParseFromString(job->events[static_cast<size_t>(seq - job->events_base)])) {
      return absl::InternalError(absl::StrCat("job ", job_id, ": event ", seq + 1, " is corrupt"));
    }
  }
  *cursor = end_seq();
  return !IsFinished(job->job.state()) && !impl_->shutdown;
}

}  // namespace unas::coordinator
