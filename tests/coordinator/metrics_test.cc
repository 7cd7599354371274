// A real unas-coordinator with --metrics-listen, scraped over HTTP while a
// job runs: a worker that takes two candidates and vanishes (one failed for
// good, one lease left to expire), then a synthetic worker that finishes the
// job. Every metric named in docs/operations.md must move as it should.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"
#include "tests/coordinator/rpc_test_util.h"
#include "unas/v1/worker_service.grpc.pb.h"
#include "worker/daemon/synthetic_evaluator.h"
#include "worker/daemon/worker_loop.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT

// GET http://127.0.0.1:PORT/metrics with a plain socket; the body.
std::string Scrape(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    ADD_FAILURE() << "cannot connect to the metrics port " << port;
    return "";
  }
  std::string request = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
  EXPECT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
  close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.", 0), 0u) << response;
  EXPECT_NE(response.find(" 200 "), std::string::npos) << response.substr(0, 200);
  size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The value of the sample `series` (name with labels exactly as exposed), or
// -1 when the scrape has no such sample.
double Sample(const std::string& scrape, const std::string& series) {
  std::istringstream lines(scrape);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

// Scrapes until `series` reaches `value` (or 20 s pass); the last scrape.
std::string WaitForSample(int port, const std::string& series, double value) {
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::string scrape;
  do {
    scrape = Scrape(port);
    if (Sample(scrape, series) == value) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (absl::Now() < deadline);
  return scrape;
}

TEST(MetricsTest, ScrapedNumbersFollowTheJob) {
  std::string dir = unas::testing::MakeTestDir("metrics");
  CoordinatorProcess coordinator(
      dir, dir + "/search.db", 0,
      {"--metrics-listen", "127.0.0.1:0", "--metrics-port-file", dir + "/metrics.port"});
  std::optional<int> port = unas::WaitForPortFile(dir + "/metrics.port", absl::Seconds(10));
  ASSERT_TRUE(port.has_value()) << coordinator.process().ReadLog();

  std::string before = Scrape(*port);
  EXPECT_EQ(Sample(before, "unas_connected_workers"), 0) << before;
  EXPECT_EQ(Sample(before, "unas_jobs{state=\"running\"}"), 0);
  EXPECT_EQ(Sample(before, "unas_evaluation_duration_seconds_count"), 0);

  v1::JobSpec spec = SmallSpec(10, /*seed=*/7);
  spec.set_lease_ttl_seconds(1);
  spec.set_max_attempts(3);
  int64_t job_id = Submit(coordinator, spec);
  ASSERT_EQ(job_id, 1);
  const std::string job = "{job=\"1\"}";

  // A worker that takes two candidates, fails one for good and abandons the
  // other.
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(coordinator.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::WorkerService::NewStub(channel);
  v1::RegisterWorkerResponse registered;
  {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::RegisterWorkerRequest request;
    request.set_name("ghost");
    request.set_slots(2);
    ASSERT_TRUE(stub->RegisterWorker(&context, request, &registered).ok());
  }
  std::vector<v1::Task> tasks;
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::AcquireTaskRequest request;
    request.set_worker_id(registered.worker_id());
    request.set_worker_secret(registered.worker_secret());
    request.set_wait_seconds(1);
    v1::AcquireTaskResponse response;
    ASSERT_TRUE(stub->AcquireTask(&context, request, &response).ok());
    ASSERT_TRUE(response.has_task());
    tasks.push_back(response.task());
  }
  std::string leased = Scrape(*port);
  EXPECT_EQ(Sample(leased, "unas_leased_candidates" + job), 2) << leased;
  EXPECT_EQ(Sample(leased, "unas_connected_workers"), 1);
  EXPECT_EQ(Sample(leased, "unas_jobs{state=\"running\"}"), 1);
  EXPECT_GE(Sample(leased, "unas_store_commit_seconds_count{operation=\"lease\"}"), 2);
  {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::FailTaskRequest request;
    request.set_worker_id(registered.worker_id());
    request.set_worker_secret(registered.worker_secret());
    request.set_job_id(tasks[1].job_id());
    request.set_candidate_id(tasks[1].candidate_id());
    request.set_lease_id(tasks[1].lease_id());
    request.set_reason("this network cannot be trained");
    request.set_permanent(true);
    v1::FailTaskResponse response;
    ASSERT_TRUE(stub->FailTask(&context, request, &response).ok());
  }
  // The other lease expires after its 1 s TTL: re-queued, waiting.
  std::string expired = WaitForSample(*port, "unas_lease_expiries_total" + job, 1);
  EXPECT_EQ(Sample(expired, "unas_lease_expiries_total" + job), 1) << expired;
  EXPECT_EQ(Sample(expired, "unas_evaluations_requeued_total" + job), 1);
  EXPECT_EQ(Sample(expired, "unas_evaluations_failed_total" + job), 1);
  EXPECT_EQ(Sample(expired, "unas_queue_depth" + job), 1);
  EXPECT_EQ(Sample(expired, "unas_leased_candidates" + job), 0);
  EXPECT_GE(Sample(expired, "unas_store_commit_seconds_count{operation=\"attempt_failure\"}"), 2);

  // A real (synthetic) worker finishes the job.
  {
    worker::SyntheticEvaluator evaluator(worker::SyntheticOptions{absl::Milliseconds(20), 1});
    worker::WorkerOptions options;
    options.coordinator = coordinator.address();
    options.name = "finisher";
    options.acquire_wait_seconds = 1;
    worker::WorkerLoop loop(options, &evaluator);
    absl::Status status;
    std::thread thread([&] { status = loop.Run(); });
    v1::Job done = WaitForJobEnd(coordinator, job_id, absl::Seconds(60));
    loop.Stop();
    thread.join();
    ASSERT_TRUE(status.ok()) << status;
    ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << coordinator.process().ReadLog();
  }
  std::string after = Scrape(*port);
  double done = Sample(after, "unas_evaluations_done_total" + job);
  // Every accepted result, less the duplicates recorded without training.
  EXPECT_GE(done, 1) << after;
  EXPECT_LE(done, 10);
  EXPECT_EQ(Sample(after, "unas_evaluation_duration_seconds_count"), done);
  EXPECT_GT(Sample(after, "unas_evaluation_duration_seconds_sum"), 0.02 * done);
  EXPECT_EQ(Sample(after, "unas_evaluation_duration_seconds_bucket{le=\"+Inf\"}"), done);
  EXPECT_EQ(Sample(after, "unas_store_commit_seconds_count{operation=\"evaluation\"}"), done);
  EXPECT_GT(Sample(after, "unas_store_commit_seconds_sum{operation=\"evaluation\"}"), 0);
  EXPECT_EQ(Sample(after, "unas_jobs{state=\"succeeded\"}"), 1);
  EXPECT_EQ(Sample(after, "unas_jobs{state=\"running\"}"), 0);
  EXPECT_EQ(Sample(after, "unas_queue_depth" + job), 0);
  EXPECT_EQ(Sample(after, "unas_leased_candidates" + job), 0);
  EXPECT_EQ(Sample(after, "unas_connected_workers"), 2);  // ghost and finisher, both recent
  // Every metric is declared with its type.
  for (const char* family :
       {"unas_evaluations_done_total counter", "unas_evaluations_failed_total counter",
        "unas_evaluations_requeued_total counter", "unas_lease_expiries_total counter",
        "unas_queue_depth gauge", "unas_leased_candidates gauge", "unas_connected_workers gauge",
        "unas_jobs gauge", "unas_evaluation_duration_seconds histogram",
        "unas_store_commit_seconds histogram"}) {
    EXPECT_NE(after.find(std::string("# TYPE ") + family), std::string::npos) << family;
  }
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unas::coordinator
