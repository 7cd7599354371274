// The live dashboard of a real unas-coordinator (--http) with a real job run
// by synthetic workers in this process: headless Chromium loads every page,
// the rendered DOM must show the numbers the JSON endpoints give and the
// plots, and a screenshot of each page stays in the output folder
// (build/tests/dashboard_output/TEST/). Then: the job page follows a running
// job by itself (no reload), and with a client token nothing but the login
// form is served. The browser checks skip, with a message, where no Chromium
// is installed (scripts/install-deps installs Debian's).
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/channel.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "report/format.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"
#include "tests/coordinator/synthetic_worker.h"
#include "tests/dashboard/headless_chromium.h"
#include "worker/daemon/synthetic_evaluator.h"
#include "worker/daemon/worker_loop.h"

namespace unas::dashboard {
namespace {

using coordinator::testing::CoordinatorProcess;
using coordinator::testing::SmallSpec;
using coordinator::testing::Submit;
using coordinator::testing::SyntheticWorker;
using coordinator::testing::TestName;
using coordinator::testing::WaitForJobEnd;
using ::testing::HasSubstr;
using ::testing::Not;

google::protobuf::Struct ParseJson(const std::string& text) {
  google::protobuf::Struct out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &out).ok()) << text;
  return out;
}

const google::protobuf::Value& Field(const google::protobuf::Struct& s, const std::string& name) {
  static const google::protobuf::Value* kNull = new google::protobuf::Value;
  auto it = s.fields().find(name);
  return it == s.fields().end() ? *kNull : it->second;
}

// A JSON number as the page writes it into data-value (shortest round trip).
std::string NumberText(const google::protobuf::Value& v) {
  return report::ShortestDouble(v.number_value());
}

int CountOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = unas::testing::MakeTestDir(absl::StrCat("dashboard-", TestName()));
    output_ = std::filesystem::path(UNAS_DASHBOARD_OUTPUT_DIR) / TestName();
    std::filesystem::remove_all(output_);
    std::filesystem::create_directories(output_);
    chromium_ = testing::FindChromium();
  }

  // unas-coordinator with the dashboard on a free port; `extra` flags added.
  void StartCoordinator(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags = {
        "--http",      "127.0.0.1:0", "--http-port-file",     dir_ + "/http-port",
        "--log-level", "debug",       "--heartbeat-interval", "1"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    coordinator_ = std::make_unique<CoordinatorProcess>(dir_, dir_ + "/search.db", 0, flags);
    std::optional<int> port = unas::WaitForPortFile(dir_ + "/http-port", absl::Seconds(20));
    ASSERT_TRUE(port.has_value()) << coordinator_->process().ReadLog();
    http_port_ = *port;
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", http_port_, path);
  }

  // GET through cpp-httplib; `token` as a bearer header when not empty.
  httplib::Result Get(const std::string& path, const std::string& token = "") {
    httplib::Client client("127.0.0.1", http_port_);
    client.set_read_timeout(60, 0);
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client.Get(path.c_str(), headers);
  }

  google::protobuf::Struct GetJson(const std::string& path) {
    httplib::Result r = Get(path);
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
    return ParseJson(r->body);
  }

  // Loads `path` in the browser: a screenshot into the output folder, then
  // the DOM, which is returned. The page must log nothing to its console.
  std::string Render(const std::string& path, const std::string& name, int virtual_ms = 4000) {
    const std::filesystem::path png = output_ / (name + ".png");
    {
      testing::BrowserRun shot(*chromium_, output_ / (name + "-shot"),
                               "--screenshot=" + png.string(), Url(path), virtual_ms);
      EXPECT_EQ(shot.Wait(absl::Seconds(150)), std::optional<int>(0)) << shot.Log();
    }
    EXPECT_TRUE(std::filesystem::exists(png)) << png;
    if (std::filesystem::exists(png)) {
      EXPECT_GT(std::filesystem::file_size(png), 10000u) << png;
    }
    std::cout << "screenshot: " << png.string() << "\n";
    testing::BrowserRun dom(*chromium_, output_ / (name + "-dom"), "--dump-dom", Url(path),
                            virtual_ms);
    EXPECT_EQ(dom.Wait(absl::Seconds(150)), std::optional<int>(0)) << dom.Log();
    EXPECT_THAT(dom.ConsoleLines(), ::testing::IsEmpty()) << dom.Log();
    const std::string html = dom.Stdout();
    std::ofstream(output_ / (name + ".html")) << html;
    return html;
  }

  std::string dir_;
  std::filesystem::path output_;
  std::optional<std::string> chromium_;
  std::unique_ptr<CoordinatorProcess> coordinator_;
  int http_port_ = 0;
};

TEST_F(DashboardTest, EveryPageShowsTheJobsNumbersAndPlots) {
  if (!chromium_) GTEST_SKIP() << "chromium is not installed (scripts/install-deps installs it)";
  StartCoordinator();
  v1::JobSpec spec = SmallSpec(12, /*seed=*/3);
  spec.set_name("dashboard_job");
  // Bounds some of the 12 candidates meet and some do not.
  spec.mutable_bounds()->set_peak_memory_bytes(40000);
  spec.mutable_bounds()->set_model_size_bytes(40000);
  const int64_t job_id = Submit(*coordinator_, spec);
  {
    SyntheticWorker worker(coordinator_->address(), "dash-worker-1", absl::Milliseconds(20));
    ASSERT_EQ(WaitForJobEnd(*coordinator_, job_id, absl::Seconds(120)).state(),
              v1::JOB_STATE_SUCCEEDED);
  }
  const std::string job_path = absl::StrCat("/jobs/", job_id);

  // The numbers, as the JSON endpoints give them.
  const google::protobuf::Struct job = GetJson(absl::StrCat("/api", job_path));
  const google::protobuf::Struct& summary = Field(job, "summary").struct_value();
  ASSERT_EQ(Field(summary, "evaluations_done").number_value(), 12);
  ASSERT_EQ(Field(summary, "state").string_value(), "SUCCEEDED");
  ASSERT_TRUE(Field(summary, "best_candidate_id").has_number_value())
      << "the synthetic job found no feasible candidate: "
      << Get(absl::StrCat("/api/jobs/", job_id, "/history"))->body;
  const int64_t best_id = static_cast<int64_t>(Field(summary, "best_candidate_id").number_value());
  const std::string best_error = NumberText(Field(summary, "best_feasible_test_error"));
  const std::string pace = NumberText(Field(summary, "evaluations_per_hour"));

  // Jobs.
  const std::string jobs = Render("/", "jobs");
  EXPECT_THAT(jobs, HasSubstr(absl::StrCat("href=\"", job_path, "\"")));
  EXPECT_THAT(jobs, HasSubstr("dashboard_job"));
  EXPECT_THAT(jobs, HasSubstr("<span class=\"evaluations-done\">12</span>"));
  EXPECT_THAT(jobs, HasSubstr(absl::StrCat("class=\"best-error\" data-value=\"", best_error)));
  EXPECT_THAT(jobs, HasSubstr(absl::StrCat("class=\"evals-per-hour\" data-value=\"", pace)));
  EXPECT_THAT(jobs, HasSubstr("SUCCEEDED"));

  // One job: the numbers, the four plots (the report's), the tables.
  const std::string page = Render(job_path, "job");
  EXPECT_THAT(page, HasSubstr("id=\"evaluations-done\" data-value=\"12\""));
  EXPECT_THAT(page, HasSubstr(absl::StrCat("id=\"best-test-error\" data-value=\"", best_error)));
  EXPECT_THAT(page, HasSubstr(absl::StrCat("id=\"pareto-size\" data-value=\"",
                                           NumberText(Field(summary, "pareto_size")), "\"")));
  for (const char* id : {"plot-progress", "plot-pmu", "plot-size", "plot-macs"}) {
    EXPECT_THAT(page, HasSubstr(absl::StrCat("<svg id=\"", id, "\""))) << id;
  }
  EXPECT_GE(CountOf(page, "class=\"pt pt-pareto\""), 3) << "Pareto points in the 3 scatter plots";
  EXPECT_THAT(page, HasSubstr("class=\"bound-line\""));
  EXPECT_EQ(CountOf(page, "<tr class=\"history-row"), 12);
  EXPECT_THAT(page, HasSubstr("id=\"population-table\""));
  EXPECT_THAT(page, HasSubstr(absl::StrCat("href=\"", job_path, "/candidates/", best_id, "\"")));

  // The history filtered (feasible only) and sorted (test error, highest
  // first) through the address: the rows the JSON history gives, in that order.
  const google::protobuf::Struct history = GetJson(absl::StrCat("/api", job_path, "/history"));
  std::vector<std::pair<double, int64_t>> feasible;  // (test error, id), evaluation order
  for (const google::protobuf::Value& row : Field(history, "candidates").list_value().values()) {
    const google::protobuf::Struct& r = row.struct_value();
    if (!Field(r, "feasible").bool_value()) continue;
    feasible.push_back({Field(r, "test_error").number_value(),
                        static_cast<int64_t>(Field(r, "candidate_id").number_value())});
  }
  std::stable_sort(feasible.begin(), feasible.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  const std::string filtered = Render(job_path + "?feasible=1&sort=-test_error", "job-filtered");
  std::vector<int64_t> shown;
  const std::string link = absl::StrCat("href=\"", job_path, "/candidates/");
  for (size_t at = filtered.find("<tr class=\"history-row"); at != std::string::npos;
       at = filtered.find("<tr class=\"history-row", at + 1)) {
    const size_t id_at = filtered.find(link, at) + link.size();
    shown.push_back(std::stoll(filtered.substr(id_at, 12)));
  }
  std::vector<int64_t> expected;
  for (const auto& [error, id] : feasible) expected.push_back(id);
  EXPECT_EQ(shown, expected);
  EXPECT_THAT(filtered, HasSubstr(absl::StrCat(expected.size(), " of 12 shown")));

  // One candidate: its errors, resources, epochs, lineage and network.
  const google::protobuf::Struct candidate =
      GetJson(absl::StrCat("/api", job_path, "/candidates/", best_id));
  const google::protobuf::Struct& c = Field(candidate, "candidate").struct_value();
  const google::protobuf::Struct& evaluation = Field(c, "evaluation").struct_value();
  const google::protobuf::Struct& metrics = Field(c, "metrics").struct_value();
  const std::string cand = Render(absl::StrCat(job_path, "/candidates/", best_id), "candidate");
  EXPECT_THAT(cand, HasSubstr(absl::StrCat("id=\"test-error\" data-value=\"",
                                           NumberText(Field(evaluation, "test_error")), "\"")));
  EXPECT_THAT(cand,
              HasSubstr(absl::StrCat("id=\"val-error\" data-value=\"",
                                     NumberText(Field(evaluation, "validation_error")), "\"")));
  // int64 fields are strings in proto3 JSON.
  EXPECT_THAT(cand,
              HasSubstr(absl::StrCat("id=\"pmu\" data-value=\"",
                                     Field(metrics, "peak_memory_bytes").string_value(), "\"")));
  EXPECT_THAT(cand, HasSubstr(absl::StrCat("id=\"macs\" data-value=\"",
                                           Field(metrics, "macs").string_value(), "\"")));
  // Measured by workers that quantise (synthetic ones do not).
  if (evaluation.fields().contains("cortex_m4_instructions")) {
    EXPECT_THAT(cand, HasSubstr(absl::StrCat(
                          "id=\"cortex-m4\" data-value=\"",
                          Field(evaluation, "cortex_m4_instructions").string_value(), "\"")));
  } else {
    EXPECT_THAT(cand, HasSubstr("Cortex-M4 latency</dt><dd><span class=\"muted\">not measured"));
  }
  EXPECT_THAT(cand, HasSubstr("<svg id=\"plot-epochs\""));
  // A point per recorded epoch and the line through them (the synthetic
  // evaluator may record none: then the plot says so).
  const int epochs = Field(evaluation, "epochs").list_value().values_size();
  if (epochs > 0) {
    EXPECT_EQ(CountOf(cand, "class=\"epoch-validation\""), epochs + 1);
  } else {
    EXPECT_THAT(cand, HasSubstr("No epochs recorded"));
  }
  EXPECT_THAT(cand, HasSubstr("<svg id=\"network\""));
  EXPECT_GE(CountOf(cand, "<g class=\"node op-"), 3);
  EXPECT_THAT(cand, HasSubstr("op-Dense output"));
  EXPECT_GE(static_cast<int>(Field(candidate, "lineage").list_value().values_size()), 1);
  EXPECT_THAT(cand, HasSubstr("id=\"lineage\""));

  // Workers.
  const google::protobuf::Struct workers = GetJson("/api/workers");
  ASSERT_EQ(Field(workers, "workers").list_value().values_size(), 1);
  const std::string w = Render("/workers", "workers");
  EXPECT_THAT(w, HasSubstr("dash-worker-1"));
  EXPECT_THAT(w, HasSubstr("synthetic"));
  EXPECT_THAT(w, HasSubstr("<td class=\"num done\">12</td>"));
  EXPECT_THAT(w, HasSubstr("<td class=\"num last_hour\">12</td>"));
}

TEST_F(DashboardTest, JobPageFollowsARunningJobWithoutReloading) {
  if (!chromium_) GTEST_SKIP() << "chromium is not installed (scripts/install-deps installs it)";
  StartCoordinator();
  const int64_t job_id = Submit(*coordinator_, SmallSpec(8, /*seed=*/7));
  // The page opens on a job nobody works on yet: 0 evaluations.
  testing::BrowserRun browser(*chromium_, output_ / "follow", "--dump-dom",
                              Url(absl::StrCat("/jobs/", job_id)), /*virtual_ms=*/15000);
  // Once the page waits for the job to change, a worker starts on it.
  ASSERT_TRUE(unas::testing::WaitForLogLine(
      coordinator_->process(),
      absl::StrCat("dashboard: waiting for job ", job_id, " to change from 0-"), absl::Seconds(60)))
      << browser.Log();
  {
    SyntheticWorker worker(coordinator_->address(), "dash-worker-2", absl::Milliseconds(100));
    ASSERT_EQ(WaitForJobEnd(*coordinator_, job_id, absl::Seconds(120)).state(),
              v1::JOB_STATE_SUCCEEDED);
  }
  // The same page load (no reload) ends showing the finished job.
  ASSERT_EQ(browser.Wait(absl::Seconds(150)), std::optional<int>(0)) << browser.Log();
  const std::string dom = browser.Stdout();
  std::ofstream(output_ / "follow.html") << dom;
  EXPECT_THAT(dom, HasSubstr("data-first-done=\"0\""));
  EXPECT_THAT(dom, HasSubstr("id=\"evaluations-done\" data-value=\"8\""));
  EXPECT_THAT(dom, HasSubstr(">SUCCEEDED<"));
  EXPECT_EQ(CountOf(dom, "<tr class=\"history-row"), 8);
  // It redrew at least twice: the empty job, then after results.
  const size_t at = dom.find("data-updates=\"");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoi(dom.substr(at + 14)), 2);
}

TEST_F(DashboardTest, WithoutTheTokenOnlyTheLoginIsServed) {
  const std::string token_file = dir_ + "/client.token";
  const std::string token = "dashboard-test-token-0123456789";
  std::ofstream(token_file) << token << "\n";
  chmod(token_file.c_str(), 0600);
  StartCoordinator({"--client-token-file", token_file});
  // A finished job, so that every path below names something that exists.
  rpc::ChannelSecurity security;
  security.token_file = token_file;
  auto channel = rpc::MakeChannel(coordinator_->address(), security);
  ASSERT_TRUE(channel.ok()) << channel.status();
  v1::JobSpec spec = SmallSpec(3, /*seed=*/2);
  spec.set_name("secret_job_name");
  int64_t job_id = 0;
  {
    auto stub = v1::JobService::NewStub(*channel);
    grpc::ClientContext context;
    v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    v1::Job job;
    ASSERT_TRUE(stub->SubmitJob(&context, request, &job).ok());
    job_id = job.job_id();
  }
  {
    SyntheticWorker worker(coordinator_->address(), "token-worker", absl::ZeroDuration());
    for (absl::Time deadline = absl::Now() + absl::Seconds(60); absl::Now() < deadline;) {
      httplib::Result r = Get(absl::StrCat("/api/jobs/", job_id), token);
      if (r && r->status == 200 && absl::StrContains(r->body, "\"state\": \"SUCCEEDED\"")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  const std::string j = absl::StrCat("/jobs/", job_id);
  const std::vector<std::string> pages = {"/", j, j + "/candidates/1", "/workers"};
  const std::vector<std::string> api = {"/api/jobs",
                                        "/api" + j,
                                        "/api" + j + "/history",
                                        "/api" + j + "/population",
                                        "/api" + j + "/plots/pmu.svg",
                                        "/api" + j + "/plots/progress.svg",
                                        "/api" + j + "/candidates/1",
                                        "/api" + j + "/candidates/1/epochs.svg",
                                        "/api" + j + "/candidates/1/network.svg",
                                        "/api" + j + "/candidates/1/network.dot",
                                        "/api/workers",
                                        "/static/dashboard.js"};
  for (const std::string& token_sent : {std::string(), std::string("wrong-token")}) {
    for (const std::string& path : pages) {
      httplib::Result r = Get(path, token_sent);
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 401) << path;
      EXPECT_THAT(r->body, HasSubstr("<form id=\"login\"")) << path;
      EXPECT_THAT(r->body, Not(HasSubstr("secret_job_name"))) << path;
    }
    for (const std::string& path : api) {
      httplib::Result r = Get(path, token_sent);
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 401) << path;
      EXPECT_THAT(r->body, Not(HasSubstr("secret_job_name"))) << path;
      EXPECT_THAT(r->body, Not(HasSubstr("<svg"))) << path;
    }
  }
  // The token as a bearer header opens everything.
  for (const std::string& path : pages) {
    httplib::Result r = Get(path, token);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
  }
  for (const std::string& path : api) {
    httplib::Result r = Get(path, token);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
  }
  EXPECT_THAT(Get("/api/jobs", token)->body, HasSubstr("secret_job_name"));

  // The login form: a wrong token is refused; the right one sets a cookie
  // that then opens the pages.
  httplib::Client client("127.0.0.1", http_port_);
  httplib::Result wrong = client.Post("/login", "token=nope", "application/x-www-form-urlencoded");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_FALSE(wrong->has_header("Set-Cookie"));
  httplib::Result right =
      client.Post("/login", absl::StrCat("token=", token), "application/x-www-form-urlencoded");
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 303);
  const std::string cookie = right->get_header_value("Set-Cookie");
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, Not(HasSubstr(token)));
  const std::string session = cookie.substr(0, cookie.find(';'));
  httplib::Result with_cookie = client.Get("/api/jobs", {{"Cookie", session}});
  ASSERT_TRUE(with_cookie);
  EXPECT_EQ(with_cookie->status, 200);
  EXPECT_THAT(with_cookie->body, HasSubstr("secret_job_name"));

  // A body larger than any login form is refused before it is read.
  httplib::Result huge =
      client.Post("/login", std::string(1 << 20, 'x'), "application/x-www-form-urlencoded");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);

  // Read-only: nothing but the login accepts a POST, even with the token.
  httplib::Result post =
      client.Post("/api/jobs", {{"Authorization", "Bearer " + token}}, "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_NE(post->status, 200);

  // And in a browser, without the token, the page is the login form.
  if (chromium_) {
    const std::string dom = Render("/", "login");
    EXPECT_THAT(dom, HasSubstr("<form id=\"login\""));
    EXPECT_THAT(dom, Not(HasSubstr("secret_job_name")));
    EXPECT_THAT(dom, Not(HasSubstr("jobs-table")));
  }
}

TEST_F(DashboardTest, TlsUsesTheGrpcCertificateAndToken) {
  const std::string certs = dir_ + "/certs";
  unas::testing::CommandResult made = unas::testing::RunCommand(
      {"/bin/bash", std::string(UNAS_SOURCE_DIR) + "/deploy/tls/make-certs", certs, "localhost"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  StartCoordinator({"--tls-cert", certs + "/server.pem", "--tls-key", certs + "/server-key.pem",
                    "--worker-token-file", certs + "/worker.token", "--client-token-file",
                    certs + "/client.token"});
  std::ifstream token_in(certs + "/client.token");
  std::string token;
  token_in >> token;
  std::ifstream worker_in(certs + "/worker.token");
  std::string worker_token;
  worker_in >> worker_token;

  httplib::SSLClient tls("localhost", http_port_);
  tls.set_ca_cert_path((certs + "/ca.pem").c_str());
  tls.enable_server_certificate_verification(true);
  httplib::Result ok = tls.Get("/api/jobs", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200) << ok->body;
  // The worker token is not the client token.
  httplib::Result worker = tls.Get("/api/jobs", {{"Authorization", "Bearer " + worker_token}});
  ASSERT_TRUE(worker);
  EXPECT_EQ(worker->status, 401);
  // No plaintext: an HTTP request to the HTTPS port gets no page.
  httplib::Result plain = Get("/api/jobs", token);
  EXPECT_TRUE(!plain || plain->status != 200);
}

TEST_F(DashboardTest, BeyondLoopbackItNeedsTlsAndTheToken) {
  unas::testing::CommandResult refused = unas::testing::RunCommand(
      {unas::testing::BinaryPath("unas-coordinator"), "--db", dir_ + "/refused.db", "--listen",
       "127.0.0.1:0", "--http", "0.0.0.0:0"},
      absl::Seconds(30));
  EXPECT_EQ(refused.exit_code, 2) << refused.err << refused.out;
  EXPECT_THAT(refused.out + refused.err, HasSubstr("--client-token-file"));
}

}  // namespace
}  // namespace unas::dashboard
