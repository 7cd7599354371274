// A coordinator process and worker processes on loopback, and a JobService
// client, for the integration and fault tests.
#ifndef UNAS_TESTS_COORDINATOR_PROCESS_TEST_UTIL_H_
#define UNAS_TESTS_COORDINATOR_PROCESS_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/util/test_dirs.h"
#include "unas/v1/job_service.grpc.pb.h"

namespace unas::coordinator::testing {

class CoordinatorProcess {
 public:
  // Starts unas-coordinator on `db`; port 0 picks a free port the first time.
  CoordinatorProcess(std::string dir, std::string db, int port = 0,
                     std::vector<std::string> extra = {})
      : dir_(std::move(dir)), db_(std::move(db)), extra_(std::move(extra)) {
    Start(port);
  }

  void Start(int port) {
    std::string port_file = dir_ + "/port";
    std::remove(port_file.c_str());
    std::vector<std::string> argv = {
        unas::testing::BinaryPath("unas-coordinator"), "--db",        db_,      "--listen",
        "127.0.0.1:" + std::to_string(port),           "--port-file", port_file};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    process_ = std::make_unique<unas::Subprocess>(argv, dir_ + "/coordinator.log");
    std::optional<int> bound = unas::testing::WaitForPortFile(port_file, absl::Seconds(20));
    ASSERT_TRUE(bound.has_value()) << process_->ReadLog();
    port_ = *bound;
  }

  void Kill() { process_->Kill(); }
  void Restart() {
    Kill();
    Start(port_);
  }
  unas::Subprocess& process() { return *process_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  std::unique_ptr<v1::JobService::Stub> JobClient() const {
    return v1::JobService::NewStub(
        grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
  }

 private:
  std::string dir_, db_;
  std::vector<std::string> extra_;
  int port_ = 0;
  std::unique_ptr<unas::Subprocess> process_;
};

inline std::unique_ptr<unas::Subprocess> StartWorker(const std::string& dir,
                                                     const std::string& address,
                                                     const std::string& name,
                                                     std::vector<std::string> extra) {
  std::vector<std::string> argv = {unas::testing::BinaryPath("unas-worker"),
                                   "--coordinator",
                                   address,
                                   "--name",
                                   name,
                                   "--acquire-wait",
                                   "2"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<unas::Subprocess>(argv, dir + "/" + name + ".log");
}

// Polls GetJob until the job has ended (or the timeout passes).
inline v1::Job WaitForJobEnd(CoordinatorProcess& coordinator, int64_t job_id,
                             absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  v1::Job job;
  while (absl::Now() < deadline) {
    auto client = coordinator.JobClient();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetJobRequest request;
    request.set_job_id(job_id);
    if (client->GetJob(&context, request, &job).ok() && job.state() != v1::JOB_STATE_RUNNING) {
      return job;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return job;
}

// Polls until some candidate of the job is LEASED; its id, or 0 on timeout.
inline int64_t WaitForLeasedCandidate(CoordinatorProcess& coordinator, int64_t job_id,
                                      absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    auto client = coordinator.JobClient();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ListCandidatesRequest request;
    request.set_job_id(job_id);
    request.add_states(v1::CANDIDATE_STATE_LEASED);
    v1::ListCandidatesResponse response;
    if (client->ListCandidates(&context, request, &response).ok() &&
        response.candidates_size() > 0) {
      return response.candidates(0).candidate_id();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

// One candidate through the JobService; a failed test when the call fails.
inline v1::Candidate GetCandidate(CoordinatorProcess& coordinator, int64_t job_id,
                                  int64_t candidate_id) {
  auto client = coordinator.JobClient();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetCandidateRequest request;
  request.set_job_id(job_id);
  request.set_candidate_id(candidate_id);
  v1::Candidate candidate;
  grpc::Status status = client->GetCandidate(&context, request, &candidate);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return candidate;
}

inline int64_t Submit(CoordinatorProcess& coordinator, const v1::JobSpec& spec) {
  auto client = coordinator.JobClient();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::SubmitJobRequest request;
  *request.mutable_spec() = spec;
  v1::Job job;
  grpc::Status status = client->SubmitJob(&context, request, &job);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return job.job_id();
}

}  // namespace unas::coordinator::testing

#endif  // UNAS_TESTS_COORDINATOR_PROCESS_TEST_UTIL_H_
