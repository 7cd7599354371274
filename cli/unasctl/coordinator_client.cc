#include "cli/unasctl/coordinator_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/grpc_status.h"

namespace unas::cli {
namespace {

constexpr int kCallSeconds = 30;

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(kCallSeconds));
}

}  // namespace

CoordinatorClient::CoordinatorClient(std::string address, const rpc::ChannelSecurity& security)
    : address_(std::move(address)) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      rpc::MakeChannel(address_, security, args);
  if (!channel.ok()) {
    setup_error_ = channel.status();
    // A stub all the same, so stub() users get an error rather than a crash.
    channel = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  }
  stub_ = v1::JobService::NewStub(*channel);
}

absl::Status CoordinatorClient::Explain(const grpc::Status& status) const {
  if (status.ok()) return absl::OkStatus();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::UnauthenticatedError(absl::StrCat(
          "the coordinator at ", address_, " refused the token: ", status.error_message(),
          " (use --token-file with the client token, or $UNAS_TOKEN_FILE)"));
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::PermissionDeniedError(absl::StrCat(
          "the coordinator at ", address_, " refused this call: ", status.error_message(),
          " (unasctl needs the client token, not the worker token)"));
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      // The coordinator answered, but its database cannot commit now: say so,
      // rather than that it cannot be reached.
      if (absl::StrContains(status.error_message(), "the coordinator's database")) {
        return absl::UnavailableError(absl::StrCat(
            "the coordinator at ", address_, " refused the change: ", status.error_message()));
      }
      return absl::UnavailableError(absl::StrCat("cannot reach the coordinator at ", address_,
                                                 " (is unas-coordinator running? use "
                                                 "--coordinator HOST:PORT; if it serves TLS, "
                                                 "--tls-ca CA.pem)"));
    default:
      return FromGrpcStatus(status);
  }
}

#define UNAS_CALL(method, request, response)                      \
  do {                                                            \
    if (!setup_error_.ok()) return setup_error_;                  \
    grpc::ClientContext context;                                  \
    SetDeadline(context);                                         \
    grpc::Status s = stub_->method(&context, request, &response); \
    if (!s.ok()) return Explain(s);                               \
  } while (false)

absl::StatusOr<v1::Job> CoordinatorClient::Submit(const v1::JobSpec& spec) {
  v1::SubmitJobRequest request;
  *request.mutable_spec() = spec;
  v1::Job job;
  UNAS_CALL(SubmitJob, request, job);
  return job;
}

absl::StatusOr<v1::Job> CoordinatorClient::GetJob(int64_t job_id) {
  v1::GetJobRequest request;
  request.set_job_id(job_id);
  v1::Job job;
  UNAS_CALL(GetJob, request, job);
  return job;
}

absl::StatusOr<std::vector<v1::Job>> CoordinatorClient::ListJobs() {
  v1::ListJobsRequest request;
  v1::ListJobsResponse response;
  UNAS_CALL(ListJobs, request, response);
  return std::vector<v1::Job>(response.jobs().begin(), response.jobs().end());
}

absl::StatusOr<v1::Job> CoordinatorClient::Cancel(int64_t job_id) {
  v1::CancelJobRequest request;
  request.set_job_id(job_id);
  v1::Job job;
  UNAS_CALL(CancelJob, request, job);
  return job;
}

absl::StatusOr<std::vector<v1::Candidate>> CoordinatorClient::ListCandidates(
    v1::ListCandidatesRequest request) {
  std::vector<v1::Candidate> out;
  request.set_page_size(1000);
  while (true) {
    v1::ListCandidatesResponse response;
    UNAS_CALL(ListCandidates, request, response);
    out.insert(out.end(), response.candidates().begin(), response.candidates().end());
    if (response.next_page_token().empty()) return out;
    request.set_page_token(response.next_page_token());
  }
}

absl::StatusOr<v1::Candidate> CoordinatorClient::GetCandidate(int64_t job_id,
                                                              int64_t candidate_id) {
  v1::GetCandidateRequest request;
  request.set_job_id(job_id);
  request.set_candidate_id(candidate_id);
  v1::Candidate candidate;
  UNAS_CALL(GetCandidate, request, candidate);
  return candidate;
}

absl::StatusOr<std::vector<v1::Candidate>> CoordinatorClient::ParetoFront(
    const v1::GetParetoFrontRequest& request) {
  v1::GetParetoFrontResponse response;
  UNAS_CALL(GetParetoFront, request, response);
  return std::vector<v1::Candidate>(response.candidates().begin(), response.candidates().end());
}

absl::StatusOr<std::vector<v1::Candidate>> CoordinatorClient::FeasibleParetoFront(int64_t job_id) {
  v1::GetParetoFrontRequest request;
  request.set_job_id(job_id);
  request.set_use_test_error(true);
  return ParetoFront(request);
}

absl::StatusOr<v1::ExportCandidateResponse> CoordinatorClient::Export(int64_t job_id,
                                                                      int64_t candidate_id) {
  v1::ExportCandidateRequest request;
  request.set_job_id(job_id);
  request.set_candidate_id(candidate_id);
  v1::ExportCandidateResponse response;
  UNAS_CALL(ExportCandidate, request, response);
  return response;
}

absl::StatusOr<std::vector<v1::WorkerInfo>> CoordinatorClient::ListWorkers(bool include_inactive) {
  v1::ListWorkersRequest request;
  request.set_include_inactive(include_inactive);
  v1::ListWorkersResponse response;
  UNAS_CALL(ListWorkers, request, response);
  return std::vector<v1::WorkerInfo>(response.workers().begin(), response.workers().end());
}

absl::StatusOr<int64_t> CoordinatorClient::ResolveJob(const std::string& id_or_name) {
  int64_t id = 0;
  if (absl::SimpleAtoi(id_or_name, &id)) return id;
  absl::StatusOr<std::vector<v1::Job>> jobs = ListJobs();
  if (!jobs.ok()) return jobs.status();
  int64_t found = 0;
  for (const v1::Job& job : *jobs) {
    if (job.spec().name() == id_or_name) found = std::max(found, job.job_id());
  }
  if (found == 0) {
    return absl::NotFoundError(
        absl::StrCat("no job named '", id_or_name, "' at ", address_, " (see `unasctl jobs`)"));
  }
  return found;
}

#undef UNAS_CALL

}  // namespace unas::cli
