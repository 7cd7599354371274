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
#include "common/search_space/fingerprint.h"
#include "common/search_space/space.h"
#include "coordinator/core/candidate_identity.h"
#include "coordinator/core/candidate_metrics.h"
#include "coordinator/core/job_queries.h"
#include "coordinator/core/job_state.h"
#include "coordinator/core/proposal_pipeline.h"
#include "coordinator/core/result_validation.h"
#include "coordinator/core/worker_input_limits.h"
#include "coordinator/search/algorithm.h"
#include "coordinator/search/objectives.h"
#include "coordinator/store/group_commit.h"
#include "google/protobuf/util/time_util.h"

namespace unas::coordinator {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kLeaseExpiredPrefix[] = "lease expired";
// The ticket of writes queued before the group committer starts: never
// known to be durable, so rows they store stay in memory.
constexpr uint64_t kNeverDurable = UINT64_MAX;

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsFinished(v1::JobState state) { return state != v1::JOB_STATE_RUNNING; }

struct WorkerEntry {
  v1::WorkerInfo info;
  int64_t last_seen_ms = 0;
};

struct LeaseRef {
  int64_t job_id;
  int64_t candidate_id;
  int64_t leased_at_ms;  // 0: leased before a restart (unknown)
};

}  // namespace

struct Coordinator::Impl {
  std::unique_ptr<store::Store> store;
  CoordinatorOptions options;
  // Every write goes through it (started after Restore); destroyed before
  // the store and the options its listener reads, storing what is still
  // queued.
  std::unique_ptr<store::GroupCommitter> committer;
  std::vector<store::BatchedWrite> writes_before_start;  // Restore's writes

  std::mutex mu;
  std::condition_variable changed;  // new work, results, job state, shutdown
  bool shutdown = false;
  std::map<int64_t, JobEntry> jobs;
  int64_t last_served_job = 0;
  absl::flat_hash_map<std::string, LeaseRef> leases;
  absl::flat_hash_map<std::string, WorkerEntry> workers;  // by worker_id
  absl::flat_hash_map<std::string, std::string> worker_ids_by_name;
  int64_t next_worker_number = 1;
  int64_t next_job_id = 1;
  absl::BitGen lease_id_bits;  // seeded from the OS: lease ids are unguessable

  int64_t Now() const { return options.now_ms(); }

  // Queues one event's store writes (mu held, so they are stored in the order
  // the in-memory state changed). Nothing is acknowledged before they are
  // durable: see Durably.
  // Returns the write's ticket (store/group_commit.h).
  uint64_t Write(const char* operation, store::BatchedWrite write) {
    if (committer == nullptr) {
      writes_before_start.push_back(std::move(write));
      return kNeverDurable;
    }
    return committer->Enqueue(operation, std::move(write));
  }

  // Records a candidate's new row, stored by the write `ticket`; finished
  // rows leave memory once durable (job_state.h).
  void PutRow(JobEntry& job, CandidateRow row, uint64_t ticket) {
    if (committer != nullptr) job.ForgetDurableRows(committer->durable_ticket());
    job.Put(std::move(row), ticket);
  }

  // Drops every job's finished rows that are durable by now.
  void ForgetDurableRows() {
    if (committer == nullptr) return;
    const uint64_t durable = committer->durable_ticket();
    for (auto& [job_id, job] : jobs) job.ForgetDurableRows(durable);
  }

  // A finished candidate: from memory while its write may not be durable,
  // else from the store (a short read; finished rows never change).
  absl::StatusOr<v1::Candidate> FinishedCandidate(const JobEntry& job, int64_t candidate_id) {
    if (const CandidateRow* row = job.FindRow(candidate_id)) return row->candidate;
    absl::StatusOr<std::vector<CandidateRow>> rows =
        store->ReadCandidates(job.job.job_id(), {candidate_id});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {
      return absl::InternalError(absl::StrCat("job ", job.job.job_id(), " candidate ", candidate_id,
                                              " is missing from the store"));
    }
    return std::move(rows->front().candidate);
  }

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

  // --- job helpers (mu held) -------------------------------------------------

  absl::StatusOr<JobEntry*> FindJob(int64_t job_id) {
    auto it = jobs.find(job_id);
    if (it == jobs.end()) return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
    return &it->second;
  }

  v1::Job JobView(const JobEntry& j) const {
    v1::Job job = j.job;
    *job.mutable_progress() = j.Progress();
    return job;
  }

  void AddEvent(JobEntry& j, v1::JobEvent event) {
    event.set_job_id(j.job.job_id());
    *event.mutable_time() = TimeUtil::MillisecondsToTimestamp(Now());
    *event.mutable_progress() = j.Progress();
    event.set_state(j.job.state());
    j.events.push_back(event.SerializeAsString());
    while (static_cast<int>(j.events.size()) > options.max_events_per_job) {
      j.events.pop_front();
      ++j.events_base;
    }
    changed.notify_all();
  }

  absl::Status SetJobState(JobEntry& j, v1::JobState state, const std::string& reason) {
    int64_t now = Now();
    Write("job_state", [job_id = j.job.job_id(), state, reason, now](store::Store& s) {
      return s.UpdateJobState(job_id, state, reason, now);
    });
    j.job.set_state(state);
    j.job.set_failure_reason(reason);
    *j.job.mutable_update_time() = TimeUtil::MillisecondsToTimestamp(now);
    AddEvent(j, v1::JobEvent());
    return absl::OkStatus();
  }

  // Marks a job FAILED after an error the search cannot recover from.
  void FailJob(JobEntry& j, const std::string& reason) {
    (void)SetJobState(j, v1::JOB_STATE_FAILED, reason);
  }

  // Feeds one DONE candidate to the job's in-memory state and algorithm.
  void ObserveDone(JobEntry& j, const CandidateRow& row) {
    const v1::Candidate& c = row.candidate;
    ++j.done;
    j.AddToHistory(c.candidate_id(), c.feasible());
    j.done_by_fingerprint.try_emplace(c.fingerprint(), c.candidate_id());
    if (c.feasible() &&
        (!j.best_feasible_error || c.evaluation().validation_error() < *j.best_feasible_error)) {
      j.best_feasible_error = c.evaluation().validation_error();
    }
    search::Evaluated e;
    e.candidate_id = c.candidate_id();
    e.architecture = c.architecture();
    if (c.has_sparsity()) e.sparsity = c.sparsity();
    e.objectives = search::MakeObjectives(c.evaluation().validation_error(), c.metrics());
    j.proposals.Observe(std::move(e));
  }

  absl::Status FinishIfComplete(JobEntry& j) {
    if (j.job.state() == v1::JOB_STATE_RUNNING && j.done >= j.rounds()) {
      return SetJobState(j, v1::JOB_STATE_SUCCEEDED, "");
    }
    return absl::OkStatus();
  }

  v1::Task MakeTask(const JobEntry& j, const CandidateRow& row) const {
    const v1::Candidate& c = row.candidate;
    const v1::JobSpec& spec = j.job.spec();
    v1::Task task;
    task.set_job_id(c.job_id());
    task.set_candidate_id(c.candidate_id());
    task.set_lease_id(row.lease_id);
    task.set_lease_ttl_seconds(spec.lease_ttl_seconds());
    task.set_attempt(c.attempts());
    *task.mutable_architecture() = c.architecture();
    if (c.has_sparsity()) task.set_sparsity(c.sparsity());
    *task.mutable_dataset() = spec.dataset();
    *task.mutable_training() = spec.training();
    *task.mutable_search_space() = spec.search_space();
    *task.mutable_input_shape() = spec.input_shape();
    task.set_num_classes(spec.num_classes());
    task.set_seed(search::CandidateSeed(spec.seed(), c.candidate_id()));
    task.set_job_seed(spec.seed());
    return task;
  }

  // Tracks a lease the store has accepted.
  void TrackLease(JobEntry& j, const CandidateRow& row) {
    ++j.leased;
    leases[row.lease_id] = {j.job.job_id(), row.candidate.candidate_id(), Now()};
  }

  std::string RandomLeaseId() {
    return absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(lease_id_bits), absl::kZeroPad16),
                        absl::Hex(absl::Uniform<uint64_t>(lease_id_bits), absl::kZeroPad16));
  }

  CandidateRow LeasedCopy(const JobEntry& j, const CandidateRow& row,
                          const std::string& worker_id) {
    CandidateRow leased = row;
    v1::Candidate& c = leased.candidate;
    c.set_state(v1::CANDIDATE_STATE_LEASED);
    c.set_attempts(c.attempts() + 1);
    c.set_worker_id(worker_id);
    // 128 random bits: a worker cannot guess another worker's lease, and a
    // stale holder of an old lease never matches a new one.
    leased.lease_id = RandomLeaseId();
    leased.lease_expiry_ms = Now() + int64_t{j.job.spec().lease_ttl_seconds()} * 1000;
    return leased;
  }

  bool ExceedsEveryBound(const JobEntry& j, const v1::ResourceMetrics& m) const {
    double factor = j.job.spec().algorithm().skip_infeasible_factor();
    if (factor <= 0) return false;
    search::ObjectiveVector x = search::MakeObjectives(0.0, m);
    bool any = false;
    for (int i = 1; i < search::kNumObjectives; ++i) {
      if (!j.bounds[i]) continue;
      any = true;
      if (x[i] <= *j.bounds[i] * factor) return false;
    }
    return any;
  }

  // Makes `row` DONE with the evaluation of candidate `source_id` (the same
  // network); returns what the store records for it.
  absl::StatusOr<store::EvaluationRow> CopyResult(JobEntry& j, CandidateRow& row,
                                                  int64_t source_id) {
    absl::StatusOr<v1::Candidate> source_candidate = FinishedCandidate(j, source_id);
    if (!source_candidate.ok()) return source_candidate.status();
    const v1::Candidate& source = *source_candidate;
    v1::Candidate& c = row.candidate;
    c.set_state(v1::CANDIDATE_STATE_DONE);
    *c.mutable_metrics() = source.metrics();
    *c.mutable_evaluation() = source.evaluation();
    c.set_feasible(source.feasible());
    c.set_worker_id(source.worker_id());
    *c.mutable_finish_time() = TimeUtil::MillisecondsToTimestamp(Now());
    row.finish_seq = static_cast<int64_t>(j.history.size()) + 1;
    store::EvaluationRow evaluation;
    evaluation.result = c.evaluation();
    evaluation.metrics = c.metrics();
    evaluation.feasible = c.feasible();
    evaluation.worker_id = c.worker_id();
    evaluation.reused_from = source_id;
    return evaluation;
  }

  // A DONE copy of an earlier evaluation of the same network: the search
  // sees a result without training anything twice.
  absl::Status RecordReuse(JobEntry& j, CandidateRow row, int64_t source_id) {
    absl::StatusOr<store::EvaluationRow> evaluation = CopyResult(j, row, source_id);
    if (!evaluation.ok()) return evaluation.status();
    const uint64_t ticket =
        Write("reuse", [row, evaluation = *std::move(evaluation)](store::Store& s) {
          return s.InsertReusedCandidate(row, evaluation);
        });
    ObserveDone(j, row);
    v1::JobEvent event;
    *event.mutable_candidate_done() = LightCandidate(row.candidate);
    PutRow(j, std::move(row), ticket);
    AddEvent(j, std::move(event));
    return FinishIfComplete(j);
  }

  // Copies of the job's candidates in flight: leased, queued, and duplicates
  // waiting for a result (an algorithm that models pending evaluations is
  // told about them).
  // They are exactly the job's active rows.
  std::vector<InFlightCandidate> InFlight(const JobEntry& j) const {
    std::vector<InFlightCandidate> out;
    for (const auto& [id, row] : j.active) {
      const v1::Candidate& c = row.candidate;
      out.push_back({id, c.architecture(),
                     c.has_sparsity() ? std::optional<double>(c.sparsity()) : std::nullopt});
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.candidate_id < b.candidate_id; });
    return out;
  }

  // The next task of job `j` for `worker_id`, if it has one now. `lock` holds
  // mu; it is released while the job's pipeline proposes (ProposalPipeline).
  std::optional<v1::Task> TryLease(JobEntry& j, const std::string& worker_id,
                                   std::unique_lock<std::mutex>& lock) {
    const v1::JobSpec& spec = j.job.spec();
    if (j.job.state() != v1::JOB_STATE_RUNNING) return std::nullopt;
    if (spec.max_parallel_evaluations() > 0 && j.leased >= spec.max_parallel_evaluations()) {
      return std::nullopt;
    }
    if (!j.queue.empty()) {
      CandidateRow leased = LeasedCopy(j, j.active_row(j.queue.front()), worker_id);
      const uint64_t ticket =
          Write("lease", [leased](store::Store& s) { return s.LeaseCandidate(leased); });
      j.queue.pop_front();
      TrackLease(j, leased);
      v1::Task task = MakeTask(j, leased);
      PutRow(j, std::move(leased), ticket);
      return task;
    }
    for (int attempt = 0; attempt < options.max_proposals_per_acquire; ++attempt) {
      if (j.job.state() != v1::JOB_STATE_RUNNING) return std::nullopt;
      int in_flight = j.leased + static_cast<int>(j.queue.size()) + j.duplicates_waiting;
      if (j.done + in_flight >= j.rounds()) return std::nullopt;
      search::ProposalContext context;
      context.candidate_id = j.candidate_count() + 1;
      context.evaluations_done = j.done;
      context.in_flight = in_flight;
      // One proposal at a time per job; a caller that finds the pipeline busy
      // tries other jobs or waits for `changed`, which End() signals.
      std::vector<search::Evaluated> observations;
      if (!j.proposals.TryBegin(&observations)) return std::nullopt;
      std::vector<InFlightCandidate> pending = InFlight(j);
      lock.unlock();
      ProposalOutcome outcome = j.proposals.Run(std::move(observations), context, pending);
      lock.lock();
      j.proposals.End();
      changed.notify_all();
      // While unlocked, only this pipeline adds candidates to the job, but
      // results, cancellations and failures may have come in.
      if (j.job.state() != v1::JOB_STATE_RUNNING) return std::nullopt;
      in_flight = j.leased + static_cast<int>(j.queue.size()) + j.duplicates_waiting;
      if (j.done + in_flight >= j.rounds()) return std::nullopt;
      absl::StatusOr<std::optional<search::Proposal>>& proposal = outcome.proposal;
      if (!proposal.ok()) {
        FailJob(j, absl::StrCat("the search could not propose candidate ", context.candidate_id,
                                ": ", proposal.status().message()));
        return std::nullopt;
      }
      if (!proposal->has_value()) return std::nullopt;  // waits for results
      search::Proposal& p = **proposal;

      CandidateRow row;
      v1::Candidate& c = row.candidate;
      c.set_job_id(j.job.job_id());
      c.set_candidate_id(context.candidate_id);
      *c.mutable_architecture() = std::move(p.architecture);
      if (p.sparsity) c.set_sparsity(*p.sparsity);
      if (p.parent_id) c.set_parent_id(*p.parent_id);
      c.set_fingerprint(CandidateFingerprint(c.architecture(), j.data, p.sparsity));
      c.set_state(v1::CANDIDATE_STATE_QUEUED);
      *c.mutable_create_time() = TimeUtil::MillisecondsToTimestamp(Now());
      const absl::StatusOr<v1::ResourceMetrics>& metrics = outcome.metrics;
      if (!metrics.ok()) {
        FailJob(j, absl::StrCat("candidate ", c.candidate_id(),
                                ": resource metrics failed: ", metrics.status().message()));
        return std::nullopt;
      }
      *c.mutable_dense_metrics() = *metrics;

      if (auto it = j.done_by_fingerprint.find(c.fingerprint());
          it != j.done_by_fingerprint.end()) {
        if (absl::Status s = RecordReuse(j, std::move(row), it->second); !s.ok()) {
          return std::nullopt;
        }
        continue;
      }
      if (auto it = j.in_flight_by_fingerprint.find(c.fingerprint());
          it != j.in_flight_by_fingerprint.end()) {
        // The same network is queued or training: wait for its result.
        const uint64_t ticket =
            Write("duplicate", [row](store::Store& s) { return s.InsertCandidate(row); });
        j.duplicates_waiting_for[it->second].push_back(c.candidate_id());
        ++j.duplicates_waiting;
        PutRow(j, std::move(row), ticket);
        continue;
      }
      if (ExceedsEveryBound(j, *metrics)) {
        c.set_state(v1::CANDIDATE_STATE_SKIPPED);
        const uint64_t ticket =
            Write("skip", [row](store::Store& s) { return s.InsertCandidate(row); });
        PutRow(j, std::move(row), ticket);
        ++j.skipped;
        if (++j.consecutive_skips >= options.max_consecutive_skips) {
          FailJob(j, absl::StrCat(j.consecutive_skips,
                                  " proposals in a row exceeded every resource bound by more "
                                  "than algorithm.skip_infeasible_factor; relax the bounds or "
                                  "the factor"));
          return std::nullopt;
        }
        continue;
      }
      j.consecutive_skips = 0;
      CandidateRow leased = LeasedCopy(j, row, worker_id);
      const uint64_t ticket =
          Write("lease", [leased](store::Store& s) { return s.InsertCandidate(leased); });
      j.in_flight_by_fingerprint[leased.candidate.fingerprint()] = leased.candidate.candidate_id();
      TrackLease(j, leased);
      v1::Task task = MakeTask(j, leased);
      PutRow(j, std::move(leased), ticket);
      return task;
    }
    return std::nullopt;
  }

  std::optional<v1::Task> TryAcquire(const std::string& worker_id,
                                     std::unique_lock<std::mutex>& lock) {
    if (jobs.empty()) return std::nullopt;
    ReleaseForgottenLeases(worker_id);
    // Round robin: start after the job served last.
    std::vector<JobEntry*> order;
    for (auto it = jobs.upper_bound(last_served_job); it != jobs.end(); ++it) {
      order.push_back(&it->second);
    }
    for (auto it = jobs.begin(); it != jobs.end() && it->first <= last_served_job; ++it) {
      order.push_back(&it->second);
    }
    for (JobEntry* j : order) {
      if (std::optional<v1::Task> task = TryLease(*j, worker_id, lock)) {
        last_served_job = j->job.job_id();
        return task;
      }
    }
    return std::nullopt;
  }

  // A worker asks for work only from a free slot, so when it asks it holds at
  // most slots - 1 leases it knows of. Any more were granted by an answer that
  // never reached it: the coordinator was killed between committing a lease
  // and replying, or a CompleteTask whose reply was lost handed out the next
  // task. Those candidates go back to the queue now instead of waiting out
  // their TTL, and the attempt does not count (nothing ran). The leases that
  // expire first go: a lease the worker knows of is heartbeated, so it expires
  // later than one it never heard of, unless it was granted just before.
  void ReleaseForgottenLeases(const std::string& worker_id) {
    auto w = workers.find(worker_id);
    if (w == workers.end()) return;
    const size_t slots = static_cast<size_t>(std::max(1, w->second.info.slots()));
    std::vector<std::pair<int64_t, LeaseRef>> held;  // (expiry, lease)
    for (const auto& [lease_id, ref] : leases) {
      const CandidateRow& row = jobs.at(ref.job_id).active_row(ref.candidate_id);
      if (row.candidate.worker_id() == worker_id) held.push_back({row.lease_expiry_ms, ref});
    }
    if (held.size() < slots) return;
    std::sort(held.begin(), held.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first, a.second.job_id, a.second.candidate_id) <
             std::tie(b.first, b.second.job_id, b.second.candidate_id);
    });
    const size_t forgotten = held.size() - (slots - 1);
    for (size_t i = 0; i < forgotten; ++i) {
      EndAttempt(jobs.at(held[i].second.job_id), held[i].second.candidate_id,
                 absl::StrCat("worker ", w->second.info.name(), " (", worker_id,
                              ") asked for new work without knowing of this lease (the reply "
                              "that granted it was lost)"),
                 /*permanent=*/false, /*released=*/true);
    }
    changed.notify_all();
  }

  // An attempt ended without a result: back to the queue, or FAILED after
  // max_attempts (or at once when the failure is the candidate's own). A
  // released attempt (the worker is shutting down) is re-queued without
  // counting: pre-emption on a cluster must not use up a candidate's attempts.
  // `cause` is what the worker said went wrong (empty for expired leases and
  // restarts, which say nothing about the job): when max_consecutive_failures
  // candidates in a row are given up for the same cause, the job fails.
  void EndAttempt(JobEntry& j, int64_t candidate_id, const std::string& reason, bool permanent,
                  bool released = false, const std::string& cause = "") {
    const CandidateRow& current = j.active_row(candidate_id);
    const std::string lease_id = current.lease_id;
    const std::string holder = current.candidate.worker_id();
    CandidateRow next = current;
    v1::Candidate& c = next.candidate;
    const int32_t attempt = c.attempts();
    if (released && !permanent) c.set_attempts(std::max(0, attempt - 1));
    bool give_up =
        !(released && !permanent) && (permanent || c.attempts() >= j.job.spec().max_attempts());
    c.set_state(give_up ? v1::CANDIDATE_STATE_FAILED : v1::CANDIDATE_STATE_QUEUED);
    c.add_failure_reasons(reason);
    next.lease_id.clear();
    next.lease_expiry_ms = 0;
    if (give_up) *c.mutable_finish_time() = TimeUtil::MillisecondsToTimestamp(Now());
    const uint64_t ticket =
        Write("attempt_failure", [next, attempt, reason, now = Now()](store::Store& s) {
          return s.RecordAttemptFailure(next, attempt, reason, now);
        });
    leases.erase(lease_id);
    --j.leased;
    if (give_up) {
      j.ForgetEndedLeases(candidate_id);
    } else {
      j.ended_leases[lease_id] = {candidate_id, holder};
    }
    bool expired = absl::StartsWith(reason, kLeaseExpiredPrefix);
    if (expired) ++j.lease_expiries;
    if (options.observer != nullptr) {
      options.observer->AttemptEnded(j.job.job_id(), give_up, expired);
    }
    const uint64_t fingerprint = c.fingerprint();
    v1::JobEvent event;
    if (give_up) {
      ++j.failed;
      *event.mutable_candidate_failed() = LightCandidate(c);
    } else {
      j.queue.push_front(candidate_id);
      *event.mutable_candidate_requeued() = LightCandidate(c);
    }
    PutRow(j, std::move(next), ticket);
    AddEvent(j, std::move(event));
    if (give_up) PromoteWaitingDuplicate(j, candidate_id, fingerprint);
    if (give_up && !cause.empty()) CountFailureCause(j, cause);
  }

  // A candidate with duplicates waiting failed: the first of them is trained
  // instead, and the others wait for it.
  void PromoteWaitingDuplicate(JobEntry& j, int64_t failed_id, uint64_t fingerprint) {
    if (auto it = j.in_flight_by_fingerprint.find(fingerprint);
        it != j.in_flight_by_fingerprint.end() && it->second == failed_id) {
      j.in_flight_by_fingerprint.erase(it);
    }
    auto waiting = j.duplicates_waiting_for.find(failed_id);
    if (waiting == j.duplicates_waiting_for.end()) return;
    std::vector<int64_t> ids = std::move(waiting->second);
    j.duplicates_waiting_for.erase(waiting);
    const int64_t promoted = ids.front();
    --j.duplicates_waiting;
    j.queue.push_back(promoted);
    j.in_flight_by_fingerprint[fingerprint] = promoted;
    if (ids.size() > 1) {
      j.duplicates_waiting_for[promoted].assign(ids.begin() + 1, ids.end());
    }
  }

  // The candidate `source_id` is DONE: its waiting duplicates take its result.
  void ResolveWaitingDuplicates(JobEntry& j, int64_t source_id) {
    auto waiting = j.duplicates_waiting_for.find(source_id);
    if (waiting == j.duplicates_waiting_for.end()) return;
    std::vector<int64_t> ids = std::move(waiting->second);
    j.duplicates_waiting_for.erase(waiting);
    for (int64_t id : ids) {
      --j.duplicates_waiting;
      CandidateRow row = j.active_row(id);
      absl::StatusOr<store::EvaluationRow> evaluation = CopyResult(j, row, source_id);
      if (!evaluation.ok()) {
        FailJob(j, absl::StrCat("candidate ", id, " could not take the result of candidate ",
                                source_id, ": ", evaluation.status().message()));
        continue;
      }
      const uint64_t ticket =
          Write("reuse", [row, evaluation = *std::move(evaluation)](store::Store& s) {
            return s.RecordEvaluation(row, evaluation);
          });
      ObserveDone(j, row);
      v1::JobEvent event;
      *event.mutable_candidate_done() = LightCandidate(row.candidate);
      PutRow(j, std::move(row), ticket);
      AddEvent(j, std::move(event));
    }
  }

  void CountFailureCause(JobEntry& j, const std::string& cause) {
    if (cause == j.last_failure_cause) {
      ++j.consecutive_failures;
    } else {
      j.last_failure_cause = cause;
      j.consecutive_failures = 1;
    }
    const v1::JobSpec& spec = j.job.spec();
    const int limit = spec.has_max_consecutive_failures() ? spec.max_consecutive_failures()
                                                          : defaults::kMaxConsecutiveFailures;
    if (j.consecutive_failures >= limit && j.job.state() == v1::JOB_STATE_RUNNING) {
      FailJob(j, absl::StrCat(j.consecutive_failures,
                              " candidates in a row failed for the same reason: ", cause));
    }
  }

  void ExpireLeasesLocked() {
    int64_t now = Now();
    std::vector<std::pair<LeaseRef, std::string>> expired;
    for (const auto& [lease_id, ref] : leases) {
      const CandidateRow& row = jobs.at(ref.job_id).active_row(ref.candidate_id);
      if (row.lease_expiry_ms < now) expired.push_back({ref, lease_id});
    }
    for (const auto& [ref, lease_id] : expired) {
      JobEntry& j = jobs.at(ref.job_id);
      const CandidateRow& row = j.active_row(ref.candidate_id);
      std::string reason = absl::StrCat(
          kLeaseExpiredPrefix, ": no heartbeat from worker ", row.candidate.worker_id(), " for ",
          j.job.spec().lease_ttl_seconds(), " s (attempt ", row.candidate.attempts(), ")");
      EndAttempt(j, ref.candidate_id, reason, /*permanent=*/false);
    }
    ForgetDurableRows();
  }

  // The piggy-backed next task of CompleteTask (no waiting).
  void MaybeLeaseNext(const v1::CompleteTaskRequest& request, v1::CompleteTaskResponse* response,
                      std::unique_lock<std::mutex>& lock) {
    if (!request.acquire_next() || shutdown || !workers.contains(request.worker_id())) return;
    if (std::optional<v1::Task> task = TryAcquire(request.worker_id(), lock)) {
      *response->mutable_next_task() = std::move(*task);
    }
  }

  absl::Status CheckRegistered(const std::string& worker_id) const {
    if (workers.contains(worker_id)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("worker \"", worker_id.substr(0, kMaxIdBytes),
                                                      "\" is not registered; call RegisterWorker"));
  }

  void TouchWorker(const std::string& worker_id) {
    auto it = workers.find(worker_id);
    if (it != workers.end()) it->second.last_seen_ms = Now();
  }

  // --- restart -------------------------------------------------------------

  absl::Status Restore() {
    absl::StatusOr<std::vector<v1::WorkerInfo>> stored_workers = store->LoadWorkers();
    if (!stored_workers.ok()) return stored_workers.status();
    for (v1::WorkerInfo& w : *stored_workers) {
      int64_t number = 0;
      if (absl::SimpleAtoi(absl::StripPrefix(w.worker_id(), "w"), &number)) {
        next_worker_number = std::max(next_worker_number, number + 1);
      }
      worker_ids_by_name[w.name()] = w.worker_id();
      WorkerEntry entry;
      entry.last_seen_ms = TimeUtil::TimestampToMilliseconds(w.last_heartbeat());
      entry.info = std::move(w);
      workers[entry.info.worker_id()] = std::move(entry);
    }

    absl::StatusOr<std::vector<store::JobRow>> rows = store->LoadJobs();
    if (!rows.ok()) return rows.status();
    for (store::JobRow& job_row : *rows) {
      int64_t job_id = job_row.job.job_id();
      next_job_id = std::max(next_job_id, job_id + 1);
      JobEntry& j = jobs[job_id];
      j.job = std::move(job_row.job);
      const absl::Status ready = Prepare(j);
      if (!ready.ok()) {
        // Its candidates can still be listed; nothing is scheduled.
        absl::Status listed =
            store->ForEachCandidate(job_id, store::CandidateOrder::kById, [&](CandidateRow row) {
              const int64_t id = row.candidate.candidate_id();
              if (id > j.candidate_count()) j.states.resize(static_cast<size_t>(id), 0);
              j.states[static_cast<size_t>(id - 1)] = static_cast<uint8_t>(row.candidate.state());
              return absl::OkStatus();
            });
        if (!listed.ok()) return listed;
        if (!IsFinished(j.job.state())) FailJob(j, std::string(ready.message()));
        continue;
      }
      // Recomputed rather than trusted: databases of older versions stored
      // the network's fingerprint without the sparsity.
      auto refresh_fingerprint = [&](v1::Candidate& candidate) {
        candidate.set_fingerprint(CandidateFingerprint(
            candidate.architecture(), j.data,
            candidate.has_sparsity() ? std::optional<double>(candidate.sparsity()) : std::nullopt));
      };
      const int64_t fresh_expiry = Now() + int64_t{j.job.spec().lease_ttl_seconds()} * 1000;
      // Every candidate in id order: counts, queue, leases, duplicates.
      absl::Status scanned =
          store->ForEachCandidate(job_id, store::CandidateOrder::kById, [&](CandidateRow row) {
            v1::Candidate& candidate = row.candidate;
            refresh_fingerprint(candidate);
            for (const std::string& reason : candidate.failure_reasons()) {
              if (absl::StartsWith(reason, kLeaseExpiredPrefix)) ++j.lease_expiries;
            }
            const int64_t id = candidate.candidate_id();
            switch (candidate.state()) {
              case v1::CANDIDATE_STATE_QUEUED:
                // In id order a duplicate comes after the candidate it waits for.
                if (auto it = j.in_flight_by_fingerprint.find(candidate.fingerprint());
                    it != j.in_flight_by_fingerprint.end()) {
                  j.duplicates_waiting_for[it->second].push_back(id);
                  ++j.duplicates_waiting;
                } else {
                  j.queue.push_back(id);
                  j.in_flight_by_fingerprint[candidate.fingerprint()] = id;
                }
                break;
              case v1::CANDIDATE_STATE_LEASED:
                // No worker could heartbeat while we were down: a fresh TTL.
                row.lease_expiry_ms = std::max(row.lease_expiry_ms, fresh_expiry);
                ++j.leased;
                leases[row.lease_id] = {job_id, id, 0};
                j.in_flight_by_fingerprint[candidate.fingerprint()] = id;
                break;
              case v1::CANDIDATE_STATE_FAILED:
                ++j.failed;
                break;
              case v1::CANDIDATE_STATE_SKIPPED:
                ++j.skipped;
                break;
              default:
                break;
            }
            // Finished rows are in the store already: only their state is kept.
            j.Put(std::move(row), /*ticket=*/0);
            return absl::OkStatus();
          });
      if (!scanned.ok()) return scanned;
      // The DONE ones in history order: the search replays them.
      absl::Status replayed = store->ForEachCandidate(job_id, store::CandidateOrder::kDoneByFinish,
                                                      [&](CandidateRow row) {
                                                        refresh_fingerprint(row.candidate);
                                                        ObserveDone(j, row);
                                                        return absl::OkStatus();
                                                      });
      if (!replayed.ok()) return replayed;
      j.ForgetDurableRows(/*durable_ticket=*/0);
      if (absl::Status s = FinishIfComplete(j); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Derived state of a job: algorithm, data shape, bounds.
  absl::Status Prepare(JobEntry& j) {
    const v1::JobSpec& spec = j.job.spec();
    absl::StatusOr<std::unique_ptr<search::SearchAlgorithm>> algorithm =
        search::MakeSearchAlgorithm(spec);
    if (!algorithm.ok()) return algorithm.status();
    j.data = MakeDataShape(spec.input_shape(), spec.num_classes());
    j.proposals = ProposalPipeline(*std::move(algorithm), j.data);
    j.bounds = search::MakeBounds(spec);
    j.sparse_size = spec.training().has_pruning() && !spec.training().pruning().structured();
    return absl::OkStatus();
  }
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
    if (absl::Status s = impl->Restore(); !s.ok()) return s;
    impl->StartCommitter();
  }
  if (absl::Status s = impl->committer->Flush(); !s.ok()) return s;
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
    if (absl::Status s = impl_->Prepare(probe); !s.ok()) {
      return absl::Status(s.code() == absl::StatusCode::kUnimplemented
                              ? absl::StatusCode::kInvalidArgument
                              : s.code(),
                          s.message());
    }
    int64_t now = impl_->Now();
    const int64_t job_id = impl_->next_job_id++;
    impl_->Write("job", [job_id, spec = *prepared, now](store::Store& s) {
      return s.InsertJob(job_id, spec, now);
    });
    JobEntry& j = impl_->jobs[job_id];
    j = std::move(probe);
    j.job.set_job_id(job_id);
    j.job.set_state(v1::JOB_STATE_RUNNING);
    *j.job.mutable_create_time() = TimeUtil::MillisecondsToTimestamp(now);
    *j.job.mutable_update_time() = TimeUtil::MillisecondsToTimestamp(now);
    impl_->AddEvent(j, v1::JobEvent());
    return impl_->JobView(j);
  });
}

absl::StatusOr<v1::Job> Coordinator::GetJob(int64_t job_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  absl::StatusOr<JobEntry*> j = impl_->FindJob(job_id);
  if (!j.ok()) return j.status();
  return impl_->JobView(**j);
}

std::vector<v1::Job> Coordinator::ListJobs(const v1::ListJobsRequest& request) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<v1::Job> out;
  for (const auto& [id, j] : impl_->jobs) {
    if (!request.states().empty() && std::find(request.states().begin(), request.states().end(),
                                               j.job.state()) == request.states().end()) {
      continue;
    }
    out.push_back(impl_->JobView(j));
  }
  return out;
}

absl::StatusOr<v1::Job> Coordinator::CancelJob(int64_t job_id) {
  return impl_->Durably([&]() -> absl::StatusOr<v1::Job> {
    std::lock_guard<std::mutex> lock(impl_->mu);
    absl::StatusOr<JobEntry*> j = impl_->FindJob(job_id);
    if (!j.ok()) return j.status();
    if (IsFinished((*j)->job.state())) {
      return absl::FailedPreconditionError(absl::StrCat("job ", job_id, " has already ended (",
                                                        v1::JobState_Name((*j)->job.state()), ")"));
    }
    if (absl::Status s = impl_->SetJobState(**j, v1::JOB_STATE_CANCELLED, "cancelled by a client");
        !s.ok()) {
      return s;
    }
    return impl_->JobView(**j);
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
  for (const auto& [id, w] : impl_->workers) {
    if (!include_inactive && now - w.last_seen_ms > horizon) continue;
    v1::WorkerInfo info = w.info;
    info.set_busy_slots(busy[id]);
    *info.mutable_last_heartbeat() = TimeUtil::MillisecondsToTimestamp(w.last_seen_ms);
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
  JobEntry* j = *found;
  auto end_seq = [&] { return j->events_base + static_cast<int64_t>(j->events.size()); };
  if (*cursor <= 0) {
    v1::JobEvent snapshot;
    snapshot.set_job_id(job_id);
    *snapshot.mutable_time() = TimeUtil::MillisecondsToTimestamp(impl_->Now());
    *snapshot.mutable_progress() = j->Progress();
    snapshot.set_state(j->job.state());
    events->push_back(std::move(snapshot));
    *cursor = end_seq();
    return !IsFinished(j->job.state());
  }
  impl_->changed.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    return impl_->shutdown || end_seq() > *cursor || IsFinished(j->job.state());
  });
  int64_t from = std::max(*cursor, j->events_base);
  for (int64_t seq = from; seq < end_seq(); ++seq) {
    v1::JobEvent& event = events->emplace_back();
    if (!event.ParseFromString(j->events[static_cast<size_t>(seq - j->events_base)])) {
      return absl::InternalError(absl::StrCat("job ", job_id, ": event ", seq + 1, " is corrupt"));
    }
  }
  *cursor = end_seq();
  return !IsFinished(j->job.state()) && !impl_->shutdown;
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
      if (absl::Status s = CheckSize(field, value.size(), limit); !s.ok()) return s;
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
    impl_->Write("worker",
                 [info, now = impl_->Now()](store::Store& s) { return s.UpsertWorker(info, now); });
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
      impl_->EndAttempt(
          impl_->jobs.at(ref.job_id), ref.candidate_id,
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
      impl_->ExpireLeasesLocked();
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
  if (absl::Status s = impl_->CheckRegistered(request.worker_id()); !s.ok()) return s;
  impl_->TouchWorker(request.worker_id());
  v1::HeartbeatResponse response;
  auto it = impl_->leases.find(request.lease_id());
  if (it == impl_->leases.end()) {
    response.set_keep_going(false);
    response.set_reason("the lease is unknown or has expired; the candidate was re-queued");
    return response;
  }
  JobEntry& j = impl_->jobs.at(it->second.job_id);
  CandidateRow& row = j.active_row(it->second.candidate_id);
  if (row.candidate.worker_id() != request.worker_id()) {
    response.set_keep_going(false);
    response.set_reason("the lease belongs to another worker");
    return response;
  }
  if (j.job.state() == v1::JOB_STATE_CANCELLED) {
    response.set_keep_going(false);
    response.set_reason("the job was cancelled");
    return response;
  }
  row.lease_expiry_ms = impl_->Now() + int64_t{j.job.spec().lease_ttl_seconds()} * 1000;
  response.set_keep_going(true);
  response.set_lease_ttl_seconds(j.job.spec().lease_ttl_seconds());
  return response;
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
    JobEntry& j = **found;
    if (!j.has(request.candidate_id())) {
      return absl::NotFoundError(
          absl::StrCat("job ", request.job_id(), " has no candidate ", request.candidate_id()));
    }
    if (absl::Status s = impl_->CheckRegistered(request.worker_id()); !s.ok()) return s;
    impl_->TouchWorker(request.worker_id());
    v1::CompleteTaskResponse response;
    const v1::CandidateState state = j.state(request.candidate_id());
    // Reports are idempotent: a duplicate, or a late report for a candidate
    // that has ended, is acknowledged and ignored.
    if (state != v1::CANDIDATE_STATE_LEASED && state != v1::CANDIDATE_STATE_QUEUED) {
      response.set_accepted(false);
      impl_->MaybeLeaseNext(request, &response, lock);
      return response;
    }
    const CandidateRow& row = j.active_row(request.candidate_id());
    // Only the worker a lease was granted to may report under it: the lease
    // it holds now, or (a late report, real work that is taken) one of its
    // leases of this candidate that ended while the candidate still waits or
    // trains elsewhere.
    const bool holds_lease = state == v1::CANDIDATE_STATE_LEASED &&
                             row.lease_id == request.lease_id() &&
                             row.candidate.worker_id() == request.worker_id();
    if (!holds_lease) {
      auto ended = j.ended_leases.find(request.lease_id());
      if (ended == j.ended_leases.end() || ended->second.candidate_id != request.candidate_id() ||
          ended->second.worker_id != request.worker_id()) {
        return absl::PermissionDeniedError(
            absl::StrCat("worker ", request.worker_id(), " holds no lease \"",
                         request.lease_id().substr(0, kMaxIdBytes), "\" of job ", request.job_id(),
                         " candidate ", request.candidate_id()));
      }
    }
    const v1::EvaluationResult& result = request.result();
    absl::Status valid = contents_valid;
    if (valid.ok()) valid = ValidateEvaluationResult(result, row.candidate.architecture(), j.data);
    absl::StatusOr<v1::ResourceMetrics> metrics = row.candidate.dense_metrics();
    if (valid.ok() && !result.pruning().empty()) {
      metrics = pruned_metrics ? *pruned_metrics
                               : ComputeCandidateMetrics(row.candidate.architecture(), j.data,
                                                         &result.pruning(), j.sparse_size);
      if (!metrics.ok()) valid = metrics.status();
    }
    if (!valid.ok()) {
      std::string reason =
          absl::StrCat("invalid result from worker ", request.worker_id(), ": ", valid.message());
      if (holds_lease) {
        impl_->EndAttempt(j, request.candidate_id(), reason, /*permanent=*/false,
                          /*released=*/false, absl::StrCat("invalid result: ", valid.message()));
      }
      return absl::InvalidArgumentError(reason);
    }

    CandidateRow done = row;
    v1::Candidate& c = done.candidate;
    c.set_state(v1::CANDIDATE_STATE_DONE);
    c.set_worker_id(request.worker_id());
    *c.mutable_metrics() = *metrics;
    *c.mutable_evaluation() = result;
    c.mutable_evaluation()->clear_trained_weights();
    c.mutable_evaluation()->clear_quantized_model();
    search::ObjectiveVector x = search::MakeObjectives(result.validation_error(), *metrics);
    c.set_feasible(search::IsFeasible(x, j.bounds));
    *c.mutable_finish_time() = TimeUtil::MillisecondsToTimestamp(impl_->Now());
    done.finish_seq = static_cast<int64_t>(j.history.size()) + 1;
    done.lease_id.clear();
    done.lease_expiry_ms = 0;
    store::EvaluationRow evaluation;
    evaluation.result = result;
    evaluation.metrics = *metrics;
    evaluation.feasible = c.feasible();
    evaluation.worker_id = request.worker_id();
    const uint64_t ticket =
        impl_->Write("evaluation", [done, evaluation = std::move(evaluation)](store::Store& s) {
          return s.RecordEvaluation(done, evaluation);
        });

    double lease_seconds = -1;
    if (state == v1::CANDIDATE_STATE_LEASED) {
      if (auto lease = impl_->leases.find(row.lease_id);
          lease != impl_->leases.end() && lease->second.leased_at_ms > 0) {
        lease_seconds = static_cast<double>(impl_->Now() - lease->second.leased_at_ms) / 1000.0;
      }
      impl_->leases.erase(row.lease_id);
      --j.leased;
    } else {
      j.queue.erase(std::remove(j.queue.begin(), j.queue.end(), row.candidate.candidate_id()),
                    j.queue.end());
    }
    j.ForgetEndedLeases(request.candidate_id());
    j.consecutive_failures = 0;
    if (auto worker = impl_->workers.find(request.worker_id()); worker != impl_->workers.end()) {
      worker->second.info.set_evaluations_done(worker->second.info.evaluations_done() + 1);
    }
    impl_->ObserveDone(j, done);
    if (auto it = j.in_flight_by_fingerprint.find(done.candidate.fingerprint());
        it != j.in_flight_by_fingerprint.end() && it->second == done.candidate.candidate_id()) {
      j.in_flight_by_fingerprint.erase(it);
    }
    v1::JobEvent event;
    *event.mutable_candidate_done() = LightCandidate(done.candidate);
    impl_->PutRow(j, std::move(done), ticket);
    impl_->ResolveWaitingDuplicates(j, request.candidate_id());
    if (impl_->options.observer != nullptr) {
      impl_->options.observer->EvaluationDone(request.job_id(), lease_seconds);
    }
    impl_->AddEvent(j, std::move(event));
    if (absl::Status s = impl_->FinishIfComplete(j); !s.ok()) return s;
    impl_->changed.notify_all();
    response.set_accepted(true);
    impl_->MaybeLeaseNext(request, &response, lock);
    return response;
  });
}

absl::Status Coordinator::FailTask(const v1::FailTaskRequest& request) {
  return impl_->Durably([&]() -> absl::Status {
    if (absl::Status s = CheckSize("reason", request.reason().size(), kMaxReasonBytes); !s.ok()) {
      return s;
    }
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (absl::Status s = impl_->CheckRegistered(request.worker_id()); !s.ok()) return s;
    impl_->TouchWorker(request.worker_id());
    auto it = impl_->leases.find(request.lease_id());
    if (it == impl_->leases.end()) return absl::OkStatus();  // already expired or ended
    JobEntry& j = impl_->jobs.at(it->second.job_id);
    const int64_t candidate_id = it->second.candidate_id;
    if (j.active_row(candidate_id).candidate.worker_id() != request.worker_id()) {
      return absl::PermissionDeniedError(absl::StrCat("worker ", request.worker_id(),
                                                      " does not hold lease \"", request.lease_id(),
                                                      "\": only its holder may fail it"));
    }
    std::string reason = absl::StrCat(
        "worker ", request.worker_id(), request.released() ? " released it: " : " failed: ",
        request.reason().empty() ? "no reason given" : request.reason());
    impl_->EndAttempt(j, candidate_id, reason, request.permanent(), request.released(),
                      request.released() ? "" : request.reason());
    impl_->changed.notify_all();
    return absl::OkStatus();
  });
}

void Coordinator::ExpireLeases() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->ExpireLeasesLocked();
  }
  (void)impl_->committer->Flush();
}

absl::Status Coordinator::StoreHealth() const { return impl_->committer->health(); }

}  // namespace unas::coordinator
