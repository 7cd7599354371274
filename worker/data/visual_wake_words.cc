#include "worker/data/visual_wake_words.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/search_space/rng.h"
#include "common/status/status_macros.h"
#include "worker/data/decoded_image.h"

namespace unas::worker {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kTestSeedSalt = 0x7f4a7c159e3779b9ULL;
constexpr uint64_t kOrderSeedSalt = 0x2545f4914f6cdd1dULL;

bool IsDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool IsImageName(const std::string& name) {
  return absl::EndsWithIgnoreCase(name, ".png") || absl::EndsWithIgnoreCase(name, ".jpg") ||
         absl::EndsWithIgnoreCase(name, ".jpeg");
}

std::vector<LabelledFile> Pick(const std::vector<LabelledFile>& files,
                               const std::vector<int64_t>& indices) {
  std::vector<LabelledFile> out;
  for (int64_t i : indices) out.push_back(files[i]);
  return out;
}

void Truncate(std::vector<LabelledFile>& files, int64_t max) {
  if (max > 0 && static_cast<int64_t>(files.size()) > max) files.resize(max);
}

std::vector<int32_t> Labels(const std::vector<LabelledFile>& files) {
  std::vector<int32_t> labels;
  for (const LabelledFile& f : files) labels.push_back(f.label);
  return labels;
}

}  // namespace

absl::StatusOr<std::vector<LabelledFile>> ListVwwFolder(const std::string& folder) {
  std::vector<LabelledFile> files;
  for (const auto& [name, label] : {std::pair<const char*, int32_t>{"no_person", 0},
                                    std::pair<const char*, int32_t>{"person", 1}}) {
    const fs::path dir = fs::path(folder) / name;
    if (!IsDir(dir)) {
      return absl::NotFoundError(absl::StrCat(
          dir.string(), ": missing (Visual Wake Words needs person/ and no_person/ folders)"));
    }
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      const std::string file = it->path().filename().string();
      if (it->is_regular_file(ec) && IsImageName(file)) {
        files.push_back(LabelledFile{it->path().string(), label});
      }
    }
    if (ec)
      return absl::NotFoundError(absl::StrCat(dir.string(), ": cannot list (", ec.message(), ")"));
  }
  std::sort(files.begin(), files.end(),
            [](const LabelledFile& a, const LabelledFile& b) { return a.path < b.path; });
  if (files.empty()) return absl::NotFoundError(absl::StrCat(folder, ": no .png or .jpg images"));
  return files;
}

absl::StatusOr<ImageSplits> LoadVisualWakeWords(const std::string& data_dir,
                                                const VwwOptions& options, uint64_t seed) {
  const fs::path root = data_dir;
  std::vector<LabelledFile> train_files, val_files, test_files;
  if (IsDir(root / "train") || IsDir(root / "test")) {
    if (!IsDir(root / "train") || !IsDir(root / "test")) {
      return absl::NotFoundError(absl::StrCat(
          data_dir, ": has only one of train/ and test/ (both are needed, val/ is optional)"));
    }
    UNAS_ASSIGN_OR_RETURN(train_files, ListVwwFolder((root / "train").string()));
    UNAS_ASSIGN_OR_RETURN(test_files, ListVwwFolder((root / "test").string()));
    for (const char* val : {"val", "validation"}) {
      if (IsDir(root / val)) {
        UNAS_ASSIGN_OR_RETURN(val_files, ListVwwFolder((root / val).string()));
        break;
      }
    }
  } else {
    UNAS_ASSIGN_OR_RETURN(std::vector<LabelledFile> all, ListVwwFolder(data_dir));
    UNAS_ASSIGN_OR_RETURN(auto parts, StratifiedSplitIndices(Labels(all), kVwwFlatTestFraction,
                                                             seed ^ kTestSeedSalt));
    train_files = Pick(all, parts.first);
    test_files = Pick(all, parts.second);
  }
  if (val_files.empty() && options.validation_fraction > 0) {
    UNAS_ASSIGN_OR_RETURN(
        auto parts, StratifiedSplitIndices(Labels(train_files), options.validation_fraction, seed));
    val_files = Pick(train_files, parts.second);
    train_files = Pick(train_files, parts.first);
  }
  // A seeded order, so that the first N (max_train_examples) are a sample of
  // both classes; subsets are taken from the file lists, so unused images are
  // never decoded.
  Rng rng(seed ^ kOrderSeedSalt);
  for (std::vector<LabelledFile>* files : {&train_files, &val_files, &test_files}) {
    rng.Shuffle(*files);
  }
  Truncate(train_files, options.max_train_examples);
  Truncate(test_files, options.max_test_examples);
  ImageSplits splits;
  UNAS_ASSIGN_OR_RETURN(splits.train, ReadRgbImages(train_files, options.height, options.width,
                                                    /*central_crop=*/true));
  UNAS_ASSIGN_OR_RETURN(splits.validation, ReadRgbImages(val_files, options.height, options.width,
                                                         /*central_crop=*/true));
  UNAS_ASSIGN_OR_RETURN(
      splits.test, ReadRgbImages(test_files, options.height, options.width, /*central_crop=*/true));
  return splits;
}

}  // namespace unas::worker
