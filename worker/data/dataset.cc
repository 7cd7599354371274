#include "worker/data/dataset.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/job_spec/dataset_info.h"
#include "common/status/status_macros.h"
#include "worker/data/chars74k.h"
#include "worker/data/cifar.h"
#include "worker/data/idx.h"
#include "worker/data/visual_wake_words.h"

namespace unas::worker {
namespace {

namespace fs = std::filesystem;

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The first candidate that exists in dir; NotFound naming all of them.
absl::StatusOr<std::string> FindFile(const std::string& dir,
                                     const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    fs::path p = fs::path(dir) / name;
    if (IsFile(p)) return p.string();
  }
  return absl::NotFoundError(absl::StrCat(dir, ": none of ", absl::StrJoin(names, ", "),
                                          " exists (see docs/datasets.md)"));
}

absl::Status CheckShape(const ImageSet& set, const DatasetInfo& info, const std::string& what) {
  if (set.height != info.input_shape.height() || set.width != info.input_shape.width() ||
      set.channels != info.input_shape.channels()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": images are ", set.height, "x", set.width, "x", set.channels,
                     ", expected ", info.input_shape.height(), "x", info.input_shape.width(), "x",
                     info.input_shape.channels()));
  }
  return absl::OkStatus();
}

struct RawSplits {
  ImageSet train;
  ImageSet test;
  // Loaders that split themselves fill this and set has_validation.
  ImageSet validation;
  bool has_validation = false;
};

RawSplits FromImageSplits(ImageSplits splits) {
  RawSplits raw;
  raw.train = std::move(splits.train);
  raw.validation = std::move(splits.validation);
  raw.test = std::move(splits.test);
  raw.has_validation = true;
  return raw;
}

absl::StatusOr<RawSplits> LoadIdx(const std::string& dir, const DatasetInfo& info) {
  RawSplits raw;
  for (const char* split : {"train", "t10k"}) {
    UNAS_ASSIGN_OR_RETURN(std::string images, FindFile(dir, IdxCandidateNames(split, "images")));
    UNAS_ASSIGN_OR_RETURN(std::string labels, FindFile(dir, IdxCandidateNames(split, "labels")));
    UNAS_ASSIGN_OR_RETURN(ImageSet set, ReadIdxPair(images, labels, 10));
    UNAS_RETURN_IF_ERROR(CheckShape(set, info, images));
    (std::string(split) == "train" ? raw.train : raw.test) = std::move(set);
  }
  return raw;
}

absl::StatusOr<RawSplits> LoadCifar(const std::string& dir) {
  // The archive unpacks into cifar-10-batches-bin/; accept either folder.
  std::string root = dir;
  if (!IsFile(fs::path(dir) / "test_batch.bin") &&
      IsFile(fs::path(dir) / "cifar-10-batches-bin" / "test_batch.bin")) {
    root = (fs::path(dir) / "cifar-10-batches-bin").string();
  }
  std::vector<std::string> train_files;
  for (int i = 1; i <= 5; ++i) {
    train_files.push_back((fs::path(root) / absl::StrCat("data_batch_", i, ".bin")).string());
  }
  RawSplits raw;
  UNAS_ASSIGN_OR_RETURN(raw.train, ReadCifarBatches(train_files));
  UNAS_ASSIGN_OR_RETURN(raw.test, ReadCifarBatch((fs::path(root) / "test_batch.bin").string()));
  return raw;
}

}  // namespace

std::vector<std::string> IdxCandidateNames(const std::string& split, const std::string& kind) {
  const std::string dims = kind == "images" ? "idx3" : "idx1";
  const std::string dash = absl::StrCat(split, "-", kind, "-", dims, "-ubyte");
  const std::string dot = absl::StrCat(split, "-", kind, ".", dims, "-ubyte");
  return {dash + ".gz", dash, dot + ".gz", dot};
}

int32_t BinaryLabel(v1::DatasetName name, int32_t label) {
  switch (name) {
    case v1::DATASET_NAME_CHARS74K:
      return label < 31 ? 1 : 0;
    default:  // MNIST, Fashion-MNIST and CIFAR-10 split their ten classes at 5.
      return label < 5 ? 1 : 0;
  }
}

absl::StatusOr<Dataset> LoadDataset(const v1::DatasetSpec& spec, uint64_t split_seed) {
  UNAS_ASSIGN_OR_RETURN(DatasetInfo info, DescribeDataset(spec));
  const std::string display = DatasetDisplayName(spec.name());
  Dataset ds;
  ds.name = spec.name();
  ds.data_dir = spec.data_dir().empty() ? info.default_data_dir : spec.data_dir();
  if (ds.data_dir.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dataset.data_dir: required for ", display, " (it has no default folder)"));
  }
  std::error_code ec;
  if (!fs::is_directory(ds.data_dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("dataset.data_dir: ", ds.data_dir, " is not a folder (", display, ")"));
  }
  const double fraction = spec.has_validation_fraction() ? spec.validation_fraction() : 0.1;
  if (!(fraction >= 0.0 && fraction < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("dataset.validation_fraction: ", fraction, " is outside [0, 1)"));
  }
  RawSplits raw;
  switch (spec.name()) {
    case v1::DATASET_NAME_MNIST:
    case v1::DATASET_NAME_FASHION_MNIST: {
      UNAS_ASSIGN_OR_RETURN(raw, LoadIdx(ds.data_dir, info));
      break;
    }
    case v1::DATASET_NAME_CIFAR10: {
      UNAS_ASSIGN_OR_RETURN(raw, LoadCifar(ds.data_dir));
      ds.preprocessing.mean.assign(std::begin(kCifarMean), std::end(kCifarMean));
      ds.preprocessing.stddev.assign(std::begin(kCifarStd), std::end(kCifarStd));
      break;
    }
    case v1::DATASET_NAME_CHARS74K: {
      UNAS_ASSIGN_OR_RETURN(ImageSplits splits,
                            LoadChars74k(ds.data_dir, info.input_shape.height(),
                                         info.input_shape.width(), fraction > 0, split_seed));
      raw = FromImageSplits(std::move(splits));
      break;
    }
    case v1::DATASET_NAME_VISUAL_WAKE_WORDS: {
      VwwOptions options;
      options.height = info.input_shape.height();
      options.width = info.input_shape.width();
      options.validation_fraction = fraction;
      options.max_train_examples = spec.max_train_examples();
      options.max_test_examples = spec.max_test_examples();
      UNAS_ASSIGN_OR_RETURN(ImageSplits splits,
                            LoadVisualWakeWords(ds.data_dir, options, split_seed));
      raw = FromImageSplits(std::move(splits));
      break;
    }
    case v1::DATASET_NAME_SPEECH_COMMANDS: {
      SpeechOptions options;
      options.with_validation = fraction > 0;
      options.max_train_examples = spec.max_train_examples();
      options.max_test_examples = spec.max_test_examples();
      UNAS_ASSIGN_OR_RETURN(SpeechCommandsData speech,
                            LoadSpeechCommands(ds.data_dir, options, split_seed));
      raw.train = std::move(speech.train);
      raw.validation = std::move(speech.validation);
      raw.test = std::move(speech.test);
      raw.has_validation = true;
      ds.train_audio = std::move(speech.train_audio);
      ds.feature_normalisation = speech.normalisation;
      break;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("dataset.name: unknown dataset ", display));
  }
  ds.num_classes = info.num_classes;
  if (spec.binary() && info.has_binary_variant) {
    for (ImageSet* set : {&raw.train, &raw.validation, &raw.test}) {
      for (int32_t& l : set->labels) l = BinaryLabel(spec.name(), l);
    }
    ds.num_classes = 2;
  }
  if (raw.has_validation) {
    ds.train = std::move(raw.train);
    ds.validation = std::move(raw.validation);
  } else {
    UNAS_ASSIGN_OR_RETURN(auto parts, StratifiedSplit(raw.train, fraction, split_seed));
    raw.train = ImageSet();  // free the unsplit copy
    ds.train = std::move(parts.first);
    ds.validation = std::move(parts.second);
  }
  ds.test = std::move(raw.test);
  // Speech Commands truncated its clip lists already (train_audio matches).
  if (ds.train_audio == nullptr) ds.train.Truncate(spec.max_train_examples());
  ds.test.Truncate(spec.max_test_examples());
  return ds;
}

}  // namespace unas::worker
