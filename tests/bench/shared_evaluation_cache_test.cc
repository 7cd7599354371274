// The comparison benchmark's evaluation cache: a candidate is trained once,
// on the fixed data split with a seed of its own, whatever run or process
// asks; failures of the candidate itself are shared, the worker's are not.
#include "bench/search/shared_evaluation_cache.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <vector>

#include "common/search_space/fingerprint.h"
#include "coordinator/core/candidate_identity.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::bench {
namespace {

using coordinator::testing::Acquire;
using coordinator::testing::FakeClock;
using coordinator::testing::MakeCoordinator;
using coordinator::testing::Register;
using coordinator::testing::SmallSpec;
using coordinator::testing::TempDbPath;
using coordinator::testing::TestName;

// Records what it was asked to train; its "error" is a function of the seed.
class RecordingEvaluator : public worker::Evaluator {
 public:
  absl::StatusOr<v1::EvaluationResult> Evaluate(const v1::Task& task,
                                                const worker::EvaluationObservers&,
                                                const std::atomic<bool>&) override {
    seen.push_back(task);
    if (!next_error.ok()) return next_error;
    v1::EvaluationResult result;
    result.set_validation_error(static_cast<double>(task.seed() % 1000) / 1000.0);
    result.set_training_seconds(12.5);
    result.set_trained_weights("megabytes of weights");
    return result;
  }
  std::vector<v1::Task> seen;
  absl::Status next_error = absl::OkStatus();
};

class SharedEvaluationCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("shared_evaluation_cache_" + TestName() + "_" + std::to_string(getpid()));
    std::filesystem::remove_all(directory_);
    auto c = MakeCoordinator(TempDbPath(TestName()), &clock_);
    ASSERT_TRUE(c->SubmitJob(SmallSpec(2)).ok());
    // Two workers, one task each: two different networks.
    for (const char* worker : {"w1", "w2"}) {
      std::optional<v1::Task> task = Acquire(*c, Register(*c, worker));
      ASSERT_TRUE(task.has_value());
      tasks_.push_back(*task);
    }
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  uint64_t Identity(const v1::Task& task) {
    const DataShape shape{task.input_shape().height(), task.input_shape().width(),
                          task.input_shape().channels(), task.num_classes()};
    return coordinator::CandidateFingerprint(task.architecture(), shape, std::nullopt);
  }

  FakeClock clock_;
  std::filesystem::path directory_;
  std::vector<v1::Task> tasks_;
  std::atomic<bool> stop_{false};
};

TEST_F(SharedEvaluationCacheTest, TrainsACandidateOnceWithItsOwnSeedOnTheFixedSplit) {
  RecordingEvaluator inner;
  SharedEvaluationCache cache(inner, directory_.string(), /*data_seed=*/77);
  // The same network proposed by another run: other job seed, other task seed.
  v1::Task again = tasks_[0];
  again.set_job_seed(tasks_[0].job_seed() + 5);
  again.set_seed(tasks_[0].seed() + 9);

  absl::StatusOr<v1::EvaluationResult> first = cache.Evaluate(tasks_[0], {}, stop_);
  absl::StatusOr<v1::EvaluationResult> second = cache.Evaluate(again, {}, stop_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(inner.seen.size(), 1u) << "trained once";
  EXPECT_EQ(inner.seen[0].job_seed(), 77u) << "one data split for every run";
  EXPECT_EQ(inner.seen[0].seed(), Identity(tasks_[0])) << "a training seed of the network's own";
  EXPECT_EQ(second->validation_error(), first->validation_error());
  EXPECT_EQ(second->training_seconds(), 12.5) << "the virtual clock sees the original's time";
  EXPECT_TRUE(second->trained_weights().empty()) << "weights are not kept";
  EXPECT_EQ(cache.trained(), 1);
  EXPECT_EQ(cache.reused(), 1);

  ASSERT_TRUE(cache.Evaluate(tasks_[1], {}, stop_).ok());
  EXPECT_EQ(inner.seen.size(), 2u) << "a different network is trained";
}

TEST_F(SharedEvaluationCacheTest, AnotherProcessOrRerunReusesStoredResults) {
  RecordingEvaluator first_inner, second_inner;
  {
    SharedEvaluationCache cache(first_inner, directory_.string(), 1);
    ASSERT_TRUE(cache.Evaluate(tasks_[0], {}, stop_).ok());
  }
  SharedEvaluationCache rerun(second_inner, directory_.string(), 1);
  ASSERT_TRUE(rerun.Evaluate(tasks_[0], {}, stop_).ok());
  EXPECT_TRUE(second_inner.seen.empty());
}

TEST_F(SharedEvaluationCacheTest, CandidateFailuresAreSharedWorkerFailuresAreRetried) {
  RecordingEvaluator inner;
  SharedEvaluationCache cache(inner, directory_.string(), 1);
  inner.next_error = absl::UnavailableError("out of memory on this worker");
  EXPECT_TRUE(absl::IsUnavailable(cache.Evaluate(tasks_[0], {}, stop_).status()));
  inner.next_error = absl::InvalidArgumentError("the network cannot be built");
  absl::StatusOr<v1::EvaluationResult> failed = cache.Evaluate(tasks_[0], {}, stop_);
  EXPECT_TRUE(absl::IsInvalidArgument(failed.status()));
  EXPECT_EQ(inner.seen.size(), 2u) << "a worker's error is not stored: tried again";
  inner.next_error = absl::OkStatus();
  absl::StatusOr<v1::EvaluationResult> shared = cache.Evaluate(tasks_[0], {}, stop_);
  EXPECT_TRUE(absl::IsInvalidArgument(shared.status()));
  EXPECT_EQ(shared.status().message(), "the network cannot be built");
  EXPECT_EQ(inner.seen.size(), 2u) << "the candidate's own failure is shared";
}

TEST_F(SharedEvaluationCacheTest, TakesOverTheLockOfAProcessThatDied) {
  RecordingEvaluator inner;
  SharedEvaluationCache cache(inner, directory_.string(), 1);
  // A pid far above pid_max: no such process.
  std::ofstream(directory_ / (FingerprintHex(Identity(tasks_[0])) + ".lock")) << "2147483646";
  ASSERT_TRUE(cache.Evaluate(tasks_[0], {}, stop_).ok());
  EXPECT_EQ(inner.seen.size(), 1u);
  EXPECT_FALSE(
      std::filesystem::exists(directory_ / (FingerprintHex(Identity(tasks_[0])) + ".lock")));
}

}  // namespace
}  // namespace unas::bench
