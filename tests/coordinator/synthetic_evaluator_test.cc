// The synthetic evaluator that tests and benchmarks use instead of training:
// its error and the per-epoch curve that status and the dashboard show.
#include "worker/daemon/synthetic_evaluator.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::coordinator {
namespace {

using testing::Acquire;
using testing::FakeClock;
using testing::MakeCoordinator;
using testing::Register;
using testing::SmallSpec;
using testing::TempDbPath;
using testing::TestName;

TEST(SyntheticEvaluatorTest, RecordsALearningCurveThatEndsAtItsError) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  ASSERT_TRUE(c->SubmitJob(SmallSpec(1)).ok());
  std::optional<v1::Task> task = Acquire(*c, Register(*c, "w"));
  ASSERT_TRUE(task.has_value());

  worker::SyntheticEvaluator evaluator(worker::SyntheticOptions{absl::ZeroDuration(), 3});
  std::vector<v1::EpochRecord> reported;
  std::atomic<bool> stop{false};
  worker::EvaluationObservers observers;
  observers.epoch = [&](const v1::EpochRecord& record) { reported.push_back(record); };
  absl::StatusOr<v1::EvaluationResult> result = evaluator.Evaluate(*task, observers, stop);
  ASSERT_TRUE(result.ok()) << result.status();

  ASSERT_EQ(result->epochs_size(), 3);
  ASSERT_EQ(reported.size(), 3u);
  double previous_error = 1.0;
  for (int i = 0; i < 3; ++i) {
    const v1::EpochRecord& epoch = result->epochs(i);
    EXPECT_EQ(epoch.epoch(), i + 1);
    EXPECT_EQ(reported[static_cast<size_t>(i)].validation_accuracy(), epoch.validation_accuracy());
    const double error = 1.0 - epoch.validation_accuracy();
    EXPECT_LE(error, previous_error) << "epoch " << i + 1;
    previous_error = error;
  }
  EXPECT_DOUBLE_EQ(1.0 - result->epochs(2).validation_accuracy(), result->validation_error());
  EXPECT_EQ(result->validation_error(), *worker::SyntheticError(*task));
  EXPECT_EQ(result->curve_size(), 0) << "the job's training asks for no learning curve";
}

}  // namespace
}  // namespace unas::coordinator
