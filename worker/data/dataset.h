// Datasets as the trainer sees them: train / validation / test images (uint8,
// NHWC) or float features with integer labels, the class count and the
// per-channel preprocessing. docs/datasets.md describes formats, locations,
// splits and memory.
#ifndef UNAS_WORKER_DATA_DATASET_H_
#define UNAS_WORKER_DATA_DATASET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/space.h"
#include "unas/v1/job_spec.pb.h"
#include "worker/data/image_set.h"
#include "worker/data/speech_commands.h"

namespace unas::worker {

// x = (byte / 255 - mean[c]) / stddev[c] for pixels, (value - mean[c]) /
// stddev[c] for float features; empty vectors mean 0 and 1.
struct Preprocessing {
  std::vector<float> mean;
  std::vector<float> stddev;
};

struct Dataset {
  v1::DatasetName name = v1::DATASET_NAME_UNSPECIFIED;
  std::string data_dir;  // where the files were read from
  int num_classes = 0;   // 2 for binary variants
  ImageSet train;
  ImageSet validation;  // empty when validation_fraction is 0
  ImageSet test;
  Preprocessing preprocessing;
  // Speech Commands: the training inputs are computed per batch from the
  // audio (augmentation changes them every epoch); `train` then holds only
  // the labels (train.labels[i] is train_audio->clip(i)'s). Null otherwise.
  // worker/batch.h's TrainingBatch handles both kinds.
  std::shared_ptr<const SpeechAudio> train_audio;
  // Speech Commands: every stored or computed feature is already
  // (mfcc - mean) / stddev with these (so `preprocessing` is the identity);
  // a deployed model must standardise its MFCCs the same way.
  FeatureNormalisation feature_normalisation;

  DataShape shape() const {
    return DataShape{train.height, train.width, train.channels, num_classes};
  }
};

// The CIFAR-10 channel statistics the original normalises with (§9).
inline constexpr float kCifarMean[3] = {0.4914f, 0.4822f, 0.4465f};
inline constexpr float kCifarStd[3] = {0.2023f, 0.1994f, 0.2010f};

// Loads the dataset `spec` names from spec.data_dir (or the dataset's default
// folder), maps labels for the binary variant, holds out the stratified
// validation split (seeded with split_seed; spec.validation_fraction, 0.1
// when absent) and keeps the first max_train_examples / max_test_examples.
// Errors name the file. Chars74K, Speech Commands and Visual Wake Words have
// their own splits (docs/datasets.md): fixed stratified counts, the hash
// rule, and folders or a stratified split.
absl::StatusOr<Dataset> LoadDataset(const v1::DatasetSpec& spec, uint64_t split_seed);

// The binary variant's label for an original label (§9): MNIST digit < 5,
// CIFAR-10 class < 5 (airplane ... deer) -> 1, else 0.
int32_t BinaryLabel(v1::DatasetName name, int32_t label);

// The file names looked for in data_dir, in order of preference, for IDX
// datasets (`split` "train" or "t10k", `kind` "images" or "labels").
std::vector<std::string> IdxCandidateNames(const std::string& split, const std::string& kind);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_DATASET_H_
