// The trainer's learning curve on real Fashion-MNIST (TrainingSpec.
// learning_curve, docs/training.md "Learning curves"): its points, that it
// repeats, that measuring it leaves the training exactly as it was (batch
// norm recalibration, dropout, pruning), and that a curve callback's error
// stops the training at that point.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/worker/worker_test_util.h"
#include "worker/train_candidate.h"

namespace unas::worker {
namespace {

using testing::Arch;

// A batch-normalised convolution and a hidden dense layer (which the job's
// dropout precedes): the two things a mid-epoch measurement could disturb.
constexpr char kCurveCnn[] = R"pb(
  cnn {
    conv_blocks {
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 8
        stride2: true
        has_bn: true
        has_relu: true
      }
    }
    pooling { type: POOL_TYPE_AVG pool_size: 2 }
    dense_blocks { units: 16 }
  })pb";

// 2,000 training images (32 batches of 64 an epoch), 500 validation images.
const Dataset& Data() {
  static const Dataset* data =
      new Dataset(testing::Truncated(testing::FashionSubset(6000, 500), 2000, 500, 500));
  return *data;
}

// A 2-epoch job with dropout 0.3; `extra` is appended to its training.
TrainRequest Request(const std::string& extra) {
  TrainRequest request;
  request.spec = testing::FashionJob(
      absl::StrCat("optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.003 } epochs: 2 "
                   "batch_size: 64 augmentation { enabled: false } device: DEVICE_CPU ",
                   extra),
      /*max_test=*/500, /*seed=*/5);
  request.spec.mutable_search_space()->set_dropout(0.3);
  request.architecture = Arch(kCurveCnn);
  request.dataset = &Data();
  request.threads = 1;  // ctest runs two test processes on the two cores
  request.quantize = false;
  return request;
}

constexpr char kCurve[] = "learning_curve { points_per_epoch: 4 validation_images: 256 } ";

TEST(LearningCurve, PointsPerEpochTimesEpochsEvenlySpacedAndRepeatable) {
  TrainRequest request = Request(kCurve);
  std::vector<v1::CurvePoint> observed;
  request.on_curve = [&](const v1::CurvePoint& point) {
    observed.push_back(point);
    return absl::OkStatus();
  };
  absl::StatusOr<v1::EvaluationResult> first = TrainCandidate(request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->curve_size(), 8) << "4 points per epoch, 2 epochs";
  ASSERT_EQ(observed.size(), 8u);
  double previous_seconds = 0;
  for (int i = 0; i < 8; ++i) {
    const v1::CurvePoint& point = first->curve(i);
    EXPECT_DOUBLE_EQ(point.epoch_fraction(), (i + 1) * 0.25);
    EXPECT_GE(point.validation_error(), 0.0);
    EXPECT_LE(point.validation_error(), 1.0);
    EXPECT_GE(point.training_seconds(), previous_seconds);
    previous_seconds = point.training_seconds();
    EXPECT_EQ(observed[static_cast<size_t>(i)].SerializeAsString(), point.SerializeAsString());
    // 256 images: every error is a whole number of them.
    const double wrong = point.validation_error() * 256;
    EXPECT_NEAR(wrong, std::round(wrong), 1e-6);
  }
  EXPECT_GT(first->curve(0).training_seconds(), 0);
  EXPECT_LE(first->curve(7).training_seconds(), first->training_seconds());
  EXPECT_LT(first->curve(7).validation_error(), first->curve(0).validation_error())
      << "the network learns";

  // The same request again: the same curve.
  request.on_curve = nullptr;
  absl::StatusOr<v1::EvaluationResult> second = TrainCandidate(request);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->curve_size(), 8);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(second->curve(i).epoch_fraction(), first->curve(i).epoch_fraction());
    EXPECT_EQ(second->curve(i).validation_error(), first->curve(i).validation_error()) << i;
  }
}

// The mid-epoch points recalibrate batch normalisation (training mode, so
// dropout draws random numbers) and evaluate; all of it is undone, so the
// trained weights and every reported number are those of a run without a
// curve, with recalibration on (the default) and off.
TEST(LearningCurve, MeasuringItDoesNotChangeTheTraining) {
  for (const std::string recalibration : {"", "batch_norm_recalibration_images: 0 "}) {
    SCOPED_TRACE(recalibration);
    absl::StatusOr<v1::EvaluationResult> without = TrainCandidate(Request(recalibration));
    absl::StatusOr<v1::EvaluationResult> with =
        TrainCandidate(Request(absl::StrCat(recalibration, kCurve)));
    ASSERT_TRUE(without.ok()) << without.status();
    ASSERT_TRUE(with.ok()) << with.status();
    EXPECT_EQ(without->curve_size(), 0);
    EXPECT_EQ(with->curve_size(), 8);
    EXPECT_EQ(with->validation_error(), without->validation_error());
    EXPECT_EQ(with->test_error(), without->test_error());
    ASSERT_EQ(with->epochs_size(), 2);
    for (int e = 0; e < 2; ++e) {
      EXPECT_EQ(with->epochs(e).train_loss(), without->epochs(e).train_loss());
      EXPECT_EQ(with->epochs(e).validation_loss(), without->epochs(e).validation_loss());
    }
    EXPECT_EQ(with->trained_weights(), without->trained_weights());
  }
}

// DPF pruning masks the weights for every evaluation; a mid-epoch point
// does too, and the next batch trains the dense weights again.
TEST(LearningCurve, PruningJobsMeasureItWithoutChangingTheTraining) {
  const std::string pruning =
      "pruning { structured: true start_epoch: 1 finish_epoch: 2 mask_update_period: 4 } ";
  TrainRequest plain = Request(pruning);
  plain.sparsity = 0.5;
  TrainRequest curved = Request(absl::StrCat(pruning, kCurve));
  curved.sparsity = 0.5;
  absl::StatusOr<v1::EvaluationResult> without = TrainCandidate(plain);
  absl::StatusOr<v1::EvaluationResult> with = TrainCandidate(curved);
  ASSERT_TRUE(without.ok()) << without.status();
  ASSERT_TRUE(with.ok()) << with.status();
  ASSERT_EQ(with->curve_size(), 8);
  EXPECT_GT(with->achieved_sparsity(), 0.2);
  EXPECT_EQ(with->validation_error(), without->validation_error());
  EXPECT_EQ(with->achieved_sparsity(), without->achieved_sparsity());
  EXPECT_EQ(with->trained_weights(), without->trained_weights());
}

// The worker's evaluator answers a curve point with an error once the
// coordinator has stopped the candidate: training ends right there.
TEST(LearningCurve, ACurveCallbackErrorStopsTrainingAtThatPoint) {
  TrainRequest request = Request(kCurve);
  int points = 0;
  std::vector<v1::EpochRecord> epochs;
  request.on_curve = [&](const v1::CurvePoint&) {
    return ++points == 3 ? absl::CancelledError("stopped by the automated stopping rule")
                         : absl::OkStatus();
  };
  absl::StatusOr<v1::EvaluationResult> result =
      TrainCandidate(request, [&](const v1::EpochRecord& record) {
        epochs.push_back(record);
        return absl::OkStatus();
      });
  EXPECT_TRUE(absl::IsCancelled(result.status())) << result.status();
  EXPECT_EQ(points, 3);
  EXPECT_TRUE(epochs.empty()) << "stopped three quarters into the first epoch";
}

// The job spec loader refuses it first; a task built by hand reaches the
// trainer, which must refuse it too.
TEST(LearningCurve, InvalidPointsPerEpochIsRefused) {
  TrainRequest request = Request(kCurve);
  request.spec.mutable_training()->mutable_learning_curve()->set_points_per_epoch(0);
  absl::StatusOr<v1::EvaluationResult> result = TrainCandidate(request);
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
}

}  // namespace
}  // namespace unas::worker
