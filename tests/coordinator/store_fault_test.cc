// A full disk under a running coordinator: the database lives on
// a tmpfs mounted with a size limit, which the test fills while a real job
// runs. The coordinator must stay up, report the failing store (GetJob's
// store_error, `unasctl status`, the dashboard's JSON, the metrics endpoint),
// refuse changes with UNAVAILABLE, and, once space is freed, store everything it held and
// finish the job with nothing lost (checked again after a restart). Needs
// root (mount(2)); skips with a message elsewhere.
#include <fcntl.h>
#include <httplib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"
#include "tests/coordinator/synthetic_worker.h"

namespace unas::coordinator::testing {
namespace {

v1::Job GetJobOf(CoordinatorProcess& coordinator, int64_t job_id) {
  auto client = coordinator.JobClient();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetJobRequest request;
  request.set_job_id(job_id);
  v1::Job job;
  grpc::Status status = client->GetJob(&context, request, &job);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return job;
}

// Polls GetJob until `done` holds of it; false after `timeout`.
template <typename Done>
bool WaitForJob(CoordinatorProcess& coordinator, int64_t job_id, absl::Duration timeout,
                Done done) {
  for (absl::Time deadline = absl::Now() + timeout; absl::Now() < deadline;) {
    if (done(GetJobOf(coordinator, job_id))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Writes zeros to `path` until the filesystem is full; the bytes written.
size_t FillUp(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  EXPECT_GE(fd, 0) << std::strerror(errno);
  const std::string block(64 * 1024, '\0');
  size_t written = 0;
  for (;;) {
    const ssize_t n = ::write(fd, block.data(), block.size());
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  EXPECT_EQ(errno, ENOSPC);
  ::close(fd);
  return written;
}

std::string Metrics(int port) {
  httplib::Client client("127.0.0.1", port);
  httplib::Result r = client.Get("/metrics");
  return r ? r->body : "";
}

TEST(StoreFaultTest, AFullDiskIsRetriedNotACrashAndLosesNothing) {
  const std::string dir = unas::testing::MakeTestDir("store-fault");
  const std::string mount_point = dir + "/small-disk";
  std::filesystem::create_directories(mount_point);
  if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=8m") != 0) {
    GTEST_SKIP() << "cannot mount a size-limited tmpfs at " << mount_point << " ("
                 << std::strerror(errno) << "): this test needs root (CAP_SYS_ADMIN)";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mount_point};

  const int rounds = 40;
  CoordinatorProcess coordinator(
      dir, mount_point + "/search.db", 0,
      {"--heartbeat-interval", "1", "--metrics-listen", "127.0.0.1:0", "--metrics-port-file",
       dir + "/metrics-port", "--http", "127.0.0.1:0", "--http-port-file", dir + "/http-port"});
  std::optional<int> metrics_port =
      unas::testing::WaitForPortFile(dir + "/metrics-port", absl::Seconds(20));
  ASSERT_TRUE(metrics_port.has_value());
  std::optional<int> http_port =
      unas::testing::WaitForPortFile(dir + "/http-port", absl::Seconds(20));
  ASSERT_TRUE(http_port.has_value());
  auto dashboard_jobs = [&] {
    httplib::Client client("127.0.0.1", *http_port);
    httplib::Result r = client.Get("/api/jobs");
    return r ? r->body : "";
  };
  const int64_t job_id = Submit(coordinator, SmallSpec(rounds, /*seed=*/11));
  {
    SyntheticWorker worker(coordinator.address(), "full-disk-worker", absl::Milliseconds(30));
    ASSERT_TRUE(WaitForJob(coordinator, job_id, absl::Seconds(60), [](const v1::Job& job) {
      return job.progress().evaluations_done() >= 5;
    }));

    // The disk fills up: the next commit fails, and keeps failing.
    const std::string filler = mount_point + "/filler";
    const size_t filled = FillUp(filler);
    std::cout << "filled the tmpfs with " << filled << " bytes\n";
    v1::Job stuck;
    ASSERT_TRUE(WaitForJob(coordinator, job_id, absl::Seconds(60), [&](const v1::Job& job) {
      stuck = job;
      return !job.store_error().empty();
    })) << coordinator.process().ReadLog();
    std::cout << "store_error: " << stuck.store_error() << "\n";
    EXPECT_EQ(stuck.state(), v1::JOB_STATE_RUNNING);
    EXPECT_LT(stuck.progress().evaluations_done(), rounds);

    // Changes are refused, the process stays up, and the failure is reported.
    {
      auto client = coordinator.JobClient();
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      v1::SubmitJobRequest request;
      *request.mutable_spec() = SmallSpec(3, 1);
      v1::Job refused;
      grpc::Status status = client->SubmitJob(&context, request, &refused);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    }
    EXPECT_TRUE(coordinator.process().running());
    EXPECT_THAT(Metrics(*metrics_port), ::testing::HasSubstr("unas_store_healthy 0"));
    EXPECT_THAT(dashboard_jobs(), ::testing::HasSubstr("\"store_error\": \"the coordinator's"));
    unas::testing::CommandResult status =
        unas::testing::RunCommand({unas::testing::BinaryPath("unasctl"), "status",
                                   std::to_string(job_id), "--coordinator", coordinator.address()});
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
    EXPECT_THAT(status.out, ::testing::HasSubstr("STORE ERROR"));

    // Space again: the held changes are stored and the job goes on to its end.
    std::filesystem::remove(filler);
    ASSERT_TRUE(WaitForJob(coordinator, job_id, absl::Seconds(60), [](const v1::Job& job) {
      return job.store_error().empty();
    })) << coordinator.process().ReadLog();
    v1::Job done = WaitForJobEnd(coordinator, job_id, absl::Seconds(120));
    EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.failure_reason();
    EXPECT_EQ(done.progress().evaluations_done(), rounds);
    EXPECT_TRUE(coordinator.process().running());
    EXPECT_THAT(Metrics(*metrics_port), ::testing::HasSubstr("unas_store_healthy 1"));
    EXPECT_THAT(dashboard_jobs(), ::testing::HasSubstr("\"store_error\": null"));
  }
  EXPECT_THAT(coordinator.process().ReadLog(), ::testing::HasSubstr("commits again"));

  // Nothing lost: a restarted coordinator reads the same finished job back.
  coordinator.Restart();
  v1::Job reread = GetJobOf(coordinator, job_id);
  EXPECT_EQ(reread.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(reread.progress().evaluations_done(), rounds);
  auto client = coordinator.JobClient();
  grpc::ClientContext context;
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.add_states(v1::CANDIDATE_STATE_DONE);
  request.set_page_size(1000);
  v1::ListCandidatesResponse response;
  ASSERT_TRUE(client->ListCandidates(&context, request, &response).ok());
  EXPECT_EQ(response.candidates_size(), rounds);
}

}  // namespace
}  // namespace unas::coordinator::testing
