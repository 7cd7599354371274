// The gRPC services of unas.v1 (docs/api.md) over a Coordinator. Every call
// first passes the CallAuthorizer, when one is given (tokens configured).
#ifndef UNAS_COORDINATOR_SERVICE_SERVICES_H_
#define UNAS_COORDINATOR_SERVICE_SERVICES_H_

#include "coordinator/auth/call_authorizer.h"
#include "coordinator/core/coordinator.h"
#include "unas/v1/job_service.grpc.pb.h"
#include "unas/v1/worker_service.grpc.pb.h"

namespace unas::coordinator {

// Long-polls never hold a worker longer than this, whatever it asks.
inline constexpr int kMaxAcquireWaitSeconds = 60;
inline constexpr int kDefaultAcquireWaitSeconds = 30;

class JobServiceImpl final : public v1::JobService::Service {
 public:
  explicit JobServiceImpl(Coordinator* coordinator, const CallAuthorizer* authorizer = nullptr)
      : coordinator_(coordinator), authorizer_(authorizer) {}

  grpc::Status SubmitJob(grpc::ServerContext*, const v1::SubmitJobRequest*, v1::Job*) override;
  grpc::Status GetJob(grpc::ServerContext*, const v1::GetJobRequest*, v1::Job*) override;
  grpc::Status ListJobs(grpc::ServerContext*, const v1::ListJobsRequest*,
                        v1::ListJobsResponse*) override;
  grpc::Status CancelJob(grpc::ServerContext*, const v1::CancelJobRequest*, v1::Job*) override;
  grpc::Status ListCandidates(grpc::ServerContext*, const v1::ListCandidatesRequest*,
                              v1::ListCandidatesResponse*) override;
  grpc::Status GetCandidate(grpc::ServerContext*, const v1::GetCandidateRequest*,
                            v1::Candidate*) override;
  grpc::Status GetParetoFront(grpc::ServerContext*, const v1::GetParetoFrontRequest*,
                              v1::GetParetoFrontResponse*) override;
  grpc::Status WatchJob(grpc::ServerContext*, const v1::WatchJobRequest*,
                        grpc::ServerWriter<v1::JobEvent>*) override;
  grpc::Status ExportCandidate(grpc::ServerContext*, const v1::ExportCandidateRequest*,
                               v1::ExportCandidateResponse*) override;
  grpc::Status ListWorkers(grpc::ServerContext*, const v1::ListWorkersRequest*,
                           v1::ListWorkersResponse*) override;

 private:
  Coordinator* coordinator_;
  const CallAuthorizer* authorizer_;
};

class WorkerServiceImpl final : public v1::WorkerService::Service {
 public:
  explicit WorkerServiceImpl(Coordinator* coordinator, const CallAuthorizer* authorizer = nullptr)
      : coordinator_(coordinator), authorizer_(authorizer) {}

  grpc::Status RegisterWorker(grpc::ServerContext*, const v1::RegisterWorkerRequest*,
                              v1::RegisterWorkerResponse*) override;
  grpc::Status AcquireTask(grpc::ServerContext*, const v1::AcquireTaskRequest*,
                           v1::AcquireTaskResponse*) override;
  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest*,
                         v1::HeartbeatResponse*) override;
  grpc::Status CompleteTask(grpc::ServerContext*, const v1::CompleteTaskRequest*,
                            v1::CompleteTaskResponse*) override;
  grpc::Status FailTask(grpc::ServerContext*, const v1::FailTaskRequest*,
                        v1::FailTaskResponse*) override;

 private:
  Coordinator* coordinator_;
  const CallAuthorizer* authorizer_;
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_SERVICE_SERVICES_H_
