// Hostile clients against a live unas-coordinator running two real jobs
// (two synthetic workers in this process, over gRPC).
//
// A rogue HTTP client sends the dashboard 100 MB chunked bodies, slow-loris
// connections (more than it serves at once), oversized and unsized bodies,
// foreign Host headers and random bytes. A rogue worker (rogue_worker.h)
// forges other workers' ids, secrets and lease ids, reports made-up results
// for candidates others train, takes real tasks and answers them with
// oversized, malformed and impossible results, releases one candidate
// endlessly, and sends random bytes to every WorkerService method.
//
// Both jobs must finish with every evaluation, and every stored result must
// be the honest workers' (the synthetic error of its network, nothing with
// the forger's mark); the honest workers' heartbeats must keep arriving; the
// endlessly released candidate must fail with its reasons capped; and the
// coordinator's resident memory must peak (VmHWM) within 64 MiB of what it
// was before the attack (VmRSS).
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"
#include "tests/coordinator/rogue_worker.h"
#include "tests/coordinator/synthetic_worker.h"
#include "tests/dashboard/raw_http_client.h"
#include "unas/v1/worker_service.grpc.pb.h"
#include "worker/daemon/synthetic_evaluator.h"

namespace unas::dashboard {
namespace {

using coordinator::testing::CoordinatorProcess;
using coordinator::testing::kForgedDevice;
using coordinator::testing::RogueWorker;
using coordinator::testing::SmallSpec;
using coordinator::testing::Submit;
using coordinator::testing::SyntheticWorker;
using coordinator::testing::WaitForJobEnd;
using google::protobuf::util::TimeUtil;
using testing::PeakRssKib;
using testing::RawConnection;
using testing::ResetPeakRss;
using testing::RssKib;
using testing::StatusFor;

constexpr int64_t kRssBoundKib = 64 * 1024;

// Every candidate of a job, all pages.
std::vector<v1::Candidate> AllCandidates(CoordinatorProcess& coordinator, int64_t job_id) {
  auto client = coordinator.JobClient();
  std::vector<v1::Candidate> all;
  std::string token;
  do {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ListCandidatesRequest request;
    request.set_job_id(job_id);
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::ListCandidatesResponse response;
    grpc::Status status = client->ListCandidates(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    all.insert(all.end(), response.candidates().begin(), response.candidates().end());
    token = response.next_page_token();
  } while (!token.empty());
  return all;
}

// What the honest synthetic worker reports for a candidate of `job`.
double HonestError(const v1::Job& job, const v1::Candidate& candidate) {
  v1::Task task;
  *task.mutable_architecture() = candidate.architecture();
  *task.mutable_input_shape() = job.spec().input_shape();
  task.set_num_classes(job.spec().num_classes());
  absl::StatusOr<double> error = worker::SyntheticError(task);
  EXPECT_TRUE(error.ok()) << error.status();
  return error.ok() ? *error : -1;
}

// The newest heartbeat any worker sent, in ms since the epoch (0: none).
int64_t LatestHeartbeatMs(CoordinatorProcess& coordinator) {
  auto client = coordinator.JobClient();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ListWorkersRequest request;
  v1::ListWorkersResponse response;
  if (!client->ListWorkers(&context, request, &response).ok()) return 0;
  int64_t latest = 0;
  for (const v1::WorkerInfo& w : response.workers()) {
    latest = std::max(latest, TimeUtil::TimestampToMilliseconds(w.last_heartbeat()));
  }
  return latest;
}

TEST(HostileClientsTest, JobsFinishCorrectAndMemoryStaysBoundedUnderAttack) {
  const std::string dir = unas::testing::MakeTestDir("hostile-http");
  CoordinatorProcess coordinator(dir, dir + "/search.db", 0,
                                 {"--http", "127.0.0.1:0", "--http-port-file", dir + "/http-port",
                                  "--heartbeat-interval", "1", "--http-max-connections", "8"});
  std::optional<int> http_port = unas::WaitForPortFile(dir + "/http-port", absl::Seconds(20));
  ASSERT_TRUE(http_port.has_value()) << coordinator.process().ReadLog();
  const int port = *http_port;
  const std::string pid = std::to_string(coordinator.process().pid());

  // Evaluations of 1.5 s: the workers heartbeat (every second) during each.
  const int rounds = 24;
  const std::vector<int64_t> job_ids = {Submit(coordinator, SmallSpec(rounds, /*seed=*/5)),
                                        Submit(coordinator, SmallSpec(rounds, /*seed=*/6))};
  SyntheticWorker worker_a(coordinator.address(), "honest-a", absl::Milliseconds(1500));
  SyntheticWorker worker_b(coordinator.address(), "honest-b", absl::Milliseconds(1500));
  // The worker is in: its heartbeats are what we watch.
  for (absl::Time deadline = absl::Now() + absl::Seconds(30);
       LatestHeartbeatMs(coordinator) == 0 && absl::Now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(LatestHeartbeatMs(coordinator), 0);
  // The peak (VmHWM) from here on: a body read and freed between two
  // samples still counts.
  ASSERT_TRUE(ResetPeakRss(pid));
  const int64_t rss_before = RssKib(pid);
  ASSERT_GT(rss_before, 0);

  std::atomic<bool> stop{false};
  std::atomic<int64_t> rss_peak{rss_before};
  std::atomic<int64_t> heartbeat_gap_ms{0};
  std::atomic<int> attacks{0};
  std::vector<std::thread> threads;
  RogueWorker rogue(coordinator.address(), {"honest-a", "honest-b"}, job_ids);
  // Watchers: the coordinator's memory, and the age of the newest heartbeat.
  threads.emplace_back([&] {
    while (!stop) {
      const int64_t rss = PeakRssKib(pid);
      if (rss > rss_peak) rss_peak = rss;
      const int64_t now_ms = absl::ToUnixMillis(absl::Now());
      const int64_t latest = LatestHeartbeatMs(coordinator);
      if (latest > 0 && now_ms - latest > heartbeat_gap_ms) heartbeat_gap_ms = now_ms - latest;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // Chunked bodies of 100 MB, over and over.
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      const std::string chunk = absl::StrCat("100000\r\n", std::string(1 << 20, 'c'), "\r\n");
      while (!stop) {
        RawConnection c(port);
        c.Send("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 100 && !stop && c.Send(chunk); ++i) {
        }
        ++attacks;
        // Paced (the refusal is immediate), so as not to load the machine
        // the tests share more than the attack needs.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }
  // Slow-loris: more connections than the dashboard serves, each dripping.
  threads.emplace_back([&] {
    while (!stop) {
      std::vector<std::unique_ptr<RawConnection>> slow;
      for (int i = 0; i < 24; ++i) {
        slow.push_back(std::make_unique<RawConnection>(port));
        slow.back()->Send("GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ");
      }
      for (int round = 0; round < 20 && !stop; ++round) {
        for (auto& c : slow) c->Send("a");
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
      attacks += 24;
    }
  });
  // Oversized, unsized and encoded bodies, foreign Hosts, random bytes.
  threads.emplace_back([&] {
    std::mt19937 random(26);
    const std::string big(1 << 20, 'b');
    while (!stop) {
      StatusFor(port, absl::StrCat("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ",
                                   big.size(), "\r\n\r\n", big));
      StatusFor(port, "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\ntoken=x");
      StatusFor(port,
                "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Encoding: gzip\r\n"
                "Content-Length: 4\r\n\r\nabcd");
      StatusFor(port, "GET /api/jobs HTTP/1.1\r\nHost: rebind.attacker.example\r\n\r\n");
      std::string bytes(8192, '\0');
      for (char& b : bytes) b = static_cast<char>(random());
      RawConnection c(port);
      c.Send(bytes);
      attacks += 5;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  std::vector<v1::Job> done;
  for (int64_t job_id : job_ids) {
    done.push_back(WaitForJobEnd(coordinator, job_id, absl::Seconds(300)));
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  rogue.Stop();
  const int64_t rss_after = RssKib(pid);
  const RogueWorker::Counts& rogue_counts = rogue.counts();
  std::cout << "HTTP attacks: " << attacks << "; rogue worker calls: " << rogue_counts.calls
            << " (tasks abused " << rogue_counts.tasks_abused << ", releases "
            << rogue_counts.releases << "); coordinator VmRSS " << rss_before
            << " KiB before, peak " << rss_peak << " KiB, " << rss_after
            << " KiB after; longest heartbeat gap " << heartbeat_gap_ms << " ms\n";
  EXPECT_GT(attacks, 20);
  EXPECT_GT(rogue_counts.calls, 100);
  EXPECT_GT(rogue_counts.tasks_abused, 0);
  EXPECT_EQ(rogue_counts.forged_accepted, 0);
  EXPECT_EQ(rogue_counts.abusive_results_accepted, 0);
  int failed = 0;
  for (size_t j = 0; j < done.size(); ++j) {
    SCOPED_TRACE(absl::StrCat("job ", job_ids[j]));
    EXPECT_EQ(done[j].state(), v1::JOB_STATE_SUCCEEDED) << done[j].failure_reason();
    EXPECT_EQ(done[j].progress().evaluations_done(), rounds);
    int evaluated = 0;
    for (const v1::Candidate& c : AllCandidates(coordinator, job_ids[j])) {
      SCOPED_TRACE(absl::StrCat("candidate ", c.candidate_id()));
      // No candidate's row grew without bound, however often it was released.
      EXPECT_LE(c.failure_reasons_size(), done[j].spec().max_attempts() + 32 + 1);
      if (c.state() == v1::CANDIDATE_STATE_FAILED) {
        ++failed;
        // Only the candidate released over and over may fail.
        EXPECT_EQ(std::make_pair(job_ids[j], c.candidate_id()), rogue.released_candidate());
        continue;
      }
      if (c.state() != v1::CANDIDATE_STATE_DONE) continue;
      ++evaluated;
      EXPECT_NE(c.worker_id(), rogue.rogue_worker_id());
      EXPECT_NE(c.evaluation().device(), kForgedDevice);
      EXPECT_DOUBLE_EQ(c.evaluation().validation_error(), HonestError(done[j], c));
    }
    EXPECT_EQ(evaluated, rounds);
  }
  EXPECT_LE(failed, 1);
  EXPECT_LT(rss_peak - rss_before, kRssBoundKib);
  // Heartbeats every second; a gap of 5 s would mean the worker was starved.
  EXPECT_LT(heartbeat_gap_ms, 5000);
  EXPECT_TRUE(coordinator.process().running());
  // And the dashboard serves an honest client once the attack is over.
  EXPECT_EQ(
      StatusFor(port, "GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
      200);
}

}  // namespace
}  // namespace unas::dashboard
