// Learning-rate schedules, early stopping and class weights (Keras semantics).
#include "worker/schedule.h"

#include "gtest/gtest.h"

namespace unas::worker {
namespace {

v1::TrainingSpec Piecewise() {
  v1::TrainingSpec t;
  t.mutable_optimizer()->set_learning_rate(0.5);  // ignored with a schedule
  auto* pc = t.mutable_lr_schedule()->mutable_piecewise_constant();
  pc->add_boundaries(25);
  pc->add_boundaries(35);
  pc->add_values(0.01);
  pc->add_values(0.005);
  pc->add_values(0.001);
  return t;
}

TEST(LearningRateSchedule, PiecewiseConstantByZeroBasedEpoch) {
  LearningRateSchedule s(Piecewise());
  for (int e = 0; e < 45; ++e) {
    const double expected = e < 25 ? 0.01 : (e < 35 ? 0.005 : 0.001);
    EXPECT_DOUBLE_EQ(s.RateForEpoch(e), expected) << e;
    s.EndEpoch(1.0, 0.5);
  }
}

TEST(LearningRateSchedule, ConstantWithoutSchedule) {
  v1::TrainingSpec t;
  t.mutable_optimizer()->set_learning_rate(0.002);
  LearningRateSchedule s(t);
  for (int e = 0; e < 5; ++e) {
    EXPECT_DOUBLE_EQ(s.RateForEpoch(e), 0.002);
    s.EndEpoch(1.0 - e, 0.5);
  }
}

TEST(LearningRateSchedule, ReduceOnPlateauFollowsKeras) {
  v1::TrainingSpec t;
  t.mutable_optimizer()->set_learning_rate(1.0);
  auto* r = t.mutable_lr_schedule()->mutable_reduce_on_plateau();
  r->set_factor(0.5);
  r->set_patience(2);
  r->set_min_delta(0.01);
  r->set_min_learning_rate(0.2);
  r->set_monitor(v1::MONITORED_QUANTITY_VALIDATION_LOSS);
  LearningRateSchedule s(t);
  // Losses: improve, improve, flat (within min_delta), flat -> halve, flat,
  // flat -> halve, ... floor 0.2.
  const double losses[] = {1.0, 0.9, 0.895, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9};
  const double rates[] = {1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2};
  for (int e = 0; e < 10; ++e) {
    EXPECT_DOUBLE_EQ(s.RateForEpoch(e), rates[e]) << e;
    s.EndEpoch(losses[e], 0.0);
  }
}

TEST(LearningRateSchedule, ReduceOnPlateauMonitoringAccuracy) {
  v1::TrainingSpec t;
  t.mutable_optimizer()->set_learning_rate(0.1);
  auto* r = t.mutable_lr_schedule()->mutable_reduce_on_plateau();
  r->set_factor(0.1);
  r->set_patience(1);
  r->set_min_delta(0);
  r->set_monitor(v1::MONITORED_QUANTITY_VALIDATION_ACCURACY);
  LearningRateSchedule s(t);
  s.RateForEpoch(0);
  s.EndEpoch(5.0, 0.5);  // improvement (first value)
  EXPECT_DOUBLE_EQ(s.RateForEpoch(1), 0.1);
  s.EndEpoch(0.1, 0.6);  // accuracy up: improvement although the loss is irrelevant
  EXPECT_DOUBLE_EQ(s.RateForEpoch(2), 0.1);
  s.EndEpoch(0.1, 0.6);  // no improvement, patience 1 -> reduce
  EXPECT_NEAR(s.RateForEpoch(3), 0.01, 1e-15);
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  v1::TrainingSpec t;
  auto* e = t.mutable_early_stopping();
  e->set_patience(2);
  e->set_min_delta(0.0);
  e->set_monitor(v1::MONITORED_QUANTITY_VALIDATION_ACCURACY);
  EarlyStopping stop(t);
  EXPECT_FALSE(stop.ShouldStop(0, 0.5));
  EXPECT_FALSE(stop.ShouldStop(0, 0.6));
  EXPECT_FALSE(stop.ShouldStop(0, 0.6));  // wait 1
  EXPECT_FALSE(stop.ShouldStop(0, 0.7));  // improvement resets
  EXPECT_FALSE(stop.ShouldStop(0, 0.65));
  EXPECT_TRUE(stop.ShouldStop(0, 0.69));
}

TEST(EarlyStopping, DisabledWithoutSpec) {
  EarlyStopping stop{v1::TrainingSpec()};
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(stop.ShouldStop(1.0, 0.1));
}

TEST(ClassWeights, Balanced) {
  // 6 of class 0, 3 of class 1, 1 of class 2, none of class 3.
  std::vector<int32_t> labels = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2};
  std::vector<double> w = BalancedClassWeights(labels, 4);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_DOUBLE_EQ(w[0], 10.0 / (4 * 6));
  EXPECT_DOUBLE_EQ(w[1], 10.0 / (4 * 3));
  EXPECT_DOUBLE_EQ(w[2], 10.0 / (4 * 1));
  EXPECT_DOUBLE_EQ(w[3], 1.0);
}

}  // namespace
}  // namespace unas::worker
