// The dashboard's data layer over an in-process coordinator with a fake
// clock: the pace and ETA from the finish times, the long poll, the errors
// of unknown jobs, candidates and plots, the pictures, and the token checks
// of DashboardAuth. No HTTP, no browser (dashboard_test.cc has those). Also
// prints how long the endpoints take on a 400-evaluation job.
#include "coordinator/http/dashboard_data.h"

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "coordinator/http/dashboard_auth.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::dashboard {
namespace {

using ::testing::HasSubstr;
using namespace ::unas::coordinator::testing;  // NOLINT

google::protobuf::Struct ParseJson(const absl::StatusOr<std::string>& text) {
  EXPECT_TRUE(text.ok()) << text.status();
  google::protobuf::Struct out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text.value_or("{}"), &out).ok())
      << text.value_or("");
  return out;
}

const google::protobuf::Value& Field(const google::protobuf::Struct& s, const std::string& name) {
  static const google::protobuf::Value* kNull = new google::protobuf::Value;
  auto it = s.fields().find(name);
  return it == s.fields().end() ? *kNull : it->second;
}

// Completes the next task with three epochs of records.
bool EvaluateOne(coordinator::Coordinator& c, const coordinator::testing::TestWorker& worker) {
  std::optional<v1::Task> task = Acquire(c, worker);
  if (!task) return false;
  v1::EvaluationResult result = SyntheticResult(*task);
  for (int e = 1; e <= 3; ++e) {
    v1::EpochRecord* record = result.add_epochs();
    record->set_epoch(e);
    record->set_train_accuracy(0.5 + 0.1 * e);
    record->set_validation_accuracy(0.45 + 0.1 * e);
  }
  EXPECT_TRUE(Complete(c, worker, *task, result).ok());
  return true;
}

class DashboardDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    coordinator_ = MakeCoordinator(TempDbPath(TestName()), &clock_);
    ASSERT_NE(coordinator_, nullptr);
    data_ = std::make_unique<DashboardData>(coordinator_.get());
    worker_ = Register(*coordinator_, "data-test-worker");
  }

  FakeClock clock_;
  std::unique_ptr<coordinator::Coordinator> coordinator_;
  std::unique_ptr<DashboardData> data_;
  coordinator::testing::TestWorker worker_;
};

TEST_F(DashboardDataTest, PaceAndEtaFollowTheFinishTimes) {
  absl::StatusOr<v1::Job> job = coordinator_->SubmitJob(SmallSpec(30, /*seed=*/4));
  ASSERT_TRUE(job.ok()) << job.status();
  google::protobuf::Struct one = ParseJson(data_->JobsJson());
  const google::protobuf::Struct& empty =
      Field(Field(one, "jobs").list_value().values(0).struct_value(), "summary").struct_value();
  EXPECT_TRUE(Field(empty, "evaluations_per_hour").has_null_value());
  EXPECT_TRUE(Field(empty, "eta_seconds").has_null_value());
  // One result every 10 s: 360 an hour; 20 left take 200 s.
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(10'000);
    ASSERT_TRUE(EvaluateOne(*coordinator_, worker_));
  }
  google::protobuf::Struct jobs = ParseJson(data_->JobsJson());
  const google::protobuf::Struct& summary =
      Field(Field(jobs, "jobs").list_value().values(0).struct_value(), "summary").struct_value();
  EXPECT_EQ(Field(summary, "evaluations_done").number_value(), 10);
  EXPECT_DOUBLE_EQ(Field(summary, "evaluations_per_hour").number_value(), 360);
  EXPECT_DOUBLE_EQ(Field(summary, "eta_seconds").number_value(), 200);
  EXPECT_EQ(Field(summary, "state").string_value(), "RUNNING");
}

v1::CurvePoint Point(double fraction, double error) {
  v1::CurvePoint p;
  p.set_epoch_fraction(fraction);
  p.set_validation_error(error);
  p.set_training_seconds(fraction * 10);
  return p;
}

TEST_F(DashboardDataTest, CandidatesStoppedEarlyAreCountedAndShowTheirDecision) {
  v1::JobSpec spec = SmallSpec(10, /*seed=*/6);
  spec.mutable_automated_stopping()->set_min_completed(2);
  spec.mutable_automated_stopping()->set_grace_epochs(0.5);
  absl::StatusOr<v1::Job> job = coordinator_->SubmitJob(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  for (double error : {0.3, 0.4}) {
    std::optional<v1::Task> task = Acquire(*coordinator_, worker_);
    v1::EvaluationResult result = SyntheticResult(*task);
    *result.add_curve() = Point(0.5, error);
    *result.add_curve() = Point(1.0, error - 0.1);
    ASSERT_TRUE(Complete(*coordinator_, worker_, *task, result).ok());
  }
  std::optional<v1::Task> poor = Acquire(*coordinator_, worker_);
  v1::HeartbeatRequest hb;
  Identify(worker_, &hb);
  hb.set_lease_id(poor->lease_id());
  hb.set_progress_steps(1);
  *hb.add_curve() = Point(0.5, 0.9);
  absl::StatusOr<v1::HeartbeatResponse> stop = coordinator_->Heartbeat(hb);
  ASSERT_TRUE(stop.ok()) << stop.status();
  ASSERT_TRUE(stop->stopped());

  google::protobuf::Struct one = ParseJson(data_->JobJson(job->job_id()));
  const google::protobuf::Struct& summary = Field(one, "summary").struct_value();
  EXPECT_EQ(Field(summary, "candidates_stopped").number_value(), 1);
  EXPECT_TRUE(Field(summary, "automated_stopping").bool_value());
  EXPECT_EQ(Field(summary, "evaluations_done").number_value(), 2);
  EXPECT_THAT(Field(one, "version").string_value(), HasSubstr("-1-RUNNING"));
  // The candidate page's data: the state, the decision and the curve.
  google::protobuf::Struct c = ParseJson(data_->CandidateJson(job->job_id(), poor->candidate_id()));
  const google::protobuf::Struct& candidate = Field(c, "candidate").struct_value();
  EXPECT_EQ(Field(candidate, "state").string_value(), "CANDIDATE_STATE_STOPPED");
  const google::protobuf::Struct& decision = Field(candidate, "stopping").struct_value();
  EXPECT_EQ(Field(decision, "rule").string_value(), "median");
  EXPECT_DOUBLE_EQ(Field(decision, "epoch_fraction").number_value(), 0.5);
  EXPECT_DOUBLE_EQ(Field(decision, "candidate_error").number_value(), 0.9);
  EXPECT_NEAR(Field(decision, "threshold").number_value(), 0.35, 1e-12);
  EXPECT_EQ(Field(decision, "completed_compared").number_value(), 2);
  EXPECT_EQ(
      Field(Field(candidate, "evaluation").struct_value(), "curve").list_value().values_size(), 1);
  // Stopped candidates are not in the history the plots draw.
  google::protobuf::Struct history = ParseJson(data_->HistoryJson(job->job_id()));
  EXPECT_EQ(Field(history, "candidates").list_value().values_size(), 2);
}

TEST_F(DashboardDataTest, LongPollAnswersWhenAResultArrivesOrAfterItsWait) {
  absl::StatusOr<v1::Job> job = coordinator_->SubmitJob(SmallSpec(10, /*seed=*/5));
  ASSERT_TRUE(job.ok());
  const std::string version =
      Field(ParseJson(data_->JobJson(job->job_id())), "version").string_value();
  ASSERT_FALSE(version.empty());
  // Nothing changes: the answer comes after the wait, with the same version.
  const absl::Time start = absl::Now();
  google::protobuf::Struct same =
      ParseJson(data_->JobJson(job->job_id(), version, absl::Milliseconds(300)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_EQ(Field(same, "version").string_value(), version);
  // A result arrives while the poll waits (up to 60 s): it answers with it.
  std::thread evaluate([&] { EXPECT_TRUE(EvaluateOne(*coordinator_, worker_)); });
  const absl::Time poll = absl::Now();
  google::protobuf::Struct changed =
      ParseJson(data_->JobJson(job->job_id(), version, absl::Seconds(60)));
  evaluate.join();
  EXPECT_LT(absl::Now() - poll, absl::Seconds(30));
  EXPECT_NE(Field(changed, "version").string_value(), version);
  EXPECT_EQ(Field(Field(changed, "summary").struct_value(), "evaluations_done").number_value(), 1);
  // Stop() ends the waits: a poll then answers at once.
  data_->Stop();
  const std::string now = Field(changed, "version").string_value();
  const absl::Time stopped = absl::Now();
  EXPECT_TRUE(data_->JobJson(job->job_id(), now, absl::Seconds(60)).ok());
  EXPECT_LT(absl::Now() - stopped, absl::Seconds(5));
}

TEST_F(DashboardDataTest, UnknownThingsAreNotFound) {
  EXPECT_EQ(data_->JobJson(99).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(data_->HistoryJson(99).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(data_->PlotSvg(99, "pmu").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<v1::Job> job = coordinator_->SubmitJob(SmallSpec(4, /*seed=*/6));
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(data_->PlotSvg(job->job_id(), "nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(data_->CandidateJson(job->job_id(), 999).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(data_->NetworkSvg(job->job_id(), 999).status().code(), absl::StatusCode::kNotFound);
  // A job without results still draws every plot (saying there is no data).
  for (const char* plot : {"pmu", "size", "macs", "progress"}) {
    absl::StatusOr<std::string> svg = data_->PlotSvg(job->job_id(), plot);
    ASSERT_TRUE(svg.ok()) << plot;
    EXPECT_THAT(*svg, HasSubstr("No evaluated candidates yet")) << plot;
  }
}

TEST_F(DashboardDataTest, CandidateEpochsNetworkAndLineage) {
  absl::StatusOr<v1::Job> job = coordinator_->SubmitJob(SmallSpec(12, /*seed=*/8));
  ASSERT_TRUE(job.ok());
  while (EvaluateOne(*coordinator_, worker_)) {
  }
  // The latest candidate with a parent: its lineage ends with it and starts
  // with a random candidate.
  google::protobuf::Struct history = ParseJson(data_->HistoryJson(job->job_id()));
  int64_t child = 0;
  for (const google::protobuf::Value& row : Field(history, "candidates").list_value().values()) {
    if (Field(row.struct_value(), "parent_id").has_number_value()) {
      child = static_cast<int64_t>(Field(row.struct_value(), "candidate_id").number_value());
    }
  }
  ASSERT_GT(child, 0) << "no mutated candidate in 12 evaluations";
  google::protobuf::Struct c = ParseJson(data_->CandidateJson(job->job_id(), child));
  const auto& lineage = Field(c, "lineage").list_value();
  ASSERT_GE(lineage.values_size(), 2);
  EXPECT_EQ(Field(lineage.values(lineage.values_size() - 1).struct_value(), "candidate_id")
                .number_value(),
            child);
  EXPECT_TRUE(Field(lineage.values(0).struct_value(), "parent_id").has_null_value());
  // No weights in the page's copy.
  EXPECT_FALSE(absl::StrContains(*data_->CandidateJson(job->job_id(), child), "trained_weights"));

  absl::StatusOr<std::string> epochs = data_->EpochsSvg(job->job_id(), child);
  ASSERT_TRUE(epochs.ok());
  EXPECT_THAT(*epochs, HasSubstr("<svg id=\"plot-epochs\""));
  // Three validation points, one validation line, one training line.
  EXPECT_EQ(absl::StrContains(*epochs, "epoch-train"), true);
  int points = 0;
  for (size_t at = epochs->find("<circle class=\"epoch-validation\""); at != std::string::npos;
       at = epochs->find("<circle class=\"epoch-validation\"", at + 1)) {
    ++points;
  }
  EXPECT_EQ(points, 3);

  absl::StatusOr<std::string> network = data_->NetworkSvg(job->job_id(), child);
  ASSERT_TRUE(network.ok()) << network.status();
  EXPECT_THAT(*network, HasSubstr("<svg id=\"network\""));
  EXPECT_THAT(*network, HasSubstr("op-Input"));
  EXPECT_THAT(*network, HasSubstr("op-Dense output"));
  absl::StatusOr<std::string> dot = data_->NetworkDot(job->job_id(), child);
  ASSERT_TRUE(dot.ok());
  EXPECT_TRUE(absl::StartsWith(*dot, "digraph")) << *dot;
}

TEST_F(DashboardDataTest, EndpointTimesOnA400EvaluationJob) {
  absl::StatusOr<v1::Job> job = coordinator_->SubmitJob(SmallSpec(400, /*seed=*/9));
  ASSERT_TRUE(job.ok());
  while (EvaluateOne(*coordinator_, worker_)) clock_.Advance(1000);
  auto time = [](const char* what, const std::function<absl::StatusOr<std::string>()>& call) {
    const absl::Time start = absl::Now();
    absl::StatusOr<std::string> out = call();
    const absl::Duration took = absl::Now() - start;
    EXPECT_TRUE(out.ok()) << what << ": " << out.status();
    std::cout << what << ": " << absl::FormatDuration(took) << ", " << out.value_or("").size()
              << " bytes\n";
    return took;
  };
  const int64_t id = job->job_id();
  time("job (first: reads the history)", [&] { return data_->JobJson(id); });
  time("job (cached)", [&] { return data_->JobJson(id); });
  time("jobs", [&] { return data_->JobsJson(); });
  time("history", [&] { return data_->HistoryJson(id); });
  time("population", [&] { return data_->PopulationJson(id); });
  for (const char* plot : {"progress", "pmu", "size", "macs"}) {
    time(plot, [&] { return data_->PlotSvg(id, plot); });
  }
  time("candidate", [&] { return data_->CandidateJson(id, 400); });
  time("network", [&] { return data_->NetworkSvg(id, 400); });
  time("workers", [&] { return data_->WorkersJson(); });
}

TEST_F(DashboardDataTest, WorkersShowTheirCurrentTaskAndThroughput) {
  absl::StatusOr<v1::Job> job = coordinator_->SubmitJob(SmallSpec(10, /*seed=*/10));
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(EvaluateOne(*coordinator_, worker_));
  ASSERT_TRUE(EvaluateOne(*coordinator_, worker_));
  std::optional<v1::Task> task = Acquire(*coordinator_, worker_);
  ASSERT_TRUE(task.has_value());
  google::protobuf::Struct workers = ParseJson(data_->WorkersJson());
  ASSERT_EQ(Field(workers, "workers").list_value().values_size(), 1);
  const google::protobuf::Struct& w =
      Field(workers, "workers").list_value().values(0).struct_value();
  EXPECT_EQ(Field(Field(w, "worker").struct_value(), "name").string_value(), "data-test-worker");
  const auto& tasks = Field(w, "current_tasks").list_value();
  ASSERT_EQ(tasks.values_size(), 1);
  EXPECT_EQ(Field(tasks.values(0).struct_value(), "candidate_id").number_value(),
            task->candidate_id());
  // Throughput counts results by finish time against the real clock; the
  // fake clock here sits in 2023, so "the last hour" holds none of them.
  EXPECT_TRUE(Field(w, "evaluations_last_hour").has_number_value());
}

TEST(DashboardAuthTest, TokenAsBearerOrSessionCookie) {
  DashboardAuth open(std::nullopt, false);
  EXPECT_FALSE(open.required());
  EXPECT_TRUE(open.Allows("", ""));

  DashboardAuth auth(std::string("s3cret-token"), /*tls=*/true);
  EXPECT_TRUE(auth.required());
  EXPECT_FALSE(auth.Allows("", ""));
  EXPECT_FALSE(auth.Allows("Bearer wrong", ""));
  EXPECT_TRUE(auth.Allows("Bearer s3cret-token", ""));
  const std::string cookie = auth.SessionCookie();
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  EXPECT_THAT(cookie, HasSubstr("Secure"));
  EXPECT_FALSE(absl::StrContains(cookie, "s3cret-token"));
  const std::string session = cookie.substr(0, cookie.find(';'));
  EXPECT_TRUE(auth.Allows("", absl::StrCat("theme=dark; ", session)));
  EXPECT_FALSE(auth.Allows("", absl::StrCat(session, "0")));
  EXPECT_FALSE(auth.Allows("", "unas_dashboard=s3cret-token"));
  EXPECT_TRUE(auth.TokenMatches("s3cret-token\n"));
  EXPECT_FALSE(auth.TokenMatches("s3cret"));
  EXPECT_FALSE(absl::StrContains(DashboardAuth(std::string("t"), false).SessionCookie(), "Secure"));
}

}  // namespace
}  // namespace unas::dashboard
