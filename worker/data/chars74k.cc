#include "worker/data/chars74k.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "worker/data/decoded_image.h"

namespace unas::worker {
namespace {

namespace fs = std::filesystem;

// Salt for the second (validation) split, so it does not reuse the test
// split's permutation.
constexpr uint64_t kValidationSeedSalt = 0x5deece66dULL;
constexpr uint64_t kOrderSeedSalt = 0x2545f4914f6cdd1dULL;

// NNN of a "SampleNNN" folder name, or -1.
int SampleNumber(const std::string& folder) {
  int n = 0;
  if (!absl::StartsWith(folder, "Sample") || folder.size() != 9) return -1;
  if (!absl::SimpleAtoi(folder.substr(6), &n)) return -1;
  return n;
}

}  // namespace

absl::StatusOr<std::vector<LabelledFile>> ListChars74k(const std::string& data_dir) {
  std::error_code ec;
  fs::path root = data_dir;
  for (const char* sub : {"English/Img/GoodImg/Bmp", "Img/GoodImg/Bmp", "GoodImg/Bmp", "Bmp"}) {
    if (fs::is_directory(fs::path(data_dir) / sub, ec)) {
      root = fs::path(data_dir) / sub;
      break;
    }
  }
  std::vector<LabelledFile> files;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    if (!absl::StartsWith(name, "img") || !absl::EndsWithIgnoreCase(name, ".png")) continue;
    int number = 0;
    if (name.size() < 6 || !absl::SimpleAtoi(name.substr(3, 3), &number) || number < 1 ||
        number > kChars74kClasses) {
      return absl::InvalidArgumentError(
          absl::StrCat(it->path().string(), ": file name does not start with imgNNN (NNN 001-",
                       kChars74kClasses, ", the class)"));
    }
    const int folder = SampleNumber(it->path().parent_path().filename().string());
    if (folder >= 0 && folder != number) {
      return absl::InvalidArgumentError(absl::StrCat(
          it->path().string(), ": class ", number, " in the file name but folder Sample",
          it->path().parent_path().filename().string().substr(6)));
    }
    files.push_back(LabelledFile{it->path().string(), number - 1});
  }
  if (ec)
    return absl::NotFoundError(absl::StrCat(root.string(), ": cannot list (", ec.message(), ")"));
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat(
        data_dir, ": no Chars74K images (English/Img/GoodImg/Bmp/SampleNNN/imgNNN-MMMMM.png)"));
  }
  std::sort(files.begin(), files.end(),
            [](const LabelledFile& a, const LabelledFile& b) { return a.path < b.path; });
  return files;
}

SplitCounts Chars74kSplitCounts(int64_t n, bool with_validation) {
  auto scaled = [n](int64_t count) {
    return static_cast<int64_t>(
        std::llround(static_cast<double>(n) * count / static_cast<double>(kChars74kImages)));
  };
  SplitCounts c;
  c.test = scaled(kChars74kTest);
  c.validation = with_validation ? scaled(kChars74kValidation) : 0;
  c.train = n - c.test - c.validation;
  return c;
}

absl::StatusOr<ImageSet> ReadRgbImages(const std::vector<LabelledFile>& files, int height,
                                       int width, bool central_crop) {
  ImageSet set;
  set.height = height;
  set.width = width;
  set.channels = 3;
  set.pixels.resize(files.size() * set.image_bytes());
  set.labels.reserve(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    UNAS_ASSIGN_OR_RETURN(RgbImage image, ReadImageRgb(files[i].path));
    if (central_crop) {
      if (image.height < 16 || image.width < 16) {
        return absl::InvalidArgumentError(absl::StrCat(files[i].path, ": image is ", image.height,
                                                       "x", image.width, ", under 16x16"));
      }
      image = CentralCrop875(image);
    }
    std::vector<uint8_t> resized =
        ResizeBilinear(image.pixels.data(), image.height, image.width, 3, height, width);
    std::memcpy(set.mutable_image(static_cast<int64_t>(i)), resized.data(), resized.size());
    set.labels.push_back(files[i].label);
  }
  return set;
}

absl::StatusOr<std::pair<ImageSet, ImageSet>> StratifiedSplitCount(const ImageSet& all,
                                                                   int64_t count, uint64_t seed) {
  if (all.size() == 0) return StratifiedSplit(all, 0.0, seed);
  const double fraction = static_cast<double>(count) / static_cast<double>(all.size());
  if (!(fraction < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot hold out ", count, " of ", all.size(), " images: too few images"));
  }
  return StratifiedSplit(all, fraction, seed);
}

absl::StatusOr<ImageSplits> LoadChars74k(const std::string& data_dir, int height, int width,
                                         bool with_validation, uint64_t seed) {
  UNAS_ASSIGN_OR_RETURN(std::vector<LabelledFile> files, ListChars74k(data_dir));
  Rng rng(seed ^ kOrderSeedSalt);
  rng.Shuffle(files);
  UNAS_ASSIGN_OR_RETURN(ImageSet all, ReadRgbImages(files, height, width));
  const SplitCounts counts = Chars74kSplitCounts(all.size(), with_validation);
  UNAS_ASSIGN_OR_RETURN(auto rest_test, StratifiedSplitCount(all, counts.test, seed));
  all = ImageSet();
  UNAS_ASSIGN_OR_RETURN(auto train_val, StratifiedSplitCount(rest_test.first, counts.validation,
                                                             seed ^ kValidationSeedSalt));
  ImageSplits splits;
  splits.train = std::move(train_val.first);
  splits.validation = std::move(train_val.second);
  splits.test = std::move(rest_test.second);
  return splits;
}

}  // namespace unas::worker
