// Scheduling: round-robin acquisition, leases of queued candidates and the
// proposal loop (scheduling.h).
#include "coordinator/core/scheduling.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "coordinator/core/candidate_identity.h"
#include "coordinator/core/job_queries.h"
#include "coordinator/core/lease_lifecycle.h"
#include "coordinator/core/proposal_outcome.h"
#include "coordinator/search/algorithm.h"

namespace unas::coordinator {
namespace {

// Candidates of `job` that count against its rounds without being done.
int InFlightCount(const JobEntry& job) {
  return job.leased + static_cast<int>(job.queue.size()) + job.duplicates_waiting;
}

// Leases the job's next queued candidate to `worker_id`.
v1::Task LeaseQueued(CoordinatorState& state, JobEntry& job, const std::string& worker_id) {
  CandidateRow leased = LeasedCopy(state, job, job.active_row(job.queue.front()), worker_id);
  const uint64_t ticket =
      state.Write("lease", [leased](store::Store& db) { return db.LeaseCandidate(leased); });
  job.queue.pop_front();
  TrackLease(state, job, leased);
  v1::Task task = MakeTask(job, leased);
  state.PutRow(job, std::move(leased), ticket);
  return task;
}

// Stores the model records a proposal run made (not awaited: they save a
// restart work, and one that finds some missing computes them itself).
void WriteModelRecords(CoordinatorState& state, const JobEntry& job,
                       std::vector<search::ModelRecord> records) {
  if (records.empty() || IsFinished(job.job.state())) return;
  auto rows = std::make_shared<std::vector<store::ModelStateRow>>();
  rows->reserve(records.size());
  for (search::ModelRecord& record : records) {
    rows->push_back({record.kind, record.position, std::move(record.bytes)});
  }
  state.Write("model_state", [job_id = job.job.job_id(), rows](store::Store& db) {
    return db.PutModelState(job_id, *rows);
  });
}

// A proposal of a network the job has evaluated takes that evaluation's
// result (RecordProposal): its candidate is read here, without the lock
// (finished rows never change), so that a reuse never holds the lock while
// the store's reader serves a 64 MiB export or a Pareto scan. The caller
// still holds the job's pipeline, so no other proposal of the job starts
// meanwhile.
void PrereadReuseSource(CoordinatorState& state, JobEntry& job, ProposalOutcome& outcome,
                        std::unique_lock<std::mutex>& lock) {
  if (!outcome.proposal.ok() || !outcome.proposal->has_value()) return;
  const search::Proposal& proposal = **outcome.proposal;
  auto it = job.done_by_fingerprint.find(
      CandidateFingerprint(proposal.architecture, job.data, proposal.sparsity));
  if (it == job.done_by_fingerprint.end()) return;
  const int64_t source_id = it->second;
  CandidateAssembly assembly;
  assembly.CopyInMemory(job, {source_id});
  const int64_t job_id = job.job.job_id();
  lock.unlock();
  absl::StatusOr<std::vector<v1::Candidate>> read =
      std::move(assembly).Read(*state.store, job_id, {source_id});
  lock.lock();
  // On an error RecordReuse reads again and fails the job with the cause.
  if (read.ok() && read->size() == 1) {
    outcome.reuse_source_id = source_id;
    outcome.reuse_source = std::move(read->front());
  }
}

}  // namespace

v1::Task MakeTask(const JobEntry& job, const CandidateRow& row) {
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

std::vector<InFlightCandidate> InFlight(const JobEntry& job) {
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

std::optional<v1::Task> TryLease(CoordinatorState& state, JobEntry& job,
                                 const std::string& worker_id, std::unique_lock<std::mutex>& lock) {
  const v1::JobSpec& spec = job.job.spec();
  if (job.job.state() != v1::JOB_STATE_RUNNING) return std::nullopt;
  if (spec.max_parallel_evaluations() > 0 && job.leased >= spec.max_parallel_evaluations()) {
    return std::nullopt;
  }
  if (!job.queue.empty()) return LeaseQueued(state, job, worker_id);
  for (int attempt = 0; attempt < state.options.max_proposals_per_acquire; ++attempt) {
    if (job.job.state() != v1::JOB_STATE_RUNNING) return std::nullopt;
    int in_flight = InFlightCount(job);
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
    PrereadReuseSource(state, job, outcome, lock);
    job.proposals.End();
    WriteModelRecords(state, job, std::move(outcome.model_records));
    state.changed.notify_all();
    // While unlocked, only this pipeline adds candidates to the job, but
    // results, cancellations and failures may have come in.
    if (job.job.state() != v1::JOB_STATE_RUNNING) return std::nullopt;
    if (job.done + InFlightCount(job) >= job.rounds()) return std::nullopt;
    switch (RecordProposal(state, job, context.candidate_id, std::move(outcome), worker_id)) {
      case ProposalFate::kLeased:
        return MakeTask(job, job.active_row(context.candidate_id));
      case ProposalFate::kProposeAgain:
        continue;
      case ProposalFate::kStop:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<v1::Task> TryAcquire(CoordinatorState& state, const std::string& worker_id,
                                   std::unique_lock<std::mutex>& lock) {
  if (state.jobs.empty()) return std::nullopt;
  ReleaseForgottenLeases(state, worker_id);
  // Round robin: start after the job served last.
  std::vector<JobEntry*> order;
  for (auto it = state.jobs.upper_bound(state.last_served_job); it != state.jobs.end(); ++it) {
    order.push_back(&it->second);
  }
  for (auto it = state.jobs.begin(); it != state.jobs.end() && it->first <= state.last_served_job;
       ++it) {
    order.push_back(&it->second);
  }
  for (JobEntry* job : order) {
    if (std::optional<v1::Task> task = TryLease(state, *job, worker_id, lock)) {
      state.last_served_job = job->job.job_id();
      return task;
    }
  }
  return std::nullopt;
}

void MaybeLeaseNext(CoordinatorState& state, const v1::CompleteTaskRequest& request,
                    v1::CompleteTaskResponse* response, std::unique_lock<std::mutex>& lock) {
  if (!request.acquire_next() || state.shutdown || !state.workers.contains(request.worker_id())) {
    return;
  }
  if (std::optional<v1::Task> task = TryAcquire(state, request.worker_id(), lock)) {
    *response->mutable_next_task() = std::move(*task);
  }
}

}  // namespace unas::coordinator
