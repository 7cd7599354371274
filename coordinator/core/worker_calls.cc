// The WorkerService calls of Coordinator (coordinator.h): registration,
// task acquisition (long-polled; scheduling.h picks the task), heartbeats,
// results (checked, then committed by result_commit.h), failures, and the
// expiry of leases whose TTL ran out (lease_lifecycle.h).
#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/core/candidate_metrics.h"
#include "coordinator/core/candidate_stopping.h"
#include "coordinator/core/coordinator.h"
#include "coordinator/core/coordinator_impl.h"
#include "coordinator/core/failure_text.h"
#include "coordinator/core/lease_lifecycle.h"
#include "coordinator/core/result_commit.h"
#include "coordinator/core/result_validation.h"
#include "coordinator/core/scheduling.h"
#include "coordinator/core/worker_identity.h"
#include "coordinator/core/worker_input_limits.h"

namespace unas::coordinator {
namespace {

// Where a report stands with the candidate it is for.
enum class ReportStanding {
  kEnded,   // the candidate has ended: acknowledged and ignored
  kHolder,  // from the holder of the candidate's current lease
  kLate,    // under one of the reporter's ended leases of it (real work, taken)
};

// CompleteTask's checks under the lock, in this order: the job, the
// candidate, the reporter's registration (the worker is seen), the
// candidate's state, and the reporter's claim to it (CheckReportHolder).
absl::StatusOr<ReportStanding> CheckReport(CoordinatorState& state,
                                           const v1::CompleteTaskRequest& request) {
  absl::StatusOr<JobEntry*> found = state.FindJob(request.job_id());
  if (!found.ok()) return found.status();
  JobEntry& job = **found;
  if (!job.has(request.candidate_id())) {
    return absl::NotFoundError(
        absl::StrCat("job ", request.job_id(), " has no candidate ", request.candidate_id()));
  }
  if (absl::Status status = state.CheckWorker(request.worker_id(), request.worker_secret());
      !status.ok()) {
    return status;
  }
  state.TouchWorker(request.worker_id());
  const v1::CandidateState candidate_state = job.state(request.candidate_id());
  if (candidate_state != v1::CANDIDATE_STATE_LEASED &&
      candidate_state != v1::CANDIDATE_STATE_QUEUED) {
    return ReportStanding::kEnded;
  }
  absl::StatusOr<bool> holds = CheckReportHolder(job, request);
  if (!holds.ok()) return holds.status();
  return *holds ? ReportStanding::kHolder : ReportStanding::kLate;
}

// What a result is checked against, copied under the lock (a candidate's
// network and its job's data never change).
struct ReportSubject {
  v1::Architecture architecture;
  DataShape data;
  bool sparse_size = false;
  v1::ResourceMetrics dense_metrics;
  v1::TrainingSpec training;  // what the result's learning curve is checked against
};

// For a QUEUED or LEASED candidate (CheckReport said so).
ReportSubject SubjectOf(CoordinatorState& state, const v1::CompleteTaskRequest& request) {
  const JobEntry& job = state.jobs.at(request.job_id());
  const v1::Candidate& candidate = job.active.at(request.candidate_id()).candidate;
  return {candidate.architecture(), job.data, job.sparse_size, candidate.dense_metrics(),
          job.job.spec().training()};
}

// Without the lock: the result's contents (sizes, the int8 model), its
// numbers against the candidate's network, then the metrics of the trained
// network (the pruned one's, computed here; else the dense ones). An error
// says what is wrong with the result.
absl::StatusOr<v1::ResourceMetrics> CheckedMetrics(const v1::EvaluationResult& result,
                                                   const ReportSubject& subject) {
  if (absl::Status status = ValidateResultContents(result); !status.ok()) return status;
  if (absl::Status status = search::CheckCurve(result.curve(), subject.training); !status.ok()) {
    return status;
  }
  if (absl::Status status = ValidateEvaluationResult(result, subject.architecture, subject.data);
      !status.ok()) {
    return status;
  }
  if (result.pruning().empty()) return subject.dense_metrics;
  return ComputeCandidateMetrics(subject.architecture, subject.data, &result.pruning(),
                                 subject.sparse_size);
}

// Live: holds a lease, or called within kWorkerLiveMs.
bool IsLiveWorker(const CoordinatorState& state, const std::string& worker_id) {
  if (state.leases.CountHeldBy(worker_id) > 0) return true;
  auto it = state.workers.find(worker_id);
  return it != state.workers.end() && state.Now() - it->second.last_seen_ms < kWorkerLiveMs;
}

// A scan of every known worker: run only when a name that is not live
// registers. PruneQuietWorkers keeps it to at most 2 * --max-workers entries.
int CountLiveWorkers(const CoordinatorState& state) {
  int live = 0;
  for (const auto& [id, entry] : state.workers) live += IsLiveWorker(state, id) ? 1 : 0;
  return live;
}

// Registrations that are no longer live are forgotten, in memory and in the
// store, once the coordinator knows twice as many names as may be live: names
// registered once (a rogue's, or a cluster's nodes over months) must not
// accumulate without bound. A pruned worker that calls again is told to
// register (FAILED_PRECONDITION: unknown worker) and gets a fresh id. The
// newest id (wN with the highest N) is kept even when quiet: a restart
// numbers new workers after the highest stored one, and must not hand a
// pruned id out again.
void PruneQuietWorkers(CoordinatorState& state) {
  if (state.workers.size() < 2 * static_cast<size_t>(std::max(1, state.options.max_workers))) {
    return;
  }
  const std::string newest = absl::StrCat("w", state.next_worker_number - 1);
  std::vector<std::string> quiet;
  for (const auto& [id, entry] : state.workers) {
    if (id != newest && !IsLiveWorker(state, id)) quiet.push_back(id);
  }
  if (quiet.empty()) return;
  for (const std::string& id : quiet) {
    if (auto it = state.worker_ids_by_name.find(state.workers.at(id).info.name());
        it != state.worker_ids_by_name.end() && it->second == id) {
      state.worker_ids_by_name.erase(it);
    }
    state.workers.erase(id);
  }
  state.Write("worker", [quiet](store::Store& db) { return db.DeleteWorkers(quiet); });
}

}  // namespace

absl::StatusOr<v1::RegisterWorkerResponse> Coordinator::RegisterWorker(
    const v1::RegisterWorkerRequest& request) {
  return impl_->Durably([&]() -> absl::StatusOr<v1::RegisterWorkerResponse> {
    if (request.name().empty()) return absl::InvalidArgumentError("name is required");
    if (request.slots() < 0) return absl::InvalidArgumentError("slots must be >= 0");
    for (const auto& [field, value, limit] :
         {std::tuple<const char*, const std::string&, size_t>{"name", request.name(),
                                                              kMaxWorkerNameBytes},
          {"host", request.host(), kMaxHostBytes},
          {"device", request.device(), kMaxDeviceBytes},
          {"worker_secret", request.worker_secret(), kMaxIdBytes}}) {
      if (absl::Status status = CheckSize(field, value.size(), limit); !status.ok()) return status;
    }
    std::lock_guard<std::mutex> lock(impl_->mu);
    std::string id;
    std::vector<LeaseRef> held;  // the leases of the name's last registration
    if (auto it = impl_->worker_ids_by_name.find(request.name());
        it != impl_->worker_ids_by_name.end()) {
      id = it->second;
      held = impl_->leases.HeldBy(id);
      const WorkerEntry* known = impl_->workers.contains(id) ? &impl_->workers.at(id) : nullptr;
      const bool proven =
          known != nullptr && SecretMatches(request.worker_secret(), known->secret_digest);
      // Anyone with the worker token may name any worker: without the name's
      // secret, its leases are not theirs to end. They expire (a failed
      // attempt each) if the worker that held them is really gone.
      if (!held.empty() && !proven) {
        return absl::AlreadyExistsError(absl::StrCat(
            "worker name \"", request.name(), "\" is in use (", held.size(),
            " leases): register with its worker_secret, or again once they expire (the job's "
            "lease_ttl_seconds after its last heartbeat)"));
      }
    } else {
      PruneQuietWorkers(*impl_);
      id = absl::StrCat("w", impl_->next_worker_number);
    }
    if (!IsLiveWorker(*impl_, id)) {
      const int live = CountLiveWorkers(*impl_);
      if (live >= impl_->options.max_workers) {
        return absl::ResourceExhaustedError(absl::StrCat(
            live, " worker names are live (the limit is --max-workers ", impl_->options.max_workers,
            "); a name is live while it holds a lease and for ", kWorkerLiveMs / 60000,
            " minutes after its last call"));
      }
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
    const std::string secret = RandomHex128();
    const std::string digest = SecretDigest(secret);
    impl_->Write("worker", [info, now = impl_->Now(), digest](store::Store& db) {
      return db.UpsertWorker(info, now, digest);
    });
    if (!impl_->worker_ids_by_name.contains(request.name())) ++impl_->next_worker_number;
    impl_->worker_ids_by_name[request.name()] = id;
    WorkerEntry& entry = impl_->workers[id];
    entry.info = info;
    entry.last_seen_ms = impl_->Now();
    entry.secret_digest = digest;
    // The worker proved it is the one that held these leases, and registers
    // again: it has restarted, and whatever it was training is lost. Its
    // leases end now, not after their TTL, each a failed attempt.
    for (const LeaseRef& ref : held) {
      EndAttempt(*impl_, impl_->jobs.at(ref.job_id), ref.candidate_id,
                 absl::StrCat(kWorkerDiedCause, ": worker ", request.name(), " (", id,
                              ") restarted while training it"),
                 /*permanent=*/false, /*released=*/false, kWorkerDiedCause);
    }
    if (!held.empty()) impl_->changed.notify_all();
    v1::RegisterWorkerResponse response;
    response.set_worker_id(id);
    response.set_worker_secret(secret);
    response.set_heartbeat_interval_seconds(impl_->options.heartbeat_interval_seconds);
    return response;
  });
}

absl::StatusOr<v1::AcquireTaskResponse> Coordinator::AcquireTask(
    const v1::AcquireTaskRequest& request, absl::Duration wait,
    const std::function<bool()>& cancelled) {
  return impl_->Durably([&]() -> absl::StatusOr<v1::AcquireTaskResponse> {
    std::unique_lock<std::mutex> lock(impl_->mu);
    auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(wait);
    v1::AcquireTaskResponse response;
    while (true) {
      // Checked again after every wake: the name may have been registered
      // anew during the long poll, and a lease must never go to a caller
      // that can no longer heartbeat or complete it.
      if (absl::Status status = impl_->CheckWorker(request.worker_id(), request.worker_secret());
          !status.ok()) {
        return status;
      }
      impl_->TouchWorker(request.worker_id());
      ExpireDueLeases(*impl_);
      if (cancelled && cancelled()) return response;
      if (std::optional<v1::Task> task = TryAcquire(*impl_, request.worker_id(), lock)) {
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
  v1::HeartbeatResponse response;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (absl::Status status = impl_->CheckWorker(request.worker_id(), request.worker_secret());
        !status.ok()) {
      return status;
    }
    impl_->TouchWorker(request.worker_id());
    // A curve that is not one the job asked for is refused before the lease
    // is renewed: a worker that only sends garbage loses the lease at its TTL.
    if (absl::Status status = CheckHeartbeatCurve(*impl_, request); !status.ok()) return status;
    response = RenewLease(*impl_, request);
    if (!response.keep_going()) return response;
    // The automated stopping rule reads the curve.
    absl::StatusOr<bool> stopped = StopFromHeartbeat(*impl_, request, &response);
    if (!stopped.ok()) return stopped.status();
    if (!*stopped) return response;
  }
  // A stop is acknowledged only once it is durable: the worker discards the
  // training when told `stopped`. (Other heartbeats write nothing.)
  if (absl::Status durable = impl_->committer->Flush(); !durable.ok()) return durable;
  return response;
}

absl::StatusOr<v1::CompleteTaskResponse> Coordinator::CompleteTask(
    const v1::CompleteTaskRequest& request) {
  return impl_->Durably([&]() -> absl::StatusOr<v1::CompleteTaskResponse> {
    v1::CompleteTaskResponse response;
    // Reports are idempotent: a duplicate, or a late report for a candidate
    // that has ended, is acknowledged and ignored.
    auto acknowledge = [&](std::unique_lock<std::mutex>& lock) {
      response.set_accepted(false);
      MaybeLeaseNext(*impl_, request, &response, lock);
      return response;
    };
    // (a) Under the lock: who may report, and what the checks need.
    std::unique_lock<std::mutex> lock(impl_->mu);
    absl::StatusOr<ReportStanding> standing = CheckReport(*impl_, request);
    if (!standing.ok()) return standing.status();
    if (*standing == ReportStanding::kEnded) return acknowledge(lock);
    const ReportSubject subject = SubjectOf(*impl_, request);
    // (b) Without it: the result's checks and the pruned network's metrics,
    // each once (validating the int8 model and the exact peak-memory search
    // are the slowest part of a report).
    lock.unlock();
    absl::StatusOr<v1::ResourceMetrics> metrics = CheckedMetrics(request.result(), subject);
    SplitResult split = SplitBlobs(request.result());  // no blob is copied under the lock
    lock.lock();
    // (c) Under the lock again: the candidate may have ended, or its lease
    // expired or changed hands, meanwhile.
    standing = CheckReport(*impl_, request);
    if (!standing.ok()) return standing.status();
    if (*standing == ReportStanding::kEnded) return acknowledge(lock);
    JobEntry& job = impl_->jobs.at(request.job_id());
    if (!metrics.ok()) {
      std::string reason = TruncateReason(absl::StrCat(
          "invalid result from worker ", request.worker_id(), ": ", metrics.status().message()));
      if (*standing == ReportStanding::kHolder) {
        EndAttempt(*impl_, job, request.candidate_id(), reason, /*permanent=*/false,
                   /*released=*/false,
                   absl::StrCat("invalid result: ", metrics.status().message()));
      }
      return absl::InvalidArgumentError(reason);
    }
    // The stopping rule reads a result's curve as it reads a heartbeat's, so
    // whether a candidate is stopped does not depend on when its heartbeats
    // came: a seeded one-worker run repeats exactly.
    if (std::optional<v1::StoppingDecision> decision =
            DecideStopping(job, request.result().curve())) {
      if (absl::Status status = CommitStop(*impl_, job, request.candidate_id(), request.worker_id(),
                                           request.result().curve(), *decision, &request.result());
          !status.ok()) {
        return status;
      }
    } else if (absl::Status status =
                   CommitEvaluation(*impl_, job, request, *metrics, std::move(split));
               !status.ok()) {
      return status;
    }
    impl_->changed.notify_all();
    response.set_accepted(true);
    MaybeLeaseNext(*impl_, request, &response, lock);
    return response;
  });
}

absl::Status Coordinator::FailTask(const v1::FailTaskRequest& request) {
  return impl_->Durably([&]() -> absl::Status {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (absl::Status status = impl_->CheckWorker(request.worker_id(), request.worker_secret());
        !status.ok()) {
      return status;
    }
    impl_->TouchWorker(request.worker_id());
    const LeaseRef* lease = impl_->leases.Find(request.lease_id());
    if (lease == nullptr) return absl::OkStatus();  // already expired or ended
    JobEntry& job = impl_->jobs.at(lease->job_id);
    const int64_t candidate_id = lease->candidate_id;
    if (job.active_row(candidate_id).candidate.worker_id() != request.worker_id()) {
      return absl::PermissionDeniedError(absl::StrCat("worker ", request.worker_id(),
                                                      " does not hold lease \"", request.lease_id(),
                                                      "\": only its holder may fail it"));
    }
    // A worker's reason may be long (a stack trace): EndAttempt cuts it to
    // kMaxReasonBytes, and only its class is compared.
    const absl::string_view said = absl::string_view(request.reason()).substr(0, kMaxReasonBytes);
    std::string reason = absl::StrCat("worker ", request.worker_id(),
                                      request.released() ? " released it: " : " failed: ",
                                      said.empty() ? "no reason given" : said);
    EndAttempt(*impl_, job, candidate_id, reason, request.permanent(), request.released(),
               request.released() ? "" : std::string(said));
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

}  // namespace unas::coordinator
