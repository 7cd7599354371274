// Automated stopping through the coordinator core: workers send learning
// curves in heartbeats; a poor candidate is STOPPED with the rule's numbers,
// a good one completes, seeded runs and a restarted coordinator make the
// same decisions, and garbage curves are refused.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/core/coordinator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT
using ::testing::HasSubstr;

// SmallSpec (one epoch) with a curve of 4 points per epoch and the median
// rule after 3 completed candidates and half an epoch.
v1::JobSpec StoppingSpec(int rounds, uint64_t seed = 1, int min_completed = 3) {
  v1::JobSpec spec = SmallSpec(rounds, seed);
  spec.mutable_training()->mutable_learning_curve()->set_points_per_epoch(4);
  spec.mutable_automated_stopping()->set_min_completed(min_completed);
  spec.mutable_automated_stopping()->set_grace_epochs(0.5);
  return spec;
}

v1::CurvePoint Point(double fraction, double error, double seconds) {
  v1::CurvePoint p;
  p.set_epoch_fraction(fraction);
  p.set_validation_error(error);
  p.set_training_seconds(seconds);
  return p;
}

// A candidate's curve as a worker would measure it: `final_error` at the end
// of its epoch, higher before (error falls with training).
std::vector<v1::CurvePoint> CurveFor(double final_error) {
  std::vector<v1::CurvePoint> curve;
  for (int k = 1; k <= 4; ++k) {
    const double fraction = 0.25 * k;
    curve.push_back(Point(fraction, std::min(1.0, final_error + 0.3 * (1 - fraction)), 2.0 * k));
  }
  return curve;
}

absl::StatusOr<v1::HeartbeatResponse> Beat(Coordinator& c, const TestWorker& w,
                                           const v1::Task& task,
                                           const std::vector<v1::CurvePoint>& curve) {
  v1::HeartbeatRequest hb;
  Identify(w, &hb);
  hb.set_lease_id(task.lease_id());
  hb.set_progress_steps(static_cast<int64_t>(curve.size()));
  for (const v1::CurvePoint& p : curve) *hb.add_curve() = p;
  return c.Heartbeat(hb);
}

// What became of one candidate: STOPPED with its decision, or DONE.
struct Outcome {
  int64_t candidate_id = 0;
  uint64_t fingerprint = 0;
  std::string decision;  // serialised StoppingDecision; empty when DONE
  bool operator==(const Outcome&) const = default;
};

// Trains `task` as a worker with curves does: a heartbeat after each curve
// point (the whole curve so far), then the result, unless told it stopped.
// `before_point` runs before each heartbeat (a restart, say) and may
// replace the coordinator.
void Train(std::unique_ptr<Coordinator>& c, const TestWorker& w, const v1::Task& task,
           const std::function<void(int)>& before_point = {}) {
  const double error = SyntheticResult(task).validation_error();
  const std::vector<v1::CurvePoint> curve = CurveFor(error);
  for (size_t k = 1; k <= curve.size(); ++k) {
    if (before_point) before_point(static_cast<int>(k));
    absl::StatusOr<v1::HeartbeatResponse> r =
        Beat(*c, w, task, std::vector<v1::CurvePoint>(curve.begin(), curve.begin() + k));
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->stopped()) {
      EXPECT_FALSE(r->keep_going());
      EXPECT_THAT(r->reason(), HasSubstr("median stopping rule"));
      return;
    }
    ASSERT_TRUE(r->keep_going()) << r->reason();
  }
  v1::EvaluationResult result = SyntheticResult(task);
  for (const v1::CurvePoint& p : curve) *result.add_curve() = p;
  result.set_training_seconds(curve.back().training_seconds());
  absl::StatusOr<v1::CompleteTaskResponse> done = Complete(*c, w, task, result);
  ASSERT_TRUE(done.ok()) << done.status();
}

std::vector<Outcome> Outcomes(Coordinator& c, int64_t job_id) {
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1000);
  absl::StatusOr<v1::ListCandidatesResponse> r = c.ListCandidates(request);
  EXPECT_TRUE(r.ok()) << r.status();
  std::vector<Outcome> outcomes;
  for (const v1::Candidate& cand : r->candidates()) {
    outcomes.push_back({cand.candidate_id(), cand.fingerprint(),
                        cand.state() == v1::CANDIDATE_STATE_STOPPED
                            ? cand.stopping().SerializeAsString()
                            : std::string()});
    if (cand.state() != v1::CANDIDATE_STATE_STOPPED) {
      EXPECT_EQ(cand.state(), v1::CANDIDATE_STATE_DONE) << cand.candidate_id();
    }
  }
  return outcomes;
}

int CountStopped(const std::vector<Outcome>& outcomes) {
  int n = 0;
  for (const Outcome& o : outcomes) n += o.decision.empty() ? 0 : 1;
  return n;
}

TEST(StoppingTest, APoorCandidateIsStoppedWithTheRulesNumbersAndAGoodOneCompletes) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  absl::StatusOr<v1::Job> job = c->SubmitJob(StoppingSpec(10));
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_EQ(job->spec().automated_stopping().rule(), v1::STOPPING_RULE_MEDIAN);
  const int64_t job_id = job->job_id();
  TestWorker w = Register(*c, "w");
  // Three completed candidates with known curves: mean errors up to 0.5
  // epochs of 0.35, 0.45 and 0.55 (median 0.45).
  for (double start : {0.4, 0.5, 0.6}) {
    std::optional<v1::Task> task = Acquire(*c, w);
    ASSERT_TRUE(task.has_value());
    const std::vector<v1::CurvePoint> curve = {Point(0.25, start, 1), Point(0.5, start - 0.1, 2),
                                               Point(0.75, start - 0.2, 3),
                                               Point(1.0, start - 0.25, 4)};
    ASSERT_TRUE(Beat(*c, w, *task, curve)->keep_going()) << "nothing to compare with yet";
    v1::EvaluationResult result = SyntheticResult(*task);
    for (const v1::CurvePoint& p : curve) *result.add_curve() = p;
    ASSERT_TRUE(Complete(*c, w, *task, result)->accepted());
  }
  int64_t cursor = 0;
  std::vector<v1::JobEvent> events;
  ASSERT_TRUE(c->NextEvents(job_id, &cursor, absl::ZeroDuration(), &events).ok());

  // A poor one: 0.7 at 0.25 epochs is inside the grace; at 0.5 its best
  // error, 0.6, is worse than 0.45.
  std::optional<v1::Task> poor = Acquire(*c, w);
  ASSERT_TRUE(poor.has_value());
  EXPECT_TRUE(Beat(*c, w, *poor, {Point(0.25, 0.7, 1.5)})->keep_going());
  absl::StatusOr<v1::HeartbeatResponse> stop =
      Beat(*c, w, *poor, {Point(0.25, 0.7, 1.5), Point(0.5, 0.6, 3.25)});
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_FALSE(stop->keep_going());
  EXPECT_TRUE(stop->stopped());
  EXPECT_THAT(stop->reason(), HasSubstr("median stopping rule at 0.50 epochs"));
  EXPECT_THAT(stop->reason(), HasSubstr("0.6000 is worse than 0.4500"));
  EXPECT_THAT(stop->reason(), HasSubstr("3 completed candidates"));

  absl::StatusOr<v1::Candidate> stopped = c->GetCandidate(job_id, poor->candidate_id());
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->state(), v1::CANDIDATE_STATE_STOPPED);
  EXPECT_EQ(stopped->stopping().rule(), "median");
  EXPECT_DOUBLE_EQ(stopped->stopping().epoch_fraction(), 0.5);
  EXPECT_DOUBLE_EQ(stopped->stopping().candidate_error(), 0.6);
  EXPECT_NEAR(stopped->stopping().threshold(), 0.45, 1e-12);
  EXPECT_EQ(stopped->stopping().completed_compared(), 3);
  EXPECT_FALSE(stopped->feasible());
  EXPECT_DOUBLE_EQ(stopped->evaluation().validation_error(), 0.6);
  EXPECT_DOUBLE_EQ(stopped->evaluation().training_seconds(), 3.25);
  ASSERT_EQ(stopped->evaluation().curve_size(), 2);
  EXPECT_TRUE(stopped->has_finish_time());

  absl::StatusOr<v1::Job> now = c->GetJob(job_id);
  EXPECT_EQ(now->progress().candidates_stopped(), 1);
  EXPECT_EQ(now->progress().evaluations_done(), 3);
  EXPECT_EQ(now->progress().evaluations_in_flight(), 0);
  events.clear();
  ASSERT_TRUE(c->NextEvents(job_id, &cursor, absl::ZeroDuration(), &events).ok());
  bool saw_stop = false;
  for (const v1::JobEvent& e : events) {
    if (e.has_candidate_stopped()) {
      saw_stop = true;
      EXPECT_EQ(e.candidate_stopped().candidate_id(), poor->candidate_id());
      EXPECT_EQ(e.progress().candidates_stopped(), 1);
    }
  }
  EXPECT_TRUE(saw_stop);
  // The lease has ended: more heartbeats are told to stop, and a result
  // sent anyway is acknowledged and ignored.
  EXPECT_FALSE(Beat(*c, w, *poor, {Point(0.25, 0.7, 1.5)})->keep_going());
  EXPECT_FALSE(Complete(*c, w, *poor, SyntheticResult(*poor))->accepted());

  // A good one goes on to the end and is DONE.
  std::optional<v1::Task> good = Acquire(*c, w);
  ASSERT_TRUE(good.has_value());
  const std::vector<v1::CurvePoint> curve = {Point(0.25, 0.45, 1), Point(0.5, 0.3, 2),
                                             Point(0.75, 0.2, 3), Point(1.0, 0.15, 4)};
  for (size_t k = 1; k <= curve.size(); ++k) {
    absl::StatusOr<v1::HeartbeatResponse> r =
        Beat(*c, w, *good, std::vector<v1::CurvePoint>(curve.begin(), curve.begin() + k));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->keep_going());
    EXPECT_FALSE(r->stopped());
  }
  v1::EvaluationResult result = SyntheticResult(*good);
  for (const v1::CurvePoint& p : curve) *result.add_curve() = p;
  ASSERT_TRUE(Complete(*c, w, *good, result)->accepted());
  EXPECT_EQ(c->GetCandidate(job_id, good->candidate_id())->state(), v1::CANDIDATE_STATE_DONE);
  EXPECT_EQ(c->GetCandidate(job_id, good->candidate_id())->evaluation().curve_size(), 4);
  now = c->GetJob(job_id);
  EXPECT_EQ(now->progress().evaluations_done(), 4);
  EXPECT_EQ(now->progress().candidates_stopped(), 1);

  // Stopped candidates are never on the Pareto front.
  v1::GetParetoFrontRequest front;
  front.set_job_id(job_id);
  absl::StatusOr<v1::GetParetoFrontResponse> pareto = c->GetParetoFront(front);
  ASSERT_TRUE(pareto.ok());
  for (const v1::Candidate& cand : pareto->candidates()) {
    EXPECT_NE(cand.candidate_id(), poor->candidate_id());
  }
}

TEST(StoppingTest, AResultWhoseCurveTheRuleStopsIsStoppedWhateverTheHeartbeats) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  const int64_t job_id = c->SubmitJob(StoppingSpec(10))->job_id();
  TestWorker w = Register(*c, "w");
  for (double start : {0.4, 0.5, 0.6}) {
    std::optional<v1::Task> task = Acquire(*c, w);
    v1::EvaluationResult result = SyntheticResult(*task);
    *result.add_curve() = Point(0.5, start, 1);
    *result.add_curve() = Point(1.0, start - 0.1, 2);
    ASSERT_TRUE(Complete(*c, w, *task, result)->accepted());
  }
  // No heartbeat came before the result (a fast training): the curve it
  // carries is read as one would have been.
  std::optional<v1::Task> poor = Acquire(*c, w);
  v1::EvaluationResult result = SyntheticResult(*poor);
  *result.add_curve() = Point(0.5, 0.8, 1);
  *result.add_curve() = Point(1.0, 0.7, 2);
  ASSERT_TRUE(Complete(*c, w, *poor, result)->accepted());
  absl::StatusOr<v1::Candidate> stopped = c->GetCandidate(job_id, poor->candidate_id());
  EXPECT_EQ(stopped->state(), v1::CANDIDATE_STATE_STOPPED);
  EXPECT_DOUBLE_EQ(stopped->stopping().epoch_fraction(), 0.5);
  EXPECT_DOUBLE_EQ(stopped->stopping().threshold(), 0.5);
  EXPECT_EQ(stopped->evaluation().curve_size(), 1) << "the curve up to the decision";
}

TEST(StoppingTest, StoppedCandidatesCountTowardsTheRoundsAndSeededRunsRepeat) {
  std::vector<Outcome> first, second;
  for (std::vector<Outcome>* outcomes : {&first, &second}) {
    FakeClock clock;
    std::unique_ptr<Coordinator> c = MakeCoordinator(TempDbPath(TestName()), &clock);
    const int64_t job_id = c->SubmitJob(StoppingSpec(30, /*seed=*/7))->job_id();
    TestWorker w = Register(*c, "w");
    while (std::optional<v1::Task> task = Acquire(*c, w)) Train(c, w, *task);
    absl::StatusOr<v1::Job> job = c->GetJob(job_id);
    EXPECT_EQ(job->state(), v1::JOB_STATE_SUCCEEDED);
    *outcomes = Outcomes(*c, job_id);
    EXPECT_EQ(job->progress().evaluations_done() + job->progress().candidates_stopped(), 30);
    EXPECT_EQ(job->progress().candidates_stopped(), CountStopped(*outcomes));
  }
  EXPECT_EQ(first.size(), 30u);
  EXPECT_GE(CountStopped(first), 3) << "the synthetic curves stop some candidates";
  EXPECT_LE(CountStopped(first), 25) << "and let others finish";
  EXPECT_EQ(first, second);
}

TEST(StoppingTest, ARestartedCoordinatorMakesTheSameStoppingDecisions) {
  std::vector<Outcome> uninterrupted;
  {
    FakeClock clock;
    std::unique_ptr<Coordinator> c = MakeCoordinator(TempDbPath(TestName()), &clock);
    const int64_t job_id = c->SubmitJob(StoppingSpec(24, /*seed=*/11))->job_id();
    TestWorker w = Register(*c, "w");
    while (std::optional<v1::Task> task = Acquire(*c, w)) Train(c, w, *task);
    uninterrupted = Outcomes(*c, job_id);
  }
  ASSERT_GE(CountStopped(uninterrupted), 2);

  // The same job, with the coordinator restarted from its database in the
  // middle of every third candidate's training (before its second curve
  // point's heartbeat): the worker goes on with its lease and re-sends the
  // whole curve.
  const std::string db = TempDbPath(TestName() + "_restarted");
  FakeClock clock;
  std::unique_ptr<Coordinator> c = MakeCoordinator(db, &clock);
  const int64_t job_id = c->SubmitJob(StoppingSpec(24, /*seed=*/11))->job_id();
  TestWorker w = Register(*c, "w");
  int trained = 0, restarts = 0;
  while (std::optional<v1::Task> task = Acquire(*c, w)) {
    const bool restart = ++trained % 3 == 0;
    Train(c, w, *task, [&](int point) {
      if (restart && point == 2) {
        c.reset();
        c = MakeCoordinator(db, &clock);
        ++restarts;
      }
    });
  }
  EXPECT_GE(restarts, 5);
  EXPECT_EQ(c->GetJob(job_id)->state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(Outcomes(*c, job_id), uninterrupted);
  // And once more after the job ended: the counts come back from the store.
  c.reset();
  c = MakeCoordinator(db, &clock);
  absl::StatusOr<v1::Job> job = c->GetJob(job_id);
  EXPECT_EQ(job->progress().candidates_stopped(), CountStopped(uninterrupted));
  EXPECT_EQ(job->progress().evaluations_done() + job->progress().candidates_stopped(), 24);
}

TEST(StoppingTest, AStoppedNetworkIsNeverTrainedAgainItsRepeatsCopyTheStop) {
  FakeClock clock;
  const std::string db = TempDbPath(TestName());
  std::unique_ptr<Coordinator> c = MakeCoordinator(db, &clock);
  // A space of a few networks: the search proposes the same ones again.
  v1::JobSpec spec = StoppingSpec(40, /*seed=*/3, /*min_completed=*/2);
  v1::CnnSpaceBounds* cnn = spec.mutable_search_space()->mutable_cnn();
  cnn->set_max_conv_blocks(1);
  cnn->set_max_layers_per_block(1);
  cnn->set_max_filters(2);
  cnn->add_kernel_sizes(3);
  cnn->add_pool_sizes(2);
  cnn->set_max_dense_blocks(1);
  cnn->set_min_dense_units(10);
  cnn->set_max_dense_units(11);
  const int64_t job_id = c->SubmitJob(spec)->job_id();
  TestWorker w = Register(*c, "w");
  std::map<uint64_t, int> trained;  // fingerprint -> times handed to the worker
  int handed_out = 0;
  while (std::optional<v1::Task> task = Acquire(*c, w)) {
    absl::StatusOr<v1::Candidate> cand = c->GetCandidate(job_id, task->candidate_id());
    ++trained[cand->fingerprint()];
    Train(c, w, *task);
    if (++handed_out == 6) {  // a restart: the stopped ones come back from the store
      c.reset();
      c = MakeCoordinator(db, &clock);
    }
  }
  for (const auto& [fingerprint, times] : trained) EXPECT_EQ(times, 1) << fingerprint;
  absl::StatusOr<v1::Job> job = c->GetJob(job_id);
  EXPECT_EQ(job->state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(job->progress().evaluations_done() + job->progress().candidates_stopped(), 40);
  // Every STOPPED candidate of a network carries the decision of the first.
  std::map<uint64_t, std::string> decision_of;
  int stopped_copies = 0;
  for (const Outcome& o : Outcomes(*c, job_id)) {
    if (o.decision.empty()) continue;
    auto [it, first] = decision_of.try_emplace(o.fingerprint, o.decision);
    EXPECT_EQ(it->second, o.decision);
    stopped_copies += first ? 0 : 1;
  }
  EXPECT_GE(stopped_copies, 1) << "no stopped network was proposed again";
  EXPECT_LT(handed_out, 40);
}

TEST(StoppingTest, GarbageCurvesAreRefusedNamingWhatIsWrong) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  const int64_t job_id = c->SubmitJob(StoppingSpec(10))->job_id();
  TestWorker w = Register(*c, "w");
  std::optional<v1::Task> task = Acquire(*c, w);
  ASSERT_TRUE(task.has_value());
  absl::StatusOr<v1::HeartbeatResponse> r =
      Beat(*c, w, *task, {Point(0.25, 0.5, 1), Point(0.25, 0.4, 2)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("curve[1].epoch_fraction"));
  r = Beat(*c, w, *task, {Point(0.25, std::nan(""), 1)});
  EXPECT_THAT(r.status().message(), HasSubstr("curve[0].validation_error"));
  r = Beat(*c, w, *task, {Point(0.25, 0.5, -3)});
  EXPECT_THAT(r.status().message(), HasSubstr("curve[0].training_seconds"));
  std::vector<v1::CurvePoint> too_long;
  for (int k = 1; k <= 5; ++k) too_long.push_back(Point(0.2 * k, 0.5, k));
  r = Beat(*c, w, *task, too_long);
  EXPECT_THAT(r.status().message(), HasSubstr("4 (training.learning_curve.points_per_epoch"));
  // A well-formed curve is still taken.
  EXPECT_TRUE(Beat(*c, w, *task, {Point(0.25, 0.5, 1)})->keep_going());

  // A result with a garbage curve is refused like any invalid result.
  v1::EvaluationResult result = SyntheticResult(*task);
  *result.add_curve() = Point(3, 0.5, 1);
  absl::StatusOr<v1::CompleteTaskResponse> done = Complete(*c, w, *task, result);
  EXPECT_EQ(done.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(done.status().message(), HasSubstr("curve[0].epoch_fraction (3)"));
  EXPECT_EQ(c->GetCandidate(job_id, task->candidate_id())->state(), v1::CANDIDATE_STATE_QUEUED);

  // A job that measures no curve takes none.
  v1::JobSpec plain = SmallSpec(5, 2);
  const int64_t plain_id = c->SubmitJob(plain)->job_id();
  ASSERT_TRUE(c->CancelJob(job_id).ok());
  std::optional<v1::Task> other = Acquire(*c, w);
  ASSERT_TRUE(other.has_value());
  ASSERT_EQ(other->job_id(), plain_id);
  r = Beat(*c, w, *other, {Point(0.25, 0.5, 1)});
  EXPECT_THAT(r.status().message(), HasSubstr("measures no learning curve"));
}

}  // namespace
}  // namespace unas::coordinator
