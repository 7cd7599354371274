// The comparison benchmarks' search race: with automated stopping the
// coordinator sees each learning-curve point at its virtual time and stops
// candidates, whose training time then counts only up to the stop; the
// training-time budget ends a run; without stopping nothing is stopped.
#include "bench/search/search_race.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "worker/daemon/synthetic_evaluator.h"

namespace unas::bench {
namespace {

using coordinator::testing::SmallSpec;
using coordinator::testing::TempDbPath;

// A job whose candidates carry learning curves; `stopping` adds the rule.
v1::JobSpec CurveSpec(bool stopping) {
  v1::JobSpec spec = SmallSpec(40, /*seed=*/3);
  spec.mutable_training()->set_epochs(2);
  spec.mutable_training()->mutable_learning_curve()->set_points_per_epoch(4);
  spec.mutable_training()->mutable_learning_curve()->set_validation_images(1024);
  if (stopping) {
    spec.mutable_automated_stopping()->set_min_completed(5);
    spec.mutable_automated_stopping()->set_grace_epochs(0.5);
  }
  return spec;
}

RaceOptions Options(const std::string& name) {
  RaceOptions options;
  options.workers = 3;
  options.db_path = TempDbPath(name);
  // 10-40 virtual seconds per candidate, by candidate id.
  options.duration_seconds = [](const v1::Task& task, const v1::EvaluationResult&) {
    return 10.0 + static_cast<double>(task.candidate_id() % 4) * 10;
  };
  return options;
}

TEST(SearchRaceTest, StoppedCandidatesCountTheirTrainingOnlyUpToTheStop) {
  worker::SyntheticEvaluator evaluator;
  absl::StatusOr<RaceResult> result = RunRace(CurveSpec(true), evaluator, Options("race-stop"));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->history.size(), 40u);
  EXPECT_GT(result->stopped, 0);
  int stopped = 0, trained_and_stopped = 0;
  double spent = 0;
  for (const RaceEvaluation& e : result->history) {
    const double full = 10.0 + static_cast<double>(e.candidate_id % 4) * 10;
    if (e.stopped) {
      ++stopped;
      EXPECT_FALSE(e.feasible);
      // Stopped before the end of its training (0: a re-proposal of a
      // stopped network, which copies its result untrained).
      EXPECT_LT(e.seconds, full);
      trained_and_stopped += e.seconds > 0 ? 1 : 0;
    } else if (e.seconds > 0) {
      EXPECT_DOUBLE_EQ(e.seconds, full);
    }
    EXPECT_GE(e.spent_seconds, spent);  // the run's spending never goes back
    spent = e.spent_seconds;
  }
  EXPECT_EQ(stopped, result->stopped);
  EXPECT_GT(trained_and_stopped, 0);
}

TEST(SearchRaceTest, WithoutTheRuleNothingStopsAndTheSameSeedRepeats) {
  worker::SyntheticEvaluator evaluator;
  absl::StatusOr<RaceResult> a = RunRace(CurveSpec(false), evaluator, Options("race-a"));
  absl::StatusOr<RaceResult> b = RunRace(CurveSpec(false), evaluator, Options("race-b"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->stopped, 0);
  ASSERT_EQ(a->history.size(), b->history.size());
  for (size_t i = 0; i < a->history.size(); ++i) {
    EXPECT_EQ(a->history[i].candidate_id, b->history[i].candidate_id);
    EXPECT_DOUBLE_EQ(a->history[i].spent_seconds, b->history[i].spent_seconds);
    EXPECT_FALSE(a->history[i].stopped);
  }
}

TEST(SearchRaceTest, TheTrainingBudgetEndsTheRun) {
  worker::SyntheticEvaluator evaluator;
  RaceOptions options = Options("race-budget");
  options.cpu_budget_seconds = 200;
  absl::StatusOr<RaceResult> result = RunRace(CurveSpec(true), evaluator, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->budget_reached);
  ASSERT_FALSE(result->history.empty());
  EXPECT_LT(result->history.size(), 40u);
  EXPECT_LT(result->history.back().spent_seconds, 200);
}

}  // namespace
}  // namespace unas::bench
