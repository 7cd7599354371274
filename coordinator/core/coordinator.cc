#include "coordinator/core/coordinator.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/job_spec/defaults.h"
#include "common/job_spec/loader.h"
#include "common/objectives/objectives.h"
#include "common/search_space/fingerprint.h"
#include "common/search_space/space.h"
#include "coordinator/core/candidate_identity.h"
#include "coordinator/core/candidate_metrics.h"
#include "coordinator/core/coordinator_state.h"
#include "coordinator/core/job_queries.h"
#include "coordinator/core/job_state.h"
#include "coordinator/core/lease_lifecycle.h"
#include "coordinator/core/proposal_pipeline.h"
#include "coordinator/core/restart_replay.h"
#include "coordinator/core/result_commit.h"
#include "coordinator/core/result_validation.h"
#include "coordinator/core/worker_input_limits.h"
#include "coordinator/search/algorithm.h"
#include "coordinator/store/group_commit.h"
#include "google/protobuf/util/time_util.h"

namespace unas::coordinator {
namespace {

using google::protobuf::util::TimeUtil;

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// The shared state (coordinator_state.h) and the scheduling: which job's
// candidate a worker gets next, and the proposals that make new ones.
struct Coordinator::Impl : CoordinatorState {
  void StartCommitter() {
    committer = std::make_unique<store::GroupCommitter>(
        store.get(), [this](const std::vector<const char*>& operations, double seconds) {
          if (options.observer == nullptr) return;
          for (const char* operation : operations) {
            options.observer->StoreCommit(operation, seconds);
          }
        });
    for (store::BatchedWrite& write : writes_before_start) {
      committer->Enqueue("restore", std::move(write));
    }
    writes_before_start.clear();
  }

  // Runs `call` (which takes mu itself), then waits, without mu, until
  // every write queued so far is durable: the answer acknowledges only what
  // a power loss cannot undo.
  template <typename Call>
  auto Durably(Call call) -> decltype(call()) {
    auto result = call();
    if (absl::Status durable = committer->Flush(); !durable.ok()) return durable;
    return result;
  }

  v1::Task MakeTask(const JobEntry& job, const CandidateRow& row) const {
    const v1::Candidate& candidate = row.candidate;
    const v1::JobSpec& spec = job.job.spec();
    v1::Task task;
    task.set_job_id(candidate.job_id());
    task.set_candidate_id(candidate.candidate_id());
    task.set_lease_id(row.lease_id);
    task.set_lease_ttl_seconds(spec.lease_ttl_seconds());
    task.set_attempt(candidate.attempts());
    *task.mutable_architecture() = candidate.architecture();
    if (candidate.has_sparsity()) task.set_sparsity(candidate.sparsity());
    *task.mutable_dataset() = spec.dataset();
    *task.mutable_training() = spec.training();
    *task.mutable_search_space() = spec.search_space();
    *task.mutable_input_shape() = spec.input_shape();
    task.set_num_classes(spec.num_classes());
    task.set_seed(search::CandidateSeed(spec.seed(), candidate.candidate_id()));
    task.set_job_seed(spec.seed());
    return task;
  }

  bool ExceedsEveryBound(const JobEntry& job, const v1::ResourceMetrics& metrics) const {
    double factor = job.job.spec().algorithm().skip_infeasible_factor();
    if (factor <= 0) return false;
    search::ObjectiveVector objectives = search::MakeObjectives(0.0, metrics);
    bool any = false;
    for (int i = 1; i < search::kNumObjectives; ++i) {
      if (!job.bounds[i]) continue;
      any = true;
      if (objectives[i] <= *job.bounds[i] * factor) return false;
    }
    return any;
  }

  // Copies of the job's candidates in flight: leased, queued, and duplicates
  // waiting for a result (an algorithm that models pending evaluations is
  // told about them).
  // They are exactly the job's active rows.
  std::vector<InFlightCandidate> InFlight(const JobEntry& job) const {
    std::vector<InFlightCandidate> out;
    for (const auto& [id, row] : job.active) {
      const v1::Candidate& candidate = row.candidate;
      out.push_back(
          {id, candidate.architecture(),
           candidate.has_sparsity() ? std::optional<double>(candidate.sparsity()) : std::nullopt});
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.candidate_id < b.candidate_id; });
    return out;
  }

  // The next task of job `job` for `worker_id`, if it has one now. `lock` holds
  // mu; it is released while the job's pipeline proposes (ProposalPipeline).
  std::optional<v1::Task> TryLease(JobEntry& job, const std::string& worker_id,
                                   std::unique_lock<std::mutex>& lock) {
    const v1::JobSpec& spec = job.job.spec();
    if (job.job.state() != v1::JOB_STATE_RUNNING) return std::nullopt;
    if (spec.max_parallel_evaluations() > 0 && job.leased >= spec.max_parallel_evaluations()) {
      return std::nullopt;
    }
    if (!job.queue.empty()) {
      CandidateRow leased = LeasedCopy(*this, job, job.active_row(job.queue.front()), worker_id);
      const uint64_t ticket =
          Write("lease", [leased](store::Store& db) { return db.LeaseCandidate(leased); });
      job.queue.pop_front();
      TrackLease(*this, job, leased);
      v1::Task task = MakeTask(job, leased);
      PutRow(job, std::move(leased), ticket);
      return task;
    }
    for (int attempt = 0; attempt < options.max_proposals_per_acquire; ++attempt) {
      if (job.job.state() != v1::JOB_STATE_RUNNING) return std::nullopt;
      int in_flight = job.leased + static_cast<int>(job.queue.size()) + job.duplicates_waiting;
      if (job.done + in_flight >= job.rounds()) return std::nullopt;
      search::ProposalContext context;
      context.candidate_id = job.candidate_count() + 1;
      context.evaluations_done = job.done;
      context.in_flight = in_flight;
      // One proposal at a time per job; a caller that finds the pipeline busy
      // tries other jobs or waits for `changed`, which End() signals.
      std::vector<search::Evaluated> observations;
      if (!job.proposals.TryBegin(&observations)) return std::nullopt;
      std::vector<InFlightCandidate> pending = InFlight(job);
      lock.unlock();
      ProposalOutcome outcome = job.proposals.Run(std::move(observations), context, pending);
      lock.lock();
      job.proposals.End();
      changed.notify_all();
      // While unlocked, only this pipeline adds candidates to the job, but
      // results, cancellations and failures may have come in.
      if (job.job.state() != v1::JOB_STATE_RUNNING) return std::nullopt;
      in_flight = job.leased + static_cast<int>(job.queue.size()) + job.duplicates_waiting;
      if (job.done + in_flight >= job.rounds()) return std::nullopt;
      absl::StatusOr<std::optional<search::Proposal>>& proposal = outcome.proposal;
      if (!proposal.ok()) {
        FailJob(job, absl::StrCat("the search could not propose candidate ", context.candidate_id,
                                  ": ", proposal.status().message()));
        return std::nullopt;
      }
      if (!proposal->has_value()) return std::nullopt;  // waits for results
      search::Proposal& proposed = **proposal;

      CandidateRow row;
      v1::Candidate& candidate = row.candidate;
      candidate.set_job_id(job.job.job_id());
      candidate.set_candidate_id(context.candidate_id);
      *candidate.mutable_architecture() = std::move(proposed.architecture);
      if (proposed.sparsity) candidate.set_sparsity(*proposed.sparsity);
      if (proposed.parent_id) candidate.set_parent_id(*proposed.parent_id);
      candidate.set_fingerprint(
          CandidateFingerprint(candidate.architecture(), job.data, proposed.sparsity));
      candidate.set_state(v1::CANDIDATE_STATE_QUEUED);
      *candidate.mutable_create_time() = TimeUtil::MillisecondsToTimestamp(Now());
      const absl::StatusOr<v1::ResourceMetrics>& metrics = outcome.metrics;
      if (!metrics.ok()) {
        FailJob(job, absl::StrCat("candidate ", candidate.candidate_id(),
                                  ": resource metrics failed: ", metrics.status().message()));
        return std::nullopt;
      }
      *candidate.mutable_dense_metrics() = *metrics;

      if (auto it = job.done_by_fingerprint.find(candidate.fingerprint());
          it != job.done_by_fingerprint.end()) {
        if (absl::Status status = RecordReuse(*this, job, std::move(row), it->second);
            !status.ok()) {
          return std::nullopt;
        }
        continue;
      }
      if (auto it = job.in_flight_by_fingerprint.find(candidate.fingerprint());
          it != job.in_flight_by_fingerprint.end()) {
        // The same network is queued or training: wait for its result.
        const uint64_t ticket =
            Write("duplicate", [row](store::Store& db) { return db.InsertCandidate(row); });
        job.duplicates_waiting_for[it->second].push_back(candidate.candidate_id());
        ++job.duplicates_waiting;
        PutRow(job, std::move(row), ticket);
        continue;
      }
      if (ExceedsEveryBound(job, *metrics)) {
        candidate.set_state(v1::CANDIDATE_STATE_SKIPPED);
        const uint64_t ticket =
            Write("skip", [row](store::Store& db) { return db.InsertCandidate(row); });
        PutRow(job, std::move(row), ticket);
        ++job.skipped;
        if (++job.consecutive_skips >= options.max_consecutive_skips) {
          FailJob(job, absl::StrCat(job.consecutive_skips,
                                    " proposals in a row exceeded every resource bound by more "
                                    "than algorithm.skip_infeasible_factor; relax the bounds or "
                                    "the factor"));
          return std::nullopt;
        }
        continue;
      }
      job.consecutive_skips = 0;
      CandidateRow leased = LeasedCopy(*this, job, row, worker_id);
      const uint64_t ticket =
          Write("lease", [leased](store::Store& db) { return db.InsertCandidate(leased); });
      job.in_flight_by_fingerprint[leased.candidate.fingerprint()] =
          leased.candidate.candidate_id();
      TrackLease(*this, job, leased);
      v1::Task task = MakeTask(job, leased);
      PutRow(job, std::move(leased), ticket);
      return task;
    }
    return std::nullopt;
  }

  std::optional<v1::Task> TryAcquire(const std::string& worker_id,
                                     std::unique_lock<std::mutex>& lock) {
    if (jobs.empty()) return std::nullopt;
    ReleaseForgottenLeases(*this, worker_id);
    // Round robin: start after the job served last.
    std::vector<JobEntry*> order;
    for (auto it = jobs.upper_bound(last_served_job); it != jobs.end(); ++it) {
      order.push_back(&it->second);
    }
    for (auto it = jobs.begin(); it != jobs.end() && it->first <= last_served_job; ++it) {
      order.push_back(&it->second);
    }
    for (JobEntry* job : order) {
      if (std::optional<v1::Task> task = TryLease(*job, worker_id, lock)) {
        last_served_job = job->job.job_id();
        return task;
      }
    }
    return std::nullopt;
  }

  // The piggy-backed next task of CompleteTask (no waiting).
  void MaybeLeaseNext(const v1::CompleteTaskRequest& request, v1::CompleteTaskResponse* response,
                      std::unique_lock<std::mutex>& lock) {
    if (!request.acquire_next() || shutdown || !workers.contains(request.worker_id())) return;
    if (std::optional<v1::Task> task = TryAcquire(request.worker_id(), lock)) {
      *response->mutable_next_task() = std::move(*task);
    }
  }

  // --- restart -------------------------------------------------------------
};

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
  absl::flat_hash_map<int64_t, v1::Candidate> in_memory;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    absl::StatusOr<JobEntry*> found = impl_->FindJob(request.job_id());
    if (!found.ok()) return found.status();
    absl::StatusOr<CandidatePage> selected = SelectCandidatePage(**found, request);
    if (!selected.ok()) return selected.status();
    page = *std::move(selected);
    for (int64_t id : page.ids) {
      if (const CandidateRow* row = (*found)->FindRow(id)) {
        in_memory.emplace(id, LightCandidate(row->candidate));
      }
    }
  }
  absl::StatusOr<std::vector<v1::Candidate>> candidates =
      AssembleCandidates(*impl_->store, request.job_id(), page.ids, std::move(in_memory));
  if (!candidates.ok()) return candidates.status();
  v1::ListCandidatesResponse response;
  response.set_total_size(page.total_size);
  for (v1::Candidate& candidate : *candidates) *response.add_candidates() = std::move(candidate);
  if (!page.next_page_token.empty()) response.set_next_page_token(page.next_page_token);
  return response;
}

absl::StatusOr<v1::Candidate> Coordinator::GetCandidate(int64_t job_id, int64_t candidate_id) {
  absl::flat_hash_map<int64_t, v1::Candidate> in_memory;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    absl::StatusOr<JobEntry*> found = impl_->FindJob(job_id);
    if (!found.ok()) return found.status();
    if (!(*found)->has(candidate_id)) {
      return absl::NotFoundError(absl::StrCat("job ", job_id, " has no candidate ", candidate_id));
    }
    if (const CandidateRow* row = (*found)->FindRow(candidate_id)) {
      in_memory.emplace(candidate_id, LightCandidate(row->candidate));
    }
  }
  absl::StatusOr<std::vector<v1::Candidate>> candidates =
      AssembleCandidates(*impl_->store, job_id, {candidate_id}, std::move(in_memory));
  if (!candidates.ok()) return candidates.status();
  return std::move(candidates->front());
}

absl::StatusOr<v1::GetParetoFrontResponse> Coordinator::GetParetoFront(
    const v1::GetParetoFrontRequest& request) {
  // Evaluations not yet durable are taken from memory; the rest are read
  // from the store without the lock.
  std::vector<store::EvaluationPoint> recent;
  absl::flat_hash_map<int64_t, v1::Candidate> in_memory;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    absl::StatusOr<JobEntry*> found = impl_->FindJob(request.job_id());
    if (!found.ok()) return found.status();
    if (absl::StatusOr<std::vector<int64_t>> checked = ParetoFrontIds({}, request); !checked.ok()) {
      return checked.status();
    }
    for (const auto& [id, row] : (*found)->finishing) {
      if (row.candidate.state() != v1::CANDIDATE_STATE_DONE) continue;
      recent.push_back(EvaluationPointOf(row.candidate));
      in_memory.emplace(id, LightCandidate(row.candidate));
    }
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
      AssembleCandidates(*impl_->store, request.job_id(), *front, std::move(in_memory));
  if (!candidates.ok()) return candidates.status();
  v1::GetParetoFrontResponse response;
  for (v1::Candidate& candidate : *candidates) *response.add_candidates() = std::move(candidate);
  return response;
}

absl::StatusOr<v1::ExportCandidateResponse> Coordinator::ExportCandidate(int64_t job_id,
                                                                         int64_t candidate_id) {
  v1::ExportCandidateResponse response;
  absl::flat_hash_map<int64_t, v1::Candidate> in_memory;
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
    if (const CandidateRow* row = job.FindRow(candidate_id)) {
      in_memory.emplace(candidate_id, LightCandidate(row->candidate));
    }
    *response.mutable_input_shape() = job.job.spec().input_shape();
    response.set_num_classes(job.job.spec().num_classes());
  }
  // The row and the blobs (up to 64 MiB) are read without the lock, through
  // the store's reader, once the evaluation is surely committed.
  if (absl::Status durable = impl_->committer->Flush(); !durable.ok()) return durable;
  absl::StatusOr<std::vector<v1::Candidate>> candidates =
      AssembleCandidates(*impl_->store, job_id, {candidate_id}, std::move(in_memory));
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
  absl::flat_hash_map<std::string, int> busy;
  for (const auto& [lease_id, ref] : impl_->leases) {
    ++busy[impl_->jobs.at(ref.job_id).active_row(ref.candidate_id).candidate.worker_id()];
  }
  std::vector<v1::WorkerInfo> out;
  for (const auto& [id, worker] : impl_->workers) {
    if (!include_inactive && now - worker.last_seen_ms > horizon) continue;
    v1::WorkerInfo info = worker.info;
    info.set_busy_slots(busy[id]);
    *info.mutable_last_heartbeat() = TimeUtil::MillisecondsToTimestamp(worker.last_seen_ms);
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const v1::WorkerInfo& a, const v1::WorkerInfo& b) { return a.name() < b.name(); });
  return out;
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

absl::StatusOr<v1::RegisterWorkerResponse> Coordinator::RegisterWorker(
    const v1::RegisterWorkerRequest& request) {
  return impl_->Durably([&]() -> absl::StatusOr<v1::RegisterWorkerResponse> {
    if (request.name().empty()) return absl::InvalidArgumentError("name is required");
    if (request.slots() < 0) return absl::InvalidArgumentError("slots must be >= 0");
    for (const auto& [field, value, limit] : {std::tuple<const char*, const std::string&, size_t>{
                                                  "name", request.name(), kMaxWorkerNameBytes},
                                              {"host", request.host(), kMaxHostBytes},
                                              {"device", request.device(), kMaxDeviceBytes}}) {
      if (absl::Status status = CheckSize(field, value.size(), limit); !status.ok()) return status;
    }
    std::lock_guard<std::mutex> lock(impl_->mu);
    std::string id;
    if (auto it = impl_->worker_ids_by_name.find(request.name());
        it != impl_->worker_ids_by_name.end()) {
      id = it->second;
    } else {
      id = absl::StrCat("w", impl_->next_worker_number);
    }
    v1::WorkerInfo info;
    info.set_worker_id(id);
    info.set_name(request.name());
    info.set_host(request.host());
    info.set_device(request.device());
    info.set_slots(std::max(1, request.slots()));
    if (auto it = impl_->workers.find(id); it != impl_->workers.end()) {
      info.set_evaluations_done(it->second.info.evaluations_done());
    }
    impl_->Write("worker", [info, now = impl_->Now()](store::Store& db) {
      return db.UpsertWorker(info, now);
    });
    if (!impl_->worker_ids_by_name.contains(request.name())) ++impl_->next_worker_number;
    impl_->worker_ids_by_name[request.name()] = id;
    WorkerEntry& entry = impl_->workers[id];
    entry.info = info;
    entry.last_seen_ms = impl_->Now();
    // A worker registering again has restarted: whatever it was training
    // before is lost, so its old leases are void now, not after their TTL.
    std::vector<LeaseRef> stale;
    for (const auto& [lease_id, ref] : impl_->leases) {
      if (impl_->jobs.at(ref.job_id).active_row(ref.candidate_id).candidate.worker_id() == id) {
        stale.push_back(ref);
      }
    }
    for (const LeaseRef& ref : stale) {
      EndAttempt(*impl_, impl_->jobs.at(ref.job_id), ref.candidate_id,
                 absl::StrCat("worker ", request.name(), " (", id, ") restarted while training it"),
                 /*permanent=*/false);
    }
    if (!stale.empty()) impl_->changed.notify_all();
    v1::RegisterWorkerResponse response;
    response.set_worker_id(id);
    response.set_heartbeat_interval_seconds(impl_->options.heartbeat_interval_seconds);
    return response;
  });
}

absl::StatusOr<v1::AcquireTaskResponse> Coordinator::AcquireTask(
    const v1::AcquireTaskRequest& request, absl::Duration wait,
    const std::function<bool()>& cancelled) {
  return impl_->Durably([&]() -> absl::StatusOr<v1::AcquireTaskResponse> {
    std::unique_lock<std::mutex> lock(impl_->mu);
    if (!impl_->workers.contains(request.worker_id())) {
      return absl::FailedPreconditionError(
          absl::StrCat("worker ", request.worker_id(), " is not registered; call RegisterWorker"));
    }
    auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(wait);
    v1::AcquireTaskResponse response;
    while (true) {
      impl_->TouchWorker(request.worker_id());
      ExpireDueLeases(*impl_);
      if (cancelled && cancelled()) return response;
      if (std::optional<v1::Task> task = impl_->TryAcquire(request.worker_id(), lock)) {
        *response.mutable_task() = std::move(*task);
        return response;
      }
      // Wait for a change. Without one, wake only every 200 ms to see whether
      // the caller has gone away: that check is all an idle wake-up costs, so
      // many idle workers do not make the coordinator rescan its leases.
      while (true) {
        if (impl_->shutdown) return response;
        const auto slice = cancelled ? std::min(deadline, std::chrono::steady_clock::now() +
                                                              std::chrono::milliseconds(200))
                                     : deadline;
        if (impl_->changed.wait_until(lock, slice) == std::cv_status::no_timeout) break;
        if (std::chrono::steady_clock::now() >= deadline) return response;
        if (cancelled && cancelled()) return response;
      }
    }
  });
}

absl::StatusOr<v1::HeartbeatResponse> Coordinator::Heartbeat(const v1::HeartbeatRequest& request) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (absl::Status status = impl_->CheckRegistered(request.worker_id()); !status.ok())
    return status;
  impl_->TouchWorker(request.worker_id());
  return RenewLease(*impl_, request);
}

absl::StatusOr<v1::CompleteTaskResponse> Coordinator::CompleteTask(
    const v1::CompleteTaskRequest& request) {
  // What needs no job context (sizes, the int8 model) is checked before the
  // lock: validating a model is the slowest part of a report.
  const absl::Status contents_valid = ValidateResultContents(request.result());
  // So are the resource metrics of a pruned network (an exact peak-memory
  // search): the candidate's architecture is read under the lock, the
  // metrics computed without it.
  std::optional<absl::StatusOr<v1::ResourceMetrics>> pruned_metrics;
  if (contents_valid.ok() && !request.result().pruning().empty()) {
    std::optional<v1::Architecture> architecture;
    DataShape data;
    bool sparse_size = false;
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      if (auto found = impl_->FindJob(request.job_id());
          found.ok() && (*found)->active.contains(request.candidate_id())) {
        architecture = (*found)->active_row(request.candidate_id()).candidate.architecture();
        data = (*found)->data;
        sparse_size = (*found)->sparse_size;
      }
    }
    if (architecture && ValidateEvaluationResult(request.result(), *architecture, data).ok()) {
      pruned_metrics =
          ComputeCandidateMetrics(*architecture, data, &request.result().pruning(), sparse_size);
    }
  }
  return impl_->Durably([&]() -> absl::StatusOr<v1::CompleteTaskResponse> {
    std::unique_lock<std::mutex> lock(impl_->mu);
    absl::StatusOr<JobEntry*> found = impl_->FindJob(request.job_id());
    if (!found.ok()) return found.status();
    JobEntry& job = **found;
    if (!job.has(request.candidate_id())) {
      return absl::NotFoundError(
          absl::StrCat("job ", request.job_id(), " has no candidate ", request.candidate_id()));
    }
    if (absl::Status status = impl_->CheckRegistered(request.worker_id()); !status.ok())
      return status;
    impl_->TouchWorker(request.worker_id());
    v1::CompleteTaskResponse response;
    const v1::CandidateState state = job.state(request.candidate_id());
    // Reports are idempotent: a duplicate, or a late report for a candidate
    // that has ended, is acknowledged and ignored.
    if (state != v1::CANDIDATE_STATE_LEASED && state != v1::CANDIDATE_STATE_QUEUED) {
      response.set_accepted(false);
      impl_->MaybeLeaseNext(request, &response, lock);
      return response;
    }
    const CandidateRow& row = job.active_row(request.candidate_id());
    absl::StatusOr<bool> holds = CheckReportHolder(job, request);
    if (!holds.ok()) return holds.status();
    const bool holds_lease = *holds;
    const v1::EvaluationResult& result = request.result();
    absl::Status valid = contents_valid;
    if (valid.ok())
      valid = ValidateEvaluationResult(result, row.candidate.architecture(), job.data);
    absl::StatusOr<v1::ResourceMetrics> metrics = row.candidate.dense_metrics();
    if (valid.ok() && !result.pruning().empty()) {
      metrics = pruned_metrics ? *pruned_metrics
                               : ComputeCandidateMetrics(row.candidate.architecture(), job.data,
                                                         &result.pruning(), job.sparse_size);
      if (!metrics.ok()) valid = metrics.status();
    }
    if (!valid.ok()) {
      std::string reason =
          absl::StrCat("invalid result from worker ", request.worker_id(), ": ", valid.message());
      if (holds_lease) {
        EndAttempt(*impl_, job, request.candidate_id(), reason, /*permanent=*/false,
                   /*released=*/false, absl::StrCat("invalid result: ", valid.message()));
      }
      return absl::InvalidArgumentError(reason);
    }

    if (absl::Status status = CommitEvaluation(*impl_, job, request, *metrics); !status.ok()) {
      return status;
    }
    impl_->changed.notify_all();
    response.set_accepted(true);
    impl_->MaybeLeaseNext(request, &response, lock);
    return response;
  });
}

absl::Status Coordinator::FailTask(const v1::FailTaskRequest& request) {
  return impl_->Durably([&]() -> absl::Status {
    if (absl::Status status = CheckSize("reason", request.reason().size(), kMaxReasonBytes);
        !status.ok()) {
      return status;
    }
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (absl::Status status = impl_->CheckRegistered(request.worker_id()); !status.ok())
      return status;
    impl_->TouchWorker(request.worker_id());
    auto it = impl_->leases.find(request.lease_id());
    if (it == impl_->leases.end()) return absl::OkStatus();  // already expired or ended
    JobEntry& job = impl_->jobs.at(it->second.job_id);
    const int64_t candidate_id = it->second.candidate_id;
    if (job.active_row(candidate_id).candidate.worker_id() != request.worker_id()) {
      return absl::PermissionDeniedError(absl::StrCat("worker ", request.worker_id(),
                                                      " does not hold lease \"", request.lease_id(),
                                                      "\": only its holder may fail it"));
    }
    std::string reason = absl::StrCat(
        "worker ", request.worker_id(), request.released() ? " released it: " : " failed: ",
        request.reason().empty() ? "no reason given" : request.reason());
    EndAttempt(*impl_, job, candidate_id, reason, request.permanent(), request.released(),
               request.released() ? "" : request.reason());
    impl_->changed.notify_all();
    return absl::OkStatus();
  });
}

void Coordinator::ExpireLeases() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    ExpireDueLeases(*impl_);
  }
  (void)impl_->committer->Flush();
}

absl::Status Coordinator::StoreHealth() const { return impl_->committer->health(); }

}  // namespace unas::coordinator
