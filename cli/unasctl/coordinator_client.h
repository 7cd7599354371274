// unasctl's connection to a coordinator: stubs with deadlines, job lookup by
// id or name, and gRPC errors turned into one clear line.
#ifndef UNAS_CLI_UNASCTL_COORDINATOR_CLIENT_H_
#define UNAS_CLI_UNASCTL_COORDINATOR_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/rpc/channel.h"
#include "unas/v1/job_service.grpc.pb.h"

namespace unas::cli {

inline constexpr char kDefaultCoordinator[] = "127.0.0.1:50051";

class CoordinatorClient {
 public:
  // `security`: TLS and token (--tls-ca, --token-file). When its files
  // cannot be used, every call returns that error.
  explicit CoordinatorClient(std::string address, const rpc::ChannelSecurity& security = {});

  const std::string& address() const { return address_; }

  absl::StatusOr<v1::Job> Submit(const v1::JobSpec& spec);
  absl::StatusOr<v1::Job> GetJob(int64_t job_id);
  absl::StatusOr<std::vector<v1::Job>> ListJobs();
  absl::StatusOr<v1::Job> Cancel(int64_t job_id);
  // Every page of ListCandidates.
  absl::StatusOr<std::vector<v1::Candidate>> ListCandidates(v1::ListCandidatesRequest request);
  absl::StatusOr<v1::Candidate> GetCandidate(int64_t job_id, int64_t candidate_id);
  absl::StatusOr<std::vector<v1::Candidate>> ParetoFront(const v1::GetParetoFrontRequest& request);
  // The feasible Pareto front over all four objectives ranked by test error,
  // as the report shows it (sorted by that error).
  absl::StatusOr<std::vector<v1::Candidate>> FeasibleParetoFront(int64_t job_id);
  absl::StatusOr<v1::ExportCandidateResponse> Export(int64_t job_id, int64_t candidate_id);
  absl::StatusOr<std::vector<v1::WorkerInfo>> ListWorkers(bool include_inactive);
  // A job named by its id ("3") or its name (the newest job of that name).
  absl::StatusOr<int64_t> ResolveJob(const std::string& id_or_name);
  v1::JobService::Stub& stub() { return *stub_; }

  // A gRPC status as an absl::Status whose message reads well on a terminal
  // ("cannot reach the coordinator at ... (is unas-coordinator running?)").
  absl::Status Explain(const grpc::Status& status) const;

 private:
  std::string address_;
  absl::Status setup_error_;
  std::unique_ptr<v1::JobService::Stub> stub_;
};

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_COORDINATOR_CLIENT_H_
