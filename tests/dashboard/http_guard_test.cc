// The dashboard against hostile HTTP clients, in process: the head checks
// (request_guard.h) on their own, then a DashboardServer over an in-process
// coordinator fed with raw bytes. A 100 MB chunked body must not grow this
// process's memory (cpp-httplib 0.11.4 alone appends it to memory,
// CVE-2025-46728); bodies without Content-Length, encoded bodies, oversized
// heads and foreign Hosts are refused before a body byte is read; slow-loris
// connections are dropped at the head deadline; connections beyond the cap
// get 503 at once; and the history cache stays within its byte bound.
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/http/dashboard_server.h"
#include "coordinator/http/history_cache.h"
#include "coordinator/http/request_guard.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/dashboard/raw_http_client.h"
#include "tests/util/test_dirs.h"

namespace unas::dashboard {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT
using testing::PeakRssKib;
using testing::RawConnection;
using testing::ResetPeakRss;
using testing::RssKib;
using testing::StatusFor;
using testing::StatusOf;

constexpr size_t kBody = 16 * 1024;

HeadCheck Check(const std::string& head, const HostPolicy& hosts = {}) {
  return CheckHead(head, kBody, hosts);
}

TEST(RequestGuardTest, AcceptsPlainRequestsAndBoundedBodies) {
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n").status, 0);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").status, 0);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").status, 0);
  HeadCheck post = Check("POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n");
  EXPECT_EQ(post.status, 0) << post.message;
  EXPECT_EQ(post.content_length, 10u);
  EXPECT_EQ(HeadLength("GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY"), 27u);
  EXPECT_EQ(HeadLength("GET / HTTP/1.1\r\nHost: a\r\n"), 0u);
}

TEST(RequestGuardTest, RefusesChunkedEncodedAndUnsizedBodies) {
  const std::string start = "POST /login HTTP/1.1\r\nHost: localhost\r\n";
  EXPECT_EQ(Check(start + "Transfer-Encoding: chunked\r\n\r\n").status, 411);
  EXPECT_EQ(Check(start + "transfer-encoding: gzip, chunked\r\n\r\n").status, 411);
  EXPECT_EQ(Check(start + "Content-Length: 5\r\nContent-Encoding: gzip\r\n\r\n").status, 415);
  EXPECT_EQ(Check(start + "\r\n").status, 411);
  EXPECT_EQ(Check(start + "Content-Length: 16385\r\n\r\n").status, 413);
  EXPECT_EQ(Check(start + "Content-Length: 99999999999999999999999\r\n\r\n").status, 400);
  EXPECT_EQ(Check(start + "Content-Length: 1\r\nContent-Length: 1\r\n\r\n").status, 400);
  EXPECT_EQ(Check(start + "Content-Length: %31\r\n\r\n").status, 400);
  EXPECT_EQ(Check(start + "Content-Length: -1\r\n\r\n").status, 400);
}

TEST(RequestGuardTest, RefusesAmbiguousHeads) {
  EXPECT_EQ(Check("GET / HTTP/1.1\nHost: localhost\r\n\r\n").status, 400);  // bare LF
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: localhost\r\r\n\r\n").status, 400);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: localhost\r\n folded\r\n\r\n").status, 400);
  EXPECT_EQ(
      Check("GET / HTTP/1.1\r\nTransfer-Encoding : chunked\r\nHost: localhost\r\n\r\n").status,
      400);
  EXPECT_EQ(Check(std::string("GET / HTTP/1.1\r\nHost: local\0host\r\n\r\n", 38)).status, 400);
  EXPECT_EQ(Check("GARBAGE\r\nHost: localhost\r\n\r\n").status, 400);
}

TEST(RequestGuardTest, HostMustBeThisServers) {
  HostPolicy policy{{"dash.example.org", "unas-box"}};
  EXPECT_EQ(Check("GET / HTTP/1.1\r\n\r\n", policy).status, 400);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n", policy).status, 421);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: localhost.evil.example\r\n\r\n", policy).status, 421);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: a\r\nHost: localhost\r\n\r\n", policy).status, 400);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: DASH.example.org.:8443\r\n\r\n", policy).status, 0);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: unas-box\r\n\r\n", policy).status, 0);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: app.localhost\r\n\r\n", policy).status, 0);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: 10.1.2.3:80\r\n\r\n", policy).status, 0);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: anything\r\n\r\n", HostPolicy{{"*"}}).status, 0);
}

class HttpGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    coordinator_ = MakeCoordinator(TempDbPath(TestName()), nullptr);
    ASSERT_NE(coordinator_, nullptr);
  }

  void Start(DashboardOptions options = {}) {
    options.listen = "127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<DashboardServer>> server =
        DashboardServer::Start(coordinator_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    port_ = server_->port();
  }

  std::string Get(const std::string& path, const std::string& host = "127.0.0.1") {
    return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: ", host, "\r\nConnection: close\r\n\r\n");
  }

  std::unique_ptr<coordinator::Coordinator> coordinator_;
  std::unique_ptr<DashboardServer> server_;
  int port_ = 0;
};

TEST_F(HttpGuardTest, AHundredMegabyteChunkedBodyIsNeverRead) {
  Start();
  // The peak, not the memory afterwards: cpp-httplib alone reads the body
  // into memory and frees it again once the handler ran (its peak grows by
  // about 131 MiB on the same 100 MB, measured with the old setup).
  ASSERT_TRUE(ResetPeakRss());
  const int64_t before = RssKib();
  ASSERT_GT(before, 0);
  RawConnection c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.Send("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
             "application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"));
  // 100 chunks of 1 MiB; the server refuses after the head and closes, so
  // sending stops early with a reset (or, were it reading, goes through).
  const std::string chunk = absl::StrCat("100000\r\n", std::string(1 << 20, 't'), "\r\n");
  size_t sent = 0;
  for (int i = 0; i < 100 && c.Send(chunk); ++i) sent += chunk.size();
  c.Send("0\r\n\r\n");
  const std::string answer = c.ReadAll(absl::Seconds(10));
  const int64_t peak = PeakRssKib();
  std::cout << "chunked: sent " << sent << " bytes before the server closed; RSS " << before
            << " KiB before, peak " << peak
            << " KiB; answer: " << answer.substr(0, answer.find('\r')) << "\n";
  EXPECT_LT(sent, size_t{16} << 20);
  EXPECT_LT(peak - before, 16 * 1024) << "the chunked body was read into memory";
  // And the server still answers.
  EXPECT_EQ(StatusFor(port_, Get("/api/jobs")), 200);
}

TEST_F(HttpGuardTest, BodiesAreRefusedBeforeTheyAreRead) {
  Start();
  const std::string head = "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  // No Content-Length: refused; the server does not wait for an end of stream.
  {
    RawConnection c(port_);
    ASSERT_TRUE(c.Send(head + "\r\ntoken=abc"));
    EXPECT_EQ(StatusOf(c.ReadAll(absl::Seconds(10))), 411);
  }
  EXPECT_EQ(StatusFor(port_, head + "Content-Length: 7\r\nContent-Encoding: gzip\r\n\r\n1234567"),
            415);
  // An announced body over the limit is refused without sending it.
  {
    RawConnection c(port_);
    ASSERT_TRUE(c.Send(head + "Content-Length: 1073741824\r\n\r\n"));
    EXPECT_EQ(StatusOf(c.ReadAll(absl::Seconds(10))), 413);
  }
  // Every POST is bounded, not only the login's.
  EXPECT_EQ(StatusFor(port_,
                      "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            411);
  // A sized login form still works (without a token it just redirects).
  EXPECT_EQ(StatusFor(port_, head + "Content-Type: application/x-www-form-urlencoded\r\n"
                                    "Content-Length: 9\r\nConnection: close\r\n\r\ntoken=abc"),
            303);
}

TEST_F(HttpGuardTest, EndlessHeadsAndRequestLinesAreCut) {
  Start();
  ASSERT_TRUE(ResetPeakRss());
  const int64_t before = RssKib();
  {
    // A request line that never ends.
    RawConnection c(port_);
    ASSERT_TRUE(c.Send("GET /"));
    // 1 MiB: far over the 16 KiB limit, and few enough that the server
    // drains it all and closes cleanly (more would end in a reset).
    ASSERT_TRUE(c.Send(std::string(1 << 20, 'a')));
    EXPECT_EQ(StatusOf(c.ReadAll(absl::Seconds(10))), 431);
  }
  {
    // Header lines without end.
    RawConnection c(port_);
    ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    std::string lines;
    for (int i = 0; i < 50000; ++i) absl::StrAppend(&lines, "X-Filler-", i, ": y\r\n");
    ASSERT_TRUE(c.Send(lines));
    EXPECT_EQ(StatusOf(c.ReadAll(absl::Seconds(10))), 431);
  }
  EXPECT_LT(PeakRssKib() - before, 16 * 1024);
  EXPECT_EQ(StatusFor(port_, Get("/api/jobs")), 200);
}

TEST_F(HttpGuardTest, ForeignHostsAreRefused) {
  DashboardOptions options;
  options.allowed_hosts = {"dash.example.org"};
  Start(options);
  EXPECT_EQ(StatusFor(port_, Get("/api/jobs", "attacker.example")), 421);
  EXPECT_EQ(StatusFor(port_, Get("/api/jobs", absl::StrCat("attacker.example:", port_))), 421);
  EXPECT_EQ(StatusFor(port_, "GET /api/jobs HTTP/1.0\r\n\r\n"), 400);
  EXPECT_EQ(StatusFor(port_, Get("/api/jobs", absl::StrCat("localhost:", port_))), 200);
  EXPECT_EQ(StatusFor(port_, Get("/api/jobs", absl::StrCat("127.0.0.1:", port_))), 200);
  EXPECT_EQ(StatusFor(port_, Get("/api/jobs", "dash.example.org")), 200);
}

TEST_F(HttpGuardTest, SlowLorisIsDroppedAndExtraConnectionsShed) {
  DashboardOptions options;
  options.max_connections = 2;  // 2 served, 2 waiting, the rest shed
  options.limits.head_timeout = absl::Seconds(2);
  Start(options);
  // Slow clients send part of a head: two hold the two threads, two more
  // wait for one; the next is refused at once (503), not left waiting.
  std::vector<std::unique_ptr<RawConnection>> slow;
  int shed_at = -1;
  for (int i = 0; i < 10 && shed_at < 0; ++i) {
    auto c = std::make_unique<RawConnection>(port_);
    ASSERT_TRUE(c->connected());
    c->Send("GET / HTTP/1.1\r\nHo");
    const absl::Time start = absl::Now();
    const std::string answer = c->ReadAll(absl::Milliseconds(300));
    if (!answer.empty()) {
      EXPECT_EQ(StatusOf(answer), 503) << answer;
      EXPECT_LT(absl::Now() - start, absl::Seconds(1));
      shed_at = i;
    } else {
      slow.push_back(std::move(c));
    }
  }
  EXPECT_GE(shed_at, 2);
  EXPECT_LE(shed_at, 4);
  // Dripping a byte now and then does not keep a connection: the whole head
  // is due within head_timeout.
  for (int i = 0; i < 3; ++i) {
    for (auto& c : slow) c->Send("s");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  for (auto& c : slow) EXPECT_TRUE(c->ClosedWithin(absl::Seconds(10)));
  EXPECT_EQ(StatusFor(port_, Get("/api/jobs")), 200);
}

TEST_F(HttpGuardTest, KeepAliveServesRequestsInTurn) {
  Start();
  RawConnection c(port_);
  ASSERT_TRUE(c.Send(
      absl::StrCat("GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc",
                   "GET /api/workers HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", Get("/api/jobs"))));
  const std::string all = c.ReadAll(absl::Seconds(10));
  int ok = 0;
  for (size_t at = all.find("HTTP/1.1 200"); at != std::string::npos;
       at = all.find("HTTP/1.1 200", at + 1)) {
    ++ok;
  }
  EXPECT_EQ(ok, 3) << all;
}

TEST_F(HttpGuardTest, RandomBytesGetAnErrorAndNothingElse) {
  DashboardOptions options;
  options.limits.head_timeout = absl::Seconds(1);
  Start(options);
  std::mt19937 random(7);
  for (int i = 0; i < 8; ++i) {
    std::string bytes(4096, '\0');
    for (char& b : bytes) b = static_cast<char>(random());
    RawConnection c(port_);
    c.Send(bytes);
    const std::string answer = c.ReadAll(absl::Seconds(15));
    EXPECT_TRUE(answer.empty() || StatusOf(answer) >= 400) << answer.substr(0, 40);
  }
  EXPECT_EQ(StatusFor(port_, Get("/api/jobs")), 200);
}

// Over TLS the same checks run (the dashboard serves TLS itself, on the
// SSL_CTX of cpp-httplib's SSLServer): a chunked body is refused after the
// head, and an honest request is answered.
TEST_F(HttpGuardTest, TlsConnectionsAreCheckedToo) {
  const std::string certs = unas::testing::MakeTestDir("http-guard-tls");
  unas::testing::CommandResult made = unas::testing::RunCommand(
      {"/bin/bash", std::string(UNAS_SOURCE_DIR) + "/deploy/tls/make-certs", certs, "localhost"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  DashboardOptions options;
  options.tls_cert_file = certs + "/server.pem";
  options.tls_key_file = certs + "/server-key.pem";
  Start(options);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_NE(ctx, nullptr);
  // One request over a fresh TLS connection: what the server answers.
  auto exchange = [&](const std::string& head, const std::string& body_chunk, int chunks) {
    RawConnection c(port_);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, c.fd());
    std::string answer;
    if (SSL_connect(ssl) == 1 && SSL_write(ssl, head.data(), static_cast<int>(head.size())) > 0) {
      for (int i = 0; i < chunks; ++i) {
        if (SSL_write(ssl, body_chunk.data(), static_cast<int>(body_chunk.size())) <= 0) break;
      }
      char buffer[4096];
      for (int n; (n = SSL_read(ssl, buffer, sizeof buffer)) > 0;) answer.append(buffer, n);
    }
    SSL_free(ssl);
    return answer;
  };
  ASSERT_TRUE(ResetPeakRss());
  const int64_t before = RssKib();
  const std::string chunk = absl::StrCat("100000\r\n", std::string(1 << 20, 't'), "\r\n");
  const std::string refused = exchange(
      "POST /login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n", chunk, 2);
  EXPECT_EQ(StatusOf(refused), 411) << refused.substr(0, 80);
  EXPECT_LT(PeakRssKib() - before, 16 * 1024);
  EXPECT_EQ(StatusOf(exchange(Get("/api/jobs", "localhost"), "", 0)), 200);
  EXPECT_EQ(StatusOf(exchange(Get("/api/jobs", "attacker.example"), "", 0)), 421);
  SSL_CTX_free(ctx);
}

TEST_F(HttpGuardTest, TheHistoryCacheStaysWithinItsBound) {
  TestWorker worker = Register(*coordinator_, "cache-worker");
  std::vector<int64_t> jobs;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<v1::Job> job = coordinator_->SubmitJob(SmallSpec(20, /*seed=*/i + 1));
    ASSERT_TRUE(job.ok()) << job.status();
    jobs.push_back(job->job_id());
  }
  DrainSynthetic(*coordinator_, worker);
  // Room for about one job's history.
  HistoryCache probe(coordinator_.get());
  absl::StatusOr<v1::Job> one = coordinator_->GetJob(jobs[0]);
  ASSERT_TRUE(one.ok());
  absl::StatusOr<std::shared_ptr<const JobSnapshot>> snapshot = probe.Get(*one);
  ASSERT_TRUE(snapshot.ok());
  const size_t bound = (*snapshot)->bytes * 3 / 2;
  HistoryCache cache(coordinator_.get(), bound);
  for (int64_t id : jobs) {
    absl::StatusOr<v1::Job> job = coordinator_->GetJob(id);
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE(cache.Get(*job).ok());
    EXPECT_LE(cache.bytes(), bound);
  }
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_GT(cache.bytes(), 0u);
  // A snapshot larger than the whole bound is served, not kept.
  HistoryCache tiny(coordinator_.get(), 1);
  absl::StatusOr<std::shared_ptr<const JobSnapshot>> served = tiny.Get(*one);
  ASSERT_TRUE(served.ok());
  EXPECT_EQ((*served)->history.size(), 20u);
  EXPECT_EQ(tiny.bytes(), 0u);
}

}  // namespace
}  // namespace unas::dashboard
