// Speech Commands v0.02 (docs/unas_original.md §9, docs/datasets.md): one folder
// of 16 kHz mono WAV clips per word, _background_noise_/ with longer noise
// recordings, optionally validation_list.txt and testing_list.txt. Twelve
// classes: 0 silence, 1 unknown (any other word), 2-11 the ten words below.
//
// The inputs are 98x40 MFCCs (worker/data/mfcc.h) of one second of audio.
// Training clips are augmented (random time shift, background noise mixed
// in) anew every epoch, so their features are computed per batch from the
// WAV files (SpeechAudio); validation and test features are computed once
// when the dataset is loaded.
#ifndef UNAS_WORKER_DATA_SPEECH_COMMANDS_H_
#define UNAS_WORKER_DATA_SPEECH_COMMANDS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/search_space/rng.h"
#include "worker/data/image_set.h"
#include "worker/data/mfcc.h"

namespace unas::worker {

// Labels 2-11, in this (alphabetical) order.
inline constexpr std::array<const char*, 10> kSpeechWords = {"down", "go",    "left", "no", "off",
                                                             "on",   "right", "stop", "up", "yes"};
inline constexpr int kSpeechClasses = 12;
inline constexpr int32_t kSilenceLabel = 0;
inline constexpr int32_t kUnknownLabel = 1;
inline constexpr char kBackgroundNoiseFolder[] = "_background_noise_";

// The original's settings (TensorFlow's speech_commands/input_data.py).
inline constexpr double kSpeechValidationPercent = 10;
inline constexpr double kSpeechTestPercent = 10;
inline constexpr int kSilencePercent = 10;  // of each split's word clips
inline constexpr int kUnknownPercent = 10;
inline constexpr int kTimeShiftSamples = 1600;  // 100 ms each way
inline constexpr double kBackgroundFrequency = 0.8;
inline constexpr double kBackgroundVolume = 0.1;

enum class SpeechSplit { kTrain, kValidation, kTest };

// The split rule of §9 (TensorFlow's which_set): the file name with any
// "_nohash_..." suffix removed, SHA-1, the digest as an integer mod 2^27,
// times 100 / (2^27 - 1). Only the base name counts, so all clips of one
// speaker land in the same split.
double SpeechHashPercentage(absl::string_view file_name);
// < 10 validation, < 20 test, else train.
SpeechSplit SpeechHashSplit(absl::string_view file_name);

// A clip: its WAV file and label; silence clips have no file.
struct SpeechClip {
  std::string path;
  int32_t label = 0;
};

struct SpeechClipLists {
  std::vector<SpeechClip> train, validation, test;
  std::vector<std::string> background_files;
  bool used_list_files = false;  // validation_list.txt / testing_list.txt
};

// Lists the dataset. Every word folder is read (subfolders of data_dir not
// starting with '_'); the ten words' folders and _background_noise_ (with at
// least one .wav) must exist. The split comes from validation_list.txt and
// testing_list.txt ("word/file.wav" lines) when both exist, else from
// SpeechHashSplit. Each split then gets ceil(10 %) of its word-clip count as
// silence clips and as many unknown clips drawn from its other-word clips,
// and is shuffled; both draws are seeded with `seed`.
absl::StatusOr<SpeechClipLists> ListSpeechCommands(const std::string& data_dir, uint64_t seed);

// The background recordings, whole, as floats.
struct BackgroundNoise {
  std::vector<std::string> paths;
  std::vector<std::vector<float>> samples;
};
// Each file must be 16 kHz mono and longer than one second.
absl::StatusOr<std::shared_ptr<const BackgroundNoise>> ReadBackgroundNoise(
    const std::vector<std::string>& paths);

// How one clip is turned into one second of audio.
struct ClipMix {
  int shift = 0;        // samples: out[t] = clip[t - shift], zero fill
  int background = -1;  // background recording, -1 = none
  int64_t background_offset = 0;
  float background_volume = 0;
};

// The features' standardisation: x = (mfcc - mean) / stddev.
struct FeatureNormalisation {
  float mean = 0;
  float stddev = 1;
};

// Clips with the audio needed to make their features: the training set's
// per-batch source. Thread-safe (const methods only).
class SpeechAudio {
 public:
  SpeechAudio(std::vector<SpeechClip> clips, std::shared_ptr<const BackgroundNoise> noise,
              FeatureNormalisation normalisation = {})
      : clips_(std::move(clips)), noise_(std::move(noise)), normalisation_(normalisation) {}

  int64_t size() const { return static_cast<int64_t>(clips_.size()); }
  const SpeechClip& clip(int64_t i) const { return clips_[i]; }
  const std::vector<SpeechClip>& clips() const { return clips_; }

  // The random choices for clip i, in the original's order: with `augment`
  // a shift uniform in [-1600, 1600) and a background slice (random file,
  // random offset) mixed in at volume U(0, 0.1) with probability 0.8;
  // silence clips always get a background slice at volume U(0, 1).
  ClipMix Draw(int64_t i, bool augment, Rng& rng) const;

  // kClipSamples samples of clip i mixed as `mix` says, clipped to [-1, 1].
  absl::Status Mix(int64_t i, const ClipMix& mix, float* audio) const;

  // Mix, then the kMfccFrames x kMfccCoefficients MFCCs, standardised.
  absl::Status Features(int64_t i, const ClipMix& mix, MfccExtractor& mfcc, float* out) const;

  const FeatureNormalisation& normalisation() const { return normalisation_; }

 private:
  std::vector<SpeechClip> clips_;
  std::shared_ptr<const BackgroundNoise> noise_;
  FeatureNormalisation normalisation_;
};

struct SpeechCommandsData {
  ImageSet train;       // labels only: the features come from train_audio per batch
  ImageSet validation;  // 98x40x1 standardised features
  ImageSet test;
  std::shared_ptr<const SpeechAudio> train_audio;
  // Mean and standard deviation of all MFCC values of (up to 1,000)
  // un-augmented training clips; every feature is (mfcc - mean) / stddev.
  FeatureNormalisation normalisation;
  bool used_list_files = false;
};

struct SpeechOptions {
  bool with_validation = true;     // false: the validation clips are dropped
  int64_t max_train_examples = 0;  // 0 = all; applied before any file is read
  int64_t max_test_examples = 0;
};

// ListSpeechCommands, then: every training file checked (ProbeWav), the
// feature statistics measured, the validation and test features computed
// (their silence clips' background drawn once, seeded).
absl::StatusOr<SpeechCommandsData> LoadSpeechCommands(const std::string& data_dir,
                                                      const SpeechOptions& options, uint64_t seed);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_SPEECH_COMMANDS_H_
