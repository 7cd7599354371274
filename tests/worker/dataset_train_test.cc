// The LibTorch side of the Chars74K, Speech Commands and Visual Wake Words
// loaders: a small CNN trains on each through the real training loop, and
// Speech Commands' per-batch features are a function of the seed alone.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>

#include "common/job_spec/loader.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/worker/dataset_files.h"
#include "worker/batch.h"
#include "worker/model.h"
#include "worker/trainer.h"

namespace unas::worker {
namespace {

constexpr char kSmallCnn[] = R"pb(
  cnn {
    conv_blocks {
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 4
        stride2: true
        has_bn: true
        has_relu: true
      }
    }
    pooling { type: POOL_TYPE_AVG pool_size: 2 }
    dense_blocks { units: 16 }
  })pb";

// One epoch on `dataset_text`'s data; checks the result is sane.
void TrainsOneEpoch(const std::string& dataset_text) {
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpec(
      "name: \"t\" dataset { " + dataset_text +
          " } search_space { kind: SEARCH_SPACE_KIND_CNN } bounds { error: 0.5 } "
          "training { optimizer { kind: OPTIMIZER_KIND_ADAMW learning_rate: 0.01 } epochs: 2 "
          "batch_size: 8 device: DEVICE_CPU } seed: 3",
      ProtoFormat::kTextproto, "test");
  ASSERT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<Dataset> data = LoadDataset(spec->dataset(), spec->seed());
  ASSERT_TRUE(data.ok()) << data.status();
  v1::Architecture arch;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kSmallCnn, &arch));
  at::set_num_threads(1);
  torch::manual_seed(1);
  absl::StatusOr<UnasNet> net = BuildNetwork(arch, data->shape());
  ASSERT_TRUE(net.ok()) << net.status();
  const at::Tensor before = (*net)->parameters()[0].clone();
  TrainerOptions options;
  options.training = spec->training();
  options.seed = 3;
  absl::StatusOr<v1::EvaluationResult> result = Train(*net, *data, options, c10::kCPU);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->epochs_size(), 2);
  for (const v1::EpochRecord& e : result->epochs()) {
    EXPECT_TRUE(std::isfinite(e.train_loss())) << dataset_text;
    EXPECT_TRUE(std::isfinite(e.validation_loss())) << dataset_text;
  }
  EXPECT_GE(result->test_error(), 0.0);
  EXPECT_LE(result->test_error(), 1.0);
  EXPECT_FALSE(at::equal(before, (*net)->parameters()[0])) << "no training step happened";
}

TEST(NewDatasets, Chars74kTrains) {
  testing::TempDir dir("train_chars74k");
  testing::MakeChars74kTree(dir.path(), 2);
  TrainsOneEpoch("name: DATASET_NAME_CHARS74K data_dir: \"" + dir.path().string() +
                 "\" image_size { height: 16 width: 16 }");
}

TEST(NewDatasets, VisualWakeWordsTrains) {
  testing::TempDir dir("train_vww");
  testing::MakeVwwTree(dir.path(), {""}, 16);
  TrainsOneEpoch("name: DATASET_NAME_VISUAL_WAKE_WORDS data_dir: \"" + dir.path().string() +
                 "\" image_size { height: 24 width: 24 }");
}

class SpeechTrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("train_speech");
    testing::SpeechTree tree;
    tree.train_speakers = 2;
    testing::MakeSpeechCommandsTree(dir_->path(), tree);
  }
  static void TearDownTestSuite() { delete dir_; }
  static inline testing::TempDir* dir_ = nullptr;
};

TEST_F(SpeechTrainTest, Trains) {
  TrainsOneEpoch("name: DATASET_NAME_SPEECH_COMMANDS data_dir: \"" + dir_->path().string() + "\"");
}

TEST_F(SpeechTrainTest, BatchesDependOnTheSeedOnly) {
  v1::DatasetSpec spec;
  spec.set_name(v1::DATASET_NAME_SPEECH_COMMANDS);
  spec.set_data_dir(dir_->path().string());
  absl::StatusOr<Dataset> data = LoadDataset(spec, 0);
  ASSERT_TRUE(data.ok()) << data.status();
  Augmentation augmentation;
  augmentation.audio = true;
  const std::vector<int64_t> indices = {0, 3, 5, 7, 1, 2, 9, 11, 4};
  auto batch = [&](uint64_t seed, int threads, bool augment) {
    at::set_num_threads(threads);
    Rng rng(seed);
    BatchBuffers buffers;
    std::vector<int32_t> labels;
    absl::StatusOr<at::Tensor> x =
        TrainingBatch(*data, augmentation, augment, indices, rng, buffers, labels);
    EXPECT_TRUE(x.ok()) << x.status();
    for (size_t k = 0; k < indices.size(); ++k)
      EXPECT_EQ(labels[k], data->train.labels[indices[k]]);
    return x.ok() ? *x : at::Tensor();
  };
  const at::Tensor a = batch(7, 1, true);
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{9, 1, 98, 40}));
  EXPECT_TRUE(at::equal(a, batch(7, 2, true)));   // any thread count
  EXPECT_FALSE(at::equal(a, batch(8, 1, true)));  // another seed, other batches
  // Unaugmented word clips do not depend on the seed.
  const at::Tensor plain = batch(7, 1, false);
  const at::Tensor other = batch(8, 1, false);
  for (size_t k = 0; k < indices.size(); ++k) {
    if (data->train.labels[indices[k]] != kSilenceLabel) {
      EXPECT_TRUE(at::equal(plain[k], other[k])) << k;
    }
  }
  // A file that vanished mid-training is an error naming it.
  int64_t word = 0;
  while (data->train_audio->clip(word).path.empty()) ++word;
  const std::string path = data->train_audio->clip(word).path;
  std::filesystem::rename(path, path + ".moved");
  Rng rng(1);
  BatchBuffers buffers;
  std::vector<int32_t> labels;
  const std::vector<int64_t> one = {word};
  absl::StatusOr<at::Tensor> missing =
      TrainingBatch(*data, augmentation, true, one, rng, buffers, labels);
  std::filesystem::rename(path + ".moved", path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path), std::string::npos) << missing.status();
}

}  // namespace
}  // namespace unas::worker
