#include "coordinator/service/services.h"

#include <algorithm>
#include <chrono>

#include "common/rpc/grpc_status.h"

namespace unas::coordinator {
namespace {

template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

// How long a long-poll may wait: what the caller asked for, within our cap
// and a little inside the caller's own deadline.
absl::Duration PollWait(grpc::ServerContext* context, int requested_seconds, int fallback) {
  int seconds = requested_seconds > 0 ? requested_seconds : fallback;
  absl::Duration wait = absl::Seconds(std::min(seconds, kMaxAcquireWaitSeconds));
  auto deadline = context->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    absl::Duration left =
        absl::FromChrono(deadline - std::chrono::system_clock::now()) - absl::Milliseconds(200);
    wait = std::max(absl::ZeroDuration(), std::min(wait, left));
  }
  return wait;
}

}  // namespace

// Refuses the call unless its token may use this service.
#define UNAS_AUTHORIZE(context, role)                                                 \
  do {                                                                                \
    if (authorizer_ != nullptr) {                                                     \
      if (grpc::Status denied = authorizer_->Check(*(context), role); !denied.ok()) { \
        return denied;                                                                \
      }                                                                               \
    }                                                                                 \
  } while (false)

grpc::Status JobServiceImpl::SubmitJob(grpc::ServerContext* context,
                                       const v1::SubmitJobRequest* request, v1::Job* response) {
  UNAS_AUTHORIZE(context, CallerRole::kClient);
  return Reply(coordinator_->SubmitJob(request->spec()), response);
}

grpc::Status JobServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                                    v1::Job* response) {
  UNAS_AUTHORIZE(context, CallerRole::kClient);
  return Reply(coordinator_->GetJob(request->job_id()), response);
}

grpc::Status JobServiceImpl::ListJobs(grpc::ServerContext* context,
                                      const v1::ListJobsRequest* request,
                                      v1::ListJobsResponse* response) {
  UNAS_AUTHORIZE(context, CallerRole::kClient);
  for (v1::Job& job : coordinator_->ListJobs(*request)) *response->add_jobs() = std::move(job);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::CancelJob(grpc::ServerContext* context,
                                       const v1::CancelJobRequest* request, v1::Job* response) {
  UNAS_AUTHORIZE(context, CallerRole::kClient);
  return Reply(coordinator_->CancelJob(request->job_id()), response);
}

grpc::Status JobServiceImpl::ListCandidates(grpc::ServerContext* context,
                                            const v1::ListCandidatesRequest* request,
                                            v1::ListCandidatesResponse* response) {
  UNAS_AUTHORIZE(context, CallerRole::kClient);
  return Reply(coordinator_->ListCandidates(*request), response);
}

grpc::Status JobServiceImpl::GetCandidate(grpc::ServerContext* context,
                                          const v1::GetCandidateRequest* request,
                                          v1::Candidate* response) {
  UNAS_AUTHORIZE(context, CallerRole::kClient);
  return Reply(coordinator_->GetCandidate(request->job_id(), request->candidate_id()), response);
}

grpc::Status JobServiceImpl::GetParetoFront(grpc::ServerContext* context,
                                            const v1::GetParetoFrontRequest* request,
                                            v1::GetParetoFrontResponse* response) {
  UNAS_AUTHORIZE(context, CallerRole::kClient);
  return Reply(coordinator_->GetParetoFront(*request), response);
}

grpc::Status JobServiceImpl::WatchJob(grpc::ServerContext* context,
                                      const v1::WatchJobRequest* request,
                                      grpc::ServerWriter<v1::JobEvent>* writer) {
  UNAS_AUTHORIZE(context, CallerRole::kClient);
  int64_t cursor = 0;
  while (!context->IsCancelled()) {
    std::vector<v1::JobEvent> events;
    absl::StatusOr<bool> more =
        coordinator_->NextEvents(request->job_id(), &cursor, absl::Seconds(1), &events);
    if (!more.ok()) return ToGrpcStatus(more.status());
    for (const v1::JobEvent& event : events) {
      if (!writer->Write(event)) return grpc::Status::OK;  // the client went away
    }
    if (!*more) return grpc::Status::OK;
  }
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::ExportCandidate(grpc::ServerContext* context,
                                             const v1::ExportCandidateRequest* request,
                                             v1::ExportCandidateResponse* response) {
  UNAS_AUTHORIZE(context, CallerRole::kClient);
  return Reply(coordinator_->ExportCandidate(request->job_id(), request->candidate_id()), response);
}

grpc::Status JobServiceImpl::ListWorkers(grpc::ServerContext* context,
                                         const v1::ListWorkersRequest* request,
                                         v1::ListWorkersResponse* response) {
  UNAS_AUTHORIZE(context, CallerRole::kClient);
  for (v1::WorkerInfo& w : coordinator_->ListWorkers(request->include_inactive())) {
    *response->add_workers() = std::move(w);
  }
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::RegisterWorker(grpc::ServerContext* context,
                                               const v1::RegisterWorkerRequest* request,
                                               v1::RegisterWorkerResponse* response) {
  UNAS_AUTHORIZE(context, CallerRole::kWorker);
  return Reply(coordinator_->RegisterWorker(*request), response);
}

grpc::Status WorkerServiceImpl::AcquireTask(grpc::ServerContext* context,
                                            const v1::AcquireTaskRequest* request,
                                            v1::AcquireTaskResponse* response) {
  UNAS_AUTHORIZE(context, CallerRole::kWorker);
  absl::Duration wait = PollWait(context, request->wait_seconds(), kDefaultAcquireWaitSeconds);
  absl::StatusOr<v1::AcquireTaskResponse> result =
      coordinator_->AcquireTask(*request, wait, [context] { return context->IsCancelled(); });
  if (result.ok() && result->has_task() && context->IsCancelled()) {
    // The worker gave up on the call (it is stopping) while a task was being
    // leased to it: give the task back at once instead of letting the lease expire.
    v1::FailTaskRequest release;
    release.set_worker_id(request->worker_id());
    release.set_worker_secret(request->worker_secret());
    release.set_lease_id(result->task().lease_id());
    release.set_reason("the worker cancelled its acquire call");
    release.set_released(true);
    (void)coordinator_->FailTask(release);
    return grpc::Status(grpc::StatusCode::CANCELLED, "acquire call cancelled");
  }
  return Reply(std::move(result), response);
}

grpc::Status WorkerServiceImpl::Heartbeat(grpc::ServerContext* context,
                                          const v1::HeartbeatRequest* request,
                                          v1::HeartbeatResponse* response) {
  UNAS_AUTHORIZE(context, CallerRole::kWorker);
  return Reply(coordinator_->Heartbeat(*request), response);
}

grpc::Status WorkerServiceImpl::CompleteTask(grpc::ServerContext* context,
                                             const v1::CompleteTaskRequest* request,
                                             v1::CompleteTaskResponse* response) {
  UNAS_AUTHORIZE(context, CallerRole::kWorker);
  return Reply(coordinator_->CompleteTask(*request), response);
}

grpc::Status WorkerServiceImpl::FailTask(grpc::ServerContext* context,
                                         const v1::FailTaskRequest* request,
                                         v1::FailTaskResponse*) {
  UNAS_AUTHORIZE(context, CallerRole::kWorker);
  return ToGrpcStatus(coordinator_->FailTask(*request));
}

#undef UNAS_AUTHORIZE

}  // namespace unas::coordinator
