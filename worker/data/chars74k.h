// Chars74K, EnglishImg "GoodImg" (docs/unas_original.md §9): 7,705 PNG photos of
// characters in natural scenes, English/Img/GoodImg/Bmp/SampleNNN/
// imgNNN-MMMMM.png, label NNN - 1 (0-9 digits, 10-35 A-Z, 36-61 a-z).
#ifndef UNAS_WORKER_DATA_CHARS74K_H_
#define UNAS_WORKER_DATA_CHARS74K_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/rng.h"
#include "worker/data/image_set.h"

namespace unas::worker {

inline constexpr int kChars74kClasses = 62;
// The original's numbers: 7,705 images split 5,000 / 705 / 2,000.
inline constexpr int64_t kChars74kImages = 7705;
inline constexpr int64_t kChars74kTest = 2000;
inline constexpr int64_t kChars74kValidation = 705;

struct LabelledFile {
  std::string path;
  int32_t label = 0;
};

// The images under data_dir, sorted by path: data_dir may be the folder
// holding English/ (the unpacked EnglishImg.tgz) or any folder on the way
// down to Bmp/ (English/Img/GoodImg/Bmp, GoodImg/Bmp, Bmp or Bmp itself).
// Every img*.png below it counts; the label is the file name's characters
// 3-5 minus one, and a SampleNNN folder that disagrees is an error naming the
// file. NotFound when there is no image.
absl::StatusOr<std::vector<LabelledFile>> ListChars74k(const std::string& data_dir);

// Test and validation counts for n images: the original's 2,000 and 705 of
// 7,705, scaled to n (rounded); validation 0 when with_validation is false.
struct SplitCounts {
  int64_t train = 0;
  int64_t validation = 0;
  int64_t test = 0;
};
SplitCounts Chars74kSplitCounts(int64_t n, bool with_validation);

// Decodes the files (ReadImageRgb), optionally takes the central 87.5 %
// (CentralCrop875, for Visual Wake Words; such images must be at least 16x16)
// and resizes each bilinearly to height x width (ResizeBilinear); images in
// file order.
absl::StatusOr<ImageSet> ReadRgbImages(const std::vector<LabelledFile>& files, int height,
                                       int width, bool central_crop = false);

struct ImageSplits {
  ImageSet train;
  ImageSet validation;
  ImageSet test;
};

// The whole loader: list, put in a seeded order (so that the first N images
// of a part are a sample of all classes), decode, resize and split -- test
// first, stratified and seeded with `seed`, then validation from the rest,
// stratified and seeded with a value derived from `seed`. Parts keep the
// seeded order.
absl::StatusOr<ImageSplits> LoadChars74k(const std::string& data_dir, int height, int width,
                                         bool with_validation, uint64_t seed);

// Holds out exactly `count` images of `all`, stratified and seeded (a wrapper
// of StratifiedSplit that takes a count).
absl::StatusOr<std::pair<ImageSet, ImageSet>> StratifiedSplitCount(const ImageSet& all,
                                                                   int64_t count, uint64_t seed);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_CHARS74K_H_
