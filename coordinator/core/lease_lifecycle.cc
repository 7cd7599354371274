#include "coordinator/core/lease_lifecycle.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/job_spec/defaults.h"
#include "coordinator/core/failure_text.h"
#include "coordinator/core/job_queries.h"
#include "coordinator/core/result_commit.h"
#include "coordinator/core/worker_identity.h"

namespace unas::coordinator {
namespace {

// Jobs stored before the field existed have none.
int ProgressTimeoutSeconds(const v1::JobSpec& spec) {
  return spec.progress_timeout_seconds() > 0 ? spec.progress_timeout_seconds()
                                             : defaults::kProgressTimeoutSeconds;
}

}  // namespace

// Tracks a lease the store has accepted.
void TrackLease(CoordinatorState& state, JobEntry& job, const CandidateRow& row) {
  ++job.leased;
  state.leases.Add(row.lease_id, {job.job.job_id(), row.candidate.candidate_id(), state.Now(),
                                  row.candidate.worker_id(), /*progress_steps=*/0,
                                  /*progress_ms=*/state.Now()});
  // Watchers (unasctl's progress line, the dashboard) see the count of
  // evaluations running change when one starts, not only when one ends.
  v1::JobEvent event;
  *event.mutable_candidate_leased() = LightCandidate(row.candidate);
  state.AddEvent(job, std::move(event));
}

CandidateRow LeasedCopy(CoordinatorState& state, const JobEntry& job, const CandidateRow& row,
                        const std::string& worker_id) {
  CandidateRow leased = row;
  v1::Candidate& candidate = leased.candidate;
  candidate.set_state(v1::CANDIDATE_STATE_LEASED);
  candidate.set_attempts(candidate.attempts() + 1);
  candidate.set_worker_id(worker_id);
  // 128 bits from the CSPRNG: a worker cannot guess another worker's lease,
  // and a stale holder of an old lease never matches a new one.
  leased.lease_id = RandomHex128();
  leased.lease_expiry_ms = state.Now() + int64_t{job.job.spec().lease_ttl_seconds()} * 1000;
  return leased;
}

// A worker asks for work only from a free slot, so when it asks it holds at
// most slots - 1 leases it knows of. Any more were granted by an answer that
// never reached it: the coordinator was killed between committing a lease
// and replying, or a CompleteTask whose reply was lost handed out the next
// task. Those candidates go back to the queue now instead of waiting out
// their TTL, and the attempt does not count (nothing ran). The leases that
// expire first go: a lease the worker knows of is heartbeated, so it expires
// later than one it never heard of, unless it was granted just before.
void ReleaseForgottenLeases(CoordinatorState& state, const std::string& worker_id) {
  auto worker = state.workers.find(worker_id);
  if (worker == state.workers.end()) return;
  const size_t slots = static_cast<size_t>(std::max(1, worker->second.info.slots()));
  if (static_cast<size_t>(state.leases.CountHeldBy(worker_id)) < slots) return;
  std::vector<std::pair<int64_t, LeaseRef>> held;  // (expiry, lease)
  for (LeaseRef& ref : state.leases.HeldBy(worker_id)) {
    const int64_t expiry = state.jobs.at(ref.job_id).active_row(ref.candidate_id).lease_expiry_ms;
    held.push_back({expiry, std::move(ref)});
  }
  std::sort(held.begin(), held.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second.job_id, a.second.candidate_id) <
           std::tie(b.first, b.second.job_id, b.second.candidate_id);
  });
  const size_t forgotten = held.size() - (slots - 1);
  for (size_t i = 0; i < forgotten; ++i) {
    EndAttempt(state, state.jobs.at(held[i].second.job_id), held[i].second.candidate_id,
               absl::StrCat("worker ", worker->second.info.name(), " (", worker_id,
                            ") asked for new work without knowing of this lease (the reply "
                            "that granted it was lost)"),
               /*permanent=*/false, /*released=*/true);
  }
  state.changed.notify_all();
}

// An attempt ended without a result: back to the queue, or FAILED after
// max_attempts (or at once when the failure is the candidate's own). A
// released attempt (the worker is shutting down) is re-queued without
// counting: pre-emption on a cluster must not use up a candidate's attempts.
// `given_cause` is what went wrong: what the worker said, "worker died"
// (it registered again while training), "lease expired" (it crashed or
// was cut off): a candidate that kills every worker it reaches is given up
// like any other, and max_consecutive_failures candidates in a row given up
// for causes of one class fail the job.
void EndAttempt(CoordinatorState& state, JobEntry& job, int64_t candidate_id,
                const std::string& full_reason, bool permanent, bool released,
                const std::string& given_cause) {
  std::string reason = TruncateReason(full_reason);
  std::string cause = given_cause;
  const CandidateRow& current = job.active_row(candidate_id);
  const std::string lease_id = current.lease_id;
  const std::string holder = current.candidate.worker_id();
  CandidateRow next = current;
  v1::Candidate& candidate = next.candidate;
  const int32_t attempt = candidate.attempts();
  // Releases do not use up attempts, but each stores a reason: a worker
  // that releases a candidate forever must not grow its row and the
  // attempt_failures table forever. Past the cap the candidate fails.
  const bool over_release_cap =
      released && !permanent &&
      candidate.failure_reasons_size() >= job.job.spec().max_attempts() + kMaxReleasesPerCandidate;
  if (over_release_cap) {
    permanent = true;
    cause = kReleasedTooOftenCause;
    reason = TruncateReason(absl::StrCat(kReleasedTooOftenCause, " (", kMaxReleasesPerCandidate,
                                         " releases beyond its attempts): ", reason));
  }
  if (released && !permanent) candidate.set_attempts(std::max(0, attempt - 1));
  bool give_up = !(released && !permanent) &&
                 (permanent || candidate.attempts() >= job.job.spec().max_attempts());
  candidate.set_state(give_up ? v1::CANDIDATE_STATE_FAILED : v1::CANDIDATE_STATE_QUEUED);
  candidate.add_failure_reasons(reason);
  next.lease_id.clear();
  next.lease_expiry_ms = 0;
  if (give_up)
    *candidate.mutable_finish_time() =
        google::protobuf::util::TimeUtil::MillisecondsToTimestamp(state.Now());
  const uint64_t ticket =
      state.Write("attempt_failure", [next, attempt, reason, now = state.Now()](store::Store& db) {
        return db.RecordAttemptFailure(next, attempt, reason, now);
      });
  state.leases.Remove(lease_id);
  --job.leased;
  if (give_up) {
    job.ForgetEndedLeases(candidate_id);
  } else {
    job.ended_leases[lease_id] = {candidate_id, holder};
  }
  bool expired = absl::StartsWith(reason, kLeaseExpiredPrefix);
  if (expired) ++job.lease_expiries;
  if (state.options.observer != nullptr) {
    state.options.observer->AttemptEnded(job.job.job_id(), give_up, expired);
  }
  const uint64_t fingerprint = candidate.fingerprint();
  v1::JobEvent event;
  if (give_up) {
    ++job.failed;
    job.failed_by_fingerprint.try_emplace(fingerprint, candidate_id);
    *event.mutable_candidate_failed() = LightCandidate(candidate);
  } else {
    job.queue.push_front(candidate_id);
    *event.mutable_candidate_requeued() = LightCandidate(candidate);
  }
  state.PutRow(job, std::move(next), ticket);
  state.AddEvent(job, std::move(event));
  if (give_up) PromoteWaitingDuplicate(job, candidate_id, fingerprint);
  if (give_up && !cause.empty()) CountFailureCause(state, job, cause);
}

void ExpireDueLeases(CoordinatorState& state) {
  int64_t now = state.Now();
  std::vector<std::pair<LeaseRef, std::string>> expired;
  for (const auto& [lease_id, ref] : state.leases) {
    const CandidateRow& row = state.jobs.at(ref.job_id).active_row(ref.candidate_id);
    if (row.lease_expiry_ms < now) expired.push_back({ref, lease_id});
  }
  for (const auto& [ref, lease_id] : expired) {
    JobEntry& job = state.jobs.at(ref.job_id);
    const CandidateRow& row = job.active_row(ref.candidate_id);
    std::string reason = absl::StrCat(
        kLeaseExpiredPrefix, ": no heartbeat from worker ", row.candidate.worker_id(), " for ",
        job.job.spec().lease_ttl_seconds(), " s (attempt ", row.candidate.attempts(), ")");
    // The worker is gone (crashed, killed, cut off) or hangs: a failed
    // attempt, and a poison candidate that kills every worker it reaches
    // counts towards max_consecutive_failures once given up.
    EndAttempt(state, job, ref.candidate_id, reason, /*permanent=*/false, /*released=*/false,
               kLeaseExpiredPrefix);
  }
  state.ForgetDurableRows();
}

v1::HeartbeatResponse RenewLease(CoordinatorState& state, const v1::HeartbeatRequest& request) {
  v1::HeartbeatResponse response;
  LeaseRef* lease = state.leases.Find(request.lease_id());
  if (lease == nullptr) {
    response.set_keep_going(false);
    response.set_reason("the lease is unknown or has expired; the candidate was re-queued");
    return response;
  }
  JobEntry& job = state.jobs.at(lease->job_id);
  CandidateRow& row = job.active_row(lease->candidate_id);
  if (row.candidate.worker_id() != request.worker_id()) {
    response.set_keep_going(false);
    response.set_reason("the lease belongs to another worker");
    return response;
  }
  // Whatever way the job ended (cancelled, failed, succeeded), nothing it
  // still trains will be used.
  if (IsFinished(job.job.state())) {
    response.set_keep_going(false);
    response.set_reason(
        job.job.state() == v1::JOB_STATE_CANCELLED
            ? "the job was cancelled"
            : absl::StrCat("the job has ended (", v1::JobState_Name(job.job.state()), ")"));
    return response;
  }
  const int64_t now = state.Now();
  if (request.progress_steps() > lease->progress_steps) {
    lease->progress_steps = request.progress_steps();
    lease->progress_ms = now;
  } else if (const int64_t timeout_ms = int64_t{ProgressTimeoutSeconds(job.job.spec())} * 1000;
             now - lease->progress_ms >= timeout_ms) {
    // Heartbeats alone do not keep a lease: a hung training would renew it
    // forever. A failed attempt, as if the worker had died.
    const int64_t steps = lease->progress_steps;
    EndAttempt(
        state, job, lease->candidate_id,
        absl::StrCat(kNoProgressCause, ": worker ", request.worker_id(), " reported ", steps,
                     " training steps for ", timeout_ms / 1000, " s (progress_timeout_seconds)"),
        /*permanent=*/false, /*released=*/false, kNoProgressCause);
    state.changed.notify_all();
    response.set_keep_going(false);
    response.set_reason(absl::StrCat("no training progress for ", timeout_ms / 1000,
                                     " s; the candidate was re-queued"));
    return response;
  }
  row.lease_expiry_ms = now + int64_t{job.job.spec().lease_ttl_seconds()} * 1000;
  response.set_keep_going(true);
  response.set_lease_ttl_seconds(job.job.spec().lease_ttl_seconds());
  return response;
}

absl::StatusOr<bool> CheckReportHolder(const JobEntry& job,
                                       const v1::CompleteTaskRequest& request) {
  const CandidateRow& row = job.active.at(request.candidate_id());
  // Only the worker a lease was granted to may report under it: the lease
  // it holds now, or (a late report, real work that is taken) one of its
  // leases of this candidate that ended while the candidate still waits or
  // trains elsewhere.
  const bool holds_lease = row.candidate.state() == v1::CANDIDATE_STATE_LEASED &&
                           row.lease_id == request.lease_id() &&
                           row.candidate.worker_id() == request.worker_id();
  if (!holds_lease) {
    auto ended = job.ended_leases.find(request.lease_id());
    if (ended == job.ended_leases.end() || ended->second.candidate_id != request.candidate_id() ||
        ended->second.worker_id != request.worker_id()) {
      return absl::PermissionDeniedError(
          absl::StrCat("worker ", request.worker_id(), " holds no lease \"",
                       request.lease_id().substr(0, kMaxIdBytes), "\" of job ", request.job_id(),
                       " candidate ", request.candidate_id()));
    }
  }
  return holds_lease;
}

}  // namespace unas::coordinator
