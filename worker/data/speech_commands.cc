#include "worker/data/speech_commands.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"
#include "worker/data/sha1.h"
#include "worker/data/wav.h"

namespace unas::worker {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kSelectSeedSalt = 0x3c6ef372fe94f82bULL;
constexpr uint64_t kEvaluationSeedSalt = 0xa54ff53a5f1d36f1ULL;
constexpr int64_t kStatisticsClips = 1000;

bool IsDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// Sorted .wav files directly in `dir`.
absl::StatusOr<std::vector<fs::path>> WavFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) &&
        absl::EndsWithIgnoreCase(it->path().filename().string(), ".wav")) {
      files.push_back(it->path());
    }
  }
  if (ec)
    return absl::NotFoundError(absl::StrCat(dir.string(), ": cannot list (", ec.message(), ")"));
  std::sort(files.begin(), files.end());
  return files;
}

// "word/file.wav" lines of a split list.
absl::StatusOr<std::set<std::string>> ReadList(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open"));
  std::set<std::string> entries;
  std::string line;
  while (std::getline(in, line)) {
    std::string entry(absl::StripAsciiWhitespace(line));
    if (!entry.empty()) entries.insert(entry);
  }
  return entries;
}

int64_t CeilPercent(int64_t n, int percent) { return (n * percent + 99) / 100; }

int32_t WordLabel(const std::string& word) {
  for (size_t i = 0; i < kSpeechWords.size(); ++i) {
    if (word == kSpeechWords[i]) return static_cast<int32_t>(i) + 2;
  }
  return kUnknownLabel;
}

// Features of every clip of `audio`, mixed without augmentation (silence
// clips' backgrounds drawn from rng, in clip order).
absl::StatusOr<ImageSet> ComputeFeatures(const SpeechAudio& audio, Rng& rng) {
  ImageSet set;
  set.height = kMfccFrames;
  set.width = kMfccCoefficients;
  set.channels = 1;
  set.features.resize(audio.size() * set.image_bytes());
  set.labels.reserve(audio.size());
  MfccExtractor mfcc;
  for (int64_t i = 0; i < audio.size(); ++i) {
    const ClipMix mix = audio.Draw(i, /*augment=*/false, rng);
    UNAS_RETURN_IF_ERROR(audio.Features(i, mix, mfcc, set.mutable_example_features(i)));
    set.labels.push_back(audio.clip(i).label);
  }
  return set;
}

}  // namespace

double SpeechHashPercentage(absl::string_view file_name) {
  const size_t nohash = file_name.find("_nohash_");
  const absl::string_view hashed =
      nohash == absl::string_view::npos ? file_name : file_name.substr(0, nohash);
  const std::array<uint8_t, 20> digest = Sha1(hashed);
  // The digest as a big integer mod 2^27: its last 27 bits.
  const uint32_t low = uint32_t{digest[16]} << 24 | uint32_t{digest[17]} << 16 |
                       uint32_t{digest[18]} << 8 | uint32_t{digest[19]};
  constexpr uint32_t kMaxPerClass = (1u << 27) - 1;
  return static_cast<double>(low & kMaxPerClass) * (100.0 / kMaxPerClass);
}

SpeechSplit SpeechHashSplit(absl::string_view file_name) {
  const double p = SpeechHashPercentage(file_name);
  if (p < kSpeechValidationPercent) return SpeechSplit::kValidation;
  if (p < kSpeechValidationPercent + kSpeechTestPercent) return SpeechSplit::kTest;
  return SpeechSplit::kTrain;
}

absl::StatusOr<SpeechClipLists> ListSpeechCommands(const std::string& data_dir, uint64_t seed) {
  const fs::path root = data_dir;
  SpeechClipLists lists;
  const fs::path background = root / kBackgroundNoiseFolder;
  if (!IsDir(background)) {
    return absl::NotFoundError(absl::StrCat(background.string(),
                                            ": missing (Speech Commands needs the background noise "
                                            "recordings for its silence class)"));
  }
  UNAS_ASSIGN_OR_RETURN(std::vector<fs::path> noise, WavFiles(background));
  if (noise.empty())
    return absl::NotFoundError(absl::StrCat(background.string(), ": no .wav files"));
  for (const fs::path& p : noise) lists.background_files.push_back(p.string());
  for (const char* word : kSpeechWords) {
    if (!IsDir(root / word)) {
      return absl::NotFoundError(
          absl::StrCat((root / word).string(), ": missing (one folder per Speech Commands word)"));
    }
  }

  std::set<std::string> validation_list, test_list;
  lists.used_list_files =
      fs::exists(root / "validation_list.txt") && fs::exists(root / "testing_list.txt");
  if (lists.used_list_files) {
    UNAS_ASSIGN_OR_RETURN(validation_list, ReadList(root / "validation_list.txt"));
    UNAS_ASSIGN_OR_RETURN(test_list, ReadList(root / "testing_list.txt"));
  }

  // Per split: the ten words' clips and the other words' clips.
  std::map<SpeechSplit, std::vector<SpeechClip>> words, unknown;
  std::vector<fs::path> folders;
  std::error_code ec;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec) && !absl::StartsWith(name, "_")) folders.push_back(it->path());
  }
  if (ec) return absl::NotFoundError(absl::StrCat(data_dir, ": cannot list (", ec.message(), ")"));
  std::sort(folders.begin(), folders.end());
  for (const fs::path& folder : folders) {
    const std::string word = absl::AsciiStrToLower(folder.filename().string());
    const int32_t label = WordLabel(word);
    UNAS_ASSIGN_OR_RETURN(std::vector<fs::path> files, WavFiles(folder));
    for (const fs::path& file : files) {
      const std::string name = file.filename().string();
      SpeechSplit split;
      if (lists.used_list_files) {
        const std::string entry = absl::StrCat(folder.filename().string(), "/", name);
        split = validation_list.count(entry) ? SpeechSplit::kValidation
                : test_list.count(entry)     ? SpeechSplit::kTest
                                             : SpeechSplit::kTrain;
      } else {
        split = SpeechHashSplit(name);
      }
      (label == kUnknownLabel ? unknown : words)[split].push_back(SpeechClip{file.string(), label});
    }
  }

  Rng rng(seed ^ kSelectSeedSalt);
  for (SpeechSplit split : {SpeechSplit::kTrain, SpeechSplit::kValidation, SpeechSplit::kTest}) {
    std::vector<SpeechClip> clips = std::move(words[split]);
    const int64_t n = static_cast<int64_t>(clips.size());
    for (int64_t i = 0; i < CeilPercent(n, kSilencePercent); ++i) {
      clips.push_back(SpeechClip{"", kSilenceLabel});
    }
    std::vector<SpeechClip>& others = unknown[split];
    rng.Shuffle(others);
    const int64_t take = std::min<int64_t>(CeilPercent(n, kUnknownPercent), others.size());
    clips.insert(clips.end(), others.begin(), others.begin() + take);
    rng.Shuffle(clips);
    (split == SpeechSplit::kTrain        ? lists.train
     : split == SpeechSplit::kValidation ? lists.validation
                                         : lists.test) = std::move(clips);
  }
  if (lists.train.empty()) {
    return absl::NotFoundError(absl::StrCat(data_dir, ": no training clips (<word>/*.wav)"));
  }
  return lists;
}

absl::StatusOr<std::shared_ptr<const BackgroundNoise>> ReadBackgroundNoise(
    const std::vector<std::string>& paths) {
  auto noise = std::make_shared<BackgroundNoise>();
  for (const std::string& path : paths) {
    UNAS_ASSIGN_OR_RETURN(std::vector<float> samples, ReadWav(path));
    if (static_cast<int64_t>(samples.size()) <= kClipSamples) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": background recording of ", samples.size(),
                       " samples; it must be longer than one second"));
    }
    noise->paths.push_back(path);
    noise->samples.push_back(std::move(samples));
  }
  return noise;
}

ClipMix SpeechAudio::Draw(int64_t i, bool augment, Rng& rng) const {
  ClipMix mix;
  if (augment)
    mix.shift = static_cast<int>(rng.UniformInt(-kTimeShiftSamples, kTimeShiftSamples - 1));
  const bool silence = clips_[i].label == kSilenceLabel;
  if ((augment || silence) && noise_ != nullptr && !noise_->samples.empty()) {
    mix.background = static_cast<int>(rng.Index(noise_->samples.size()));
    const int64_t length = static_cast<int64_t>(noise_->samples[mix.background].size());
    mix.background_offset = rng.UniformInt(0, length - kClipSamples - 1);
    if (silence) {
      mix.background_volume = static_cast<float>(rng.Uniform(0, 1));
    } else if (rng.UniformDouble() < kBackgroundFrequency) {
      mix.background_volume = static_cast<float>(rng.Uniform(0, kBackgroundVolume));
    }
  }
  return mix;
}

absl::Status SpeechAudio::Mix(int64_t i, const ClipMix& mix, float* audio) const {
  std::vector<float> clip(kClipSamples, 0.0f);
  if (!clips_[i].path.empty()) {
    UNAS_RETURN_IF_ERROR(ReadWavFixedLength(clips_[i].path, kClipSamples, clip.data()));
  }
  for (int t = 0; t < kClipSamples; ++t) {
    const int from = t - mix.shift;
    audio[t] = from >= 0 && from < kClipSamples ? clip[from] : 0.0f;
  }
  if (mix.background >= 0 && mix.background_volume != 0) {
    const float* bg = noise_->samples[mix.background].data() + mix.background_offset;
    for (int t = 0; t < kClipSamples; ++t) audio[t] += mix.background_volume * bg[t];
  }
  for (int t = 0; t < kClipSamples; ++t) audio[t] = std::clamp(audio[t], -1.0f, 1.0f);
  return absl::OkStatus();
}

absl::Status SpeechAudio::Features(int64_t i, const ClipMix& mix, MfccExtractor& mfcc,
                                   float* out) const {
  std::vector<float> audio(kClipSamples);
  UNAS_RETURN_IF_ERROR(Mix(i, mix, audio.data()));
  mfcc.Compute(audio.data(), out);
  const float scale = 1.0f / normalisation_.stddev;
  for (int k = 0; k < kMfccFrames * kMfccCoefficients; ++k) {
    out[k] = (out[k] - normalisation_.mean) * scale;
  }
  return absl::OkStatus();
}

absl::StatusOr<SpeechCommandsData> LoadSpeechCommands(const std::string& data_dir,
                                                      const SpeechOptions& options, uint64_t seed) {
  UNAS_ASSIGN_OR_RETURN(SpeechClipLists lists, ListSpeechCommands(data_dir, seed));
  UNAS_ASSIGN_OR_RETURN(std::shared_ptr<const BackgroundNoise> noise,
                        ReadBackgroundNoise(lists.background_files));
  if (options.max_train_examples > 0 &&
      static_cast<int64_t>(lists.train.size()) > options.max_train_examples) {
    lists.train.resize(options.max_train_examples);
  }
  if (options.max_test_examples > 0 &&
      static_cast<int64_t>(lists.test.size()) > options.max_test_examples) {
    lists.test.resize(options.max_test_examples);
  }
  if (!options.with_validation) lists.validation.clear();
  // A bad training file is reported now, not in the middle of an epoch.
  for (const SpeechClip& clip : lists.train) {
    if (!clip.path.empty()) UNAS_RETURN_IF_ERROR(ProbeWav(clip.path).status());
  }

  // Standardisation statistics from the first clips of the (shuffled) list.
  Rng rng(seed ^ kEvaluationSeedSalt);
  SpeechCommandsData data;
  data.used_list_files = lists.used_list_files;
  {
    const SpeechAudio raw(lists.train, noise);
    const int64_t sample = std::min<int64_t>(raw.size(), kStatisticsClips);
    double sum = 0, sum_squares = 0;
    std::vector<float> features(kMfccFrames * kMfccCoefficients);
    MfccExtractor mfcc;
    for (int64_t i = 0; i < sample; ++i) {
      UNAS_RETURN_IF_ERROR(raw.Features(i, raw.Draw(i, false, rng), mfcc, features.data()));
      for (float v : features) sum += v, sum_squares += double{v} * v;
    }
    const double count = static_cast<double>(sample) * features.size();
    if (count > 0) {
      const double mean = sum / count;
      const double variance = std::max(sum_squares / count - mean * mean, 0.0);
      data.normalisation.mean = static_cast<float>(mean);
      data.normalisation.stddev = variance > 0 ? static_cast<float>(std::sqrt(variance)) : 1.0f;
    }
  }

  const SpeechAudio validation(std::move(lists.validation), noise, data.normalisation);
  const SpeechAudio test(std::move(lists.test), noise, data.normalisation);
  UNAS_ASSIGN_OR_RETURN(data.validation, ComputeFeatures(validation, rng));
  UNAS_ASSIGN_OR_RETURN(data.test, ComputeFeatures(test, rng));

  auto train = std::make_shared<SpeechAudio>(std::move(lists.train), noise, data.normalisation);
  data.train.height = kMfccFrames;
  data.train.width = kMfccCoefficients;
  data.train.channels = 1;
  for (const SpeechClip& clip : train->clips()) data.train.labels.push_back(clip.label);
  data.train_audio = std::move(train);
  return data;
}

}  // namespace unas::worker
