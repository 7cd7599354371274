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
#include "coordinator/core/coordinator.h"
#include "coordinator/core/coordinator_impl.h"
#include "coordinator/core/lease_lifecycle.h"
#include "coordinator/core/result_commit.h"
#include "coordinator/core/result_validation.h"
#include "coordinator/core/scheduling.h"
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
  if (absl::Status status = state.CheckRegistered(request.worker_id()); !status.ok()) {
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
};

// For a QUEUED or LEASED candidate (CheckReport said so).
ReportSubject SubjectOf(CoordinatorState& state, const v1::CompleteTaskRequest& request) {
  const JobEntry& job = state.jobs.at(request.job_id());
  const v1::Candidate& candidate = job.active.at(request.candidate_id()).candidate;
  return {candidate.architecture(), job.data, job.sparse_size, candidate.dense_metrics()};
}

// Without the lock: the result's contents (sizes, the int8 model), its
// numbers against the candidate's network, then the metrics of the trained
// network (the pruned one's, computed here; else the dense ones). An error
// says what is wrong with the result.
absl::StatusOr<v1::ResourceMetrics> CheckedMetrics(const v1::EvaluationResult& result,
                                                   const ReportSubject& subject) {
  if (absl::Status status = ValidateResultContents(result); !status.ok()) return status;
  if (absl::Status status = ValidateEvaluationResult(result, subject.architecture, subject.data);
      !status.ok()) {
    return status;
  }
  if (result.pruning().empty()) return subject.dense_metrics;
  return ComputeCandidateMetrics(subject.architecture, subject.data, &result.pruning(),
                                 subject.sparse_size);
}

}  // namespace

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
    const std::vector<LeaseRef> stale = impl_->leases.HeldBy(id);
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
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (absl::Status status = impl_->CheckRegistered(request.worker_id()); !status.ok())
    return status;
  impl_->TouchWorker(request.worker_id());
  return RenewLease(*impl_, request);
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
    lock.lock();
    // (c) Under the lock again: the candidate may have ended, or its lease
    // expired or changed hands, meanwhile.
    standing = CheckReport(*impl_, request);
    if (!standing.ok()) return standing.status();
    if (*standing == ReportStanding::kEnded) return acknowledge(lock);
    JobEntry& job = impl_->jobs.at(request.job_id());
    if (!metrics.ok()) {
      std::string reason = absl::StrCat("invalid result from worker ", request.worker_id(), ": ",
                                        metrics.status().message());
      if (*standing == ReportStanding::kHolder) {
        EndAttempt(*impl_, job, request.candidate_id(), reason, /*permanent=*/false,
                   /*released=*/false,
                   absl::StrCat("invalid result: ", metrics.status().message()));
      }
      return absl::InvalidArgumentError(reason);
    }
    if (absl::Status status = CommitEvaluation(*impl_, job, request, *metrics); !status.ok()) {
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
    if (absl::Status status = CheckSize("reason", request.reason().size(), kMaxReasonBytes);
        !status.ok()) {
      return status;
    }
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (absl::Status status = impl_->CheckRegistered(request.worker_id()); !status.ok())
      return status;
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

}  // namespace unas::coordinator
