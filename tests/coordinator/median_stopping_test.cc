// The median stopping rule (coordinator/search/median_stopping.h) on curves
// whose medians are worked out by hand, and the checks a worker's curve must
// pass.
#include "coordinator/search/median_stopping.h"

#include <algorithm>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace unas::search {
namespace {

using ::testing::HasSubstr;

// Training epochs of the job the curves come from: past the last test point.
constexpr double kEpochs = 4;

Curve MakeCurve(const std::vector<double>& errors, double step = 0.25) {
  Curve curve;
  for (size_t i = 0; i < errors.size(); ++i) {
    v1::CurvePoint* p = curve.Add();
    p->set_epoch_fraction(step * static_cast<double>(i + 1));
    p->set_validation_error(errors[i]);
    p->set_training_seconds(10.0 * static_cast<double>(i + 1));
  }
  return curve;
}

// Five completed curves at 0.25, 0.5, 0.75, 1.0 epochs. Their mean errors up
// to 0.25: 0.8 0.7 0.9 0.6 0.5 (median 0.7); up to 0.5: 0.7 0.6 0.8 0.5 0.4
// (median 0.6); up to 0.75: 0.633 0.533 0.733 0.433 0.333 (median 0.533).
std::vector<CompletedCurve> FiveCompleted() {
  std::vector<CompletedCurve> completed;
  for (const std::vector<double>& errors : std::vector<std::vector<double>>{{0.8, 0.6, 0.5, 0.4},
                                                                            {0.7, 0.5, 0.4, 0.3},
                                                                            {0.9, 0.7, 0.6, 0.5},
                                                                            {0.6, 0.4, 0.3, 0.2},
                                                                            {0.5, 0.3, 0.2, 0.1}}) {
    completed.emplace_back(MakeCurve(errors));
  }
  return completed;
}

v1::AutomatedStoppingSpec Spec(int min_completed, double grace_epochs) {
  v1::AutomatedStoppingSpec spec;
  spec.set_rule(v1::STOPPING_RULE_MEDIAN);
  spec.set_min_completed(min_completed);
  spec.set_grace_epochs(grace_epochs);
  return spec;
}

TEST(MedianStoppingTest, MeanErrorUpToAFraction) {
  CompletedCurve curve(MakeCurve({0.8, 0.6, 0.5, 0.4}));
  EXPECT_FALSE(curve.MeanErrorUpTo(0.2).has_value());
  EXPECT_NEAR(*curve.MeanErrorUpTo(0.25), 0.8, 1e-12);
  EXPECT_NEAR(*curve.MeanErrorUpTo(0.5), 0.7, 1e-12);
  EXPECT_NEAR(*curve.MeanErrorUpTo(0.6), 0.7, 1e-12);
  EXPECT_NEAR(*curve.MeanErrorUpTo(5), 0.575, 1e-12);
  // A fraction computed a little differently still matches its point.
  EXPECT_NEAR(*curve.MeanErrorUpTo(0.5 - 1e-12), 0.7, 1e-12);
}

TEST(MedianStoppingTest, StopsAtTheFirstPointWorseThanTheMedianAfterTheGrace) {
  const std::vector<CompletedCurve> completed = FiveCompleted();
  // 0.72 > 0.7 at 0.25 epochs, but that is inside the grace of 0.5 epochs;
  // at 0.5 its best, 0.65, is worse than 0.6.
  std::optional<v1::StoppingDecision> decision =
      MedianStoppingDecision(MakeCurve({0.72, 0.65, 0.1}), completed, Spec(5, 0.5), kEpochs);
  ASSERT_TRUE(decision.has_value());
  EXPECT_EQ(decision->rule(), "median");
  EXPECT_DOUBLE_EQ(decision->epoch_fraction(), 0.5);
  EXPECT_DOUBLE_EQ(decision->candidate_error(), 0.65);
  EXPECT_NEAR(decision->threshold(), 0.6, 1e-12);
  EXPECT_EQ(decision->completed_compared(), 5);

  // Without the grace it stops at its first point.
  decision = MedianStoppingDecision(MakeCurve({0.72, 0.65}), completed, Spec(5, 0), kEpochs);
  ASSERT_TRUE(decision.has_value());
  EXPECT_DOUBLE_EQ(decision->epoch_fraction(), 0.25);
  EXPECT_DOUBLE_EQ(decision->candidate_error(), 0.72);
  EXPECT_NEAR(decision->threshold(), 0.7, 1e-12);
}

TEST(MedianStoppingTest, AGoodCandidateAndOneWhoseBestErrorKeepsUpGoOn) {
  const std::vector<CompletedCurve> completed = FiveCompleted();
  EXPECT_FALSE(
      MedianStoppingDecision(MakeCurve({0.6, 0.55, 0.5, 0.45}), completed, Spec(5, 0), kEpochs));
  // Its later points are worse than the medians (0.7 > 0.6, 0.7 > 0.533),
  // but its best so far (0.5) is not: the rule compares the best.
  EXPECT_FALSE(MedianStoppingDecision(MakeCurve({0.5, 0.7, 0.7}), completed, Spec(5, 0), kEpochs));
  // Equal to the median is not worse.
  EXPECT_FALSE(MedianStoppingDecision(MakeCurve({0.7}), completed, Spec(5, 0), kEpochs));
}

// A candidate that reached the end of its training is complete, however bad:
// the rule never decides at the last point.
TEST(MedianStoppingTest, TheEndOfTrainingIsNeverADecisionPoint) {
  const std::vector<CompletedCurve> completed = FiveCompleted();
  EXPECT_FALSE(MedianStoppingDecision(MakeCurve({0.99}), completed, Spec(5, 0), 0.25));
  EXPECT_FALSE(MedianStoppingDecision(MakeCurve({0.6, 0.99}), completed, Spec(5, 0), 0.5));
  std::optional<v1::StoppingDecision> decision =
      MedianStoppingDecision(MakeCurve({0.99, 0.99}), completed, Spec(5, 0), 0.5);
  ASSERT_TRUE(decision.has_value());
  EXPECT_DOUBLE_EQ(decision->epoch_fraction(), 0.25);
}

TEST(MedianStoppingTest, NoDecisionBeforeMinCompletedCurvesReachThePoint) {
  const std::vector<CompletedCurve> completed = FiveCompleted();
  EXPECT_FALSE(MedianStoppingDecision(MakeCurve({0.99, 0.99}), completed, Spec(6, 0), kEpochs));
  // Curves that have no point up to the fraction are not compared there:
  // three curves measured only from 0.5 epochs on leave five at 0.25.
  std::vector<CompletedCurve> more = completed;
  for (int i = 0; i < 3; ++i) more.emplace_back(MakeCurve({0.0, 0.0}, 0.5));
  std::optional<v1::StoppingDecision> decision =
      MedianStoppingDecision(MakeCurve({0.99}), more, Spec(6, 0), kEpochs);
  EXPECT_FALSE(decision.has_value()) << decision->DebugString();
  decision = MedianStoppingDecision(MakeCurve({0.99}), more, Spec(5, 0), kEpochs);
  ASSERT_TRUE(decision.has_value());
  EXPECT_EQ(decision->completed_compared(), 5);
  // At 0.5 all eight are compared; the median of 0.7 0.6 0.8 0.5 0.4 0 0 0
  // is (0.4 + 0.5) / 2.
  decision = MedianStoppingDecision(MakeCurve({0.46, 0.46}), more, Spec(5, 0), kEpochs);
  ASSERT_TRUE(decision.has_value());
  EXPECT_DOUBLE_EQ(decision->epoch_fraction(), 0.5);
  EXPECT_EQ(decision->completed_compared(), 8);
  EXPECT_NEAR(decision->threshold(), 0.45, 1e-12);
}

TEST(MedianStoppingTest, TheDecisionDoesNotDependOnTheOrderOfTheCompletedCurves) {
  std::vector<CompletedCurve> completed = FiveCompleted();
  const Curve curve = MakeCurve({0.75, 0.62, 0.6});
  const std::optional<v1::StoppingDecision> first =
      MedianStoppingDecision(curve, completed, Spec(5, 0.5), kEpochs);
  ASSERT_TRUE(first.has_value());
  std::reverse(completed.begin(), completed.end());
  const std::optional<v1::StoppingDecision> second =
      MedianStoppingDecision(curve, completed, Spec(5, 0.5), kEpochs);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->SerializeAsString(), second->SerializeAsString());
}

v1::TrainingSpec Training(int epochs, int points_per_epoch) {
  v1::TrainingSpec training;
  training.set_epochs(epochs);
  if (points_per_epoch > 0)
    training.mutable_learning_curve()->set_points_per_epoch(points_per_epoch);
  return training;
}

TEST(MedianStoppingTest, CurvesFromWorkersAreChecked) {
  const v1::TrainingSpec training = Training(2, 4);
  EXPECT_EQ(MaxCurvePoints(training), 8);
  EXPECT_TRUE(CheckCurve(MakeCurve({0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2}), training).ok());
  EXPECT_TRUE(CheckCurve(Curve(), Training(2, 0)).ok());

  EXPECT_THAT(CheckCurve(MakeCurve({0.5}), Training(2, 0)).message(),
              HasSubstr("measures no learning curve"));
  EXPECT_THAT(CheckCurve(MakeCurve(std::vector<double>(9, 0.5)), training).message(),
              HasSubstr("9 points"));
  Curve curve = MakeCurve({0.9, 0.8, 0.7});
  curve[2].set_epoch_fraction(0.5);
  EXPECT_THAT(CheckCurve(curve, training).message(), HasSubstr("curve[2].epoch_fraction (0.5)"));
  curve = MakeCurve({0.9});
  curve[0].set_epoch_fraction(2.5);
  EXPECT_THAT(CheckCurve(curve, training).message(), HasSubstr("<= 2 (training.epochs)"));
  curve = MakeCurve({0.9});
  curve[0].set_epoch_fraction(0);
  EXPECT_THAT(CheckCurve(curve, training).message(), HasSubstr("curve[0].epoch_fraction"));
  curve = MakeCurve({0.9, std::nan("")});
  EXPECT_THAT(CheckCurve(curve, training).message(), HasSubstr("curve[1].validation_error"));
  EXPECT_THAT(CheckCurve(MakeCurve({1.5}), training).message(), HasSubstr("must be in [0, 1]"));
  curve = MakeCurve({0.9});
  curve[0].set_training_seconds(-1);
  EXPECT_THAT(CheckCurve(curve, training).message(), HasSubstr("curve[0].training_seconds"));
}

TEST(MedianStoppingTest, CurveUpToKeepsThePointsUpToTheDecision) {
  const Curve curve = MakeCurve({0.9, 0.8, 0.7, 0.6});
  const Curve kept = CurveUpTo(curve, 0.5);
  ASSERT_EQ(kept.size(), 2);
  EXPECT_DOUBLE_EQ(kept[1].epoch_fraction(), 0.5);
  EXPECT_DOUBLE_EQ(kept[1].training_seconds(), 20);
}

}  // namespace
}  // namespace unas::search
