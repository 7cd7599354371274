// Visual Wake Words (person / no person) from image folders a user can make
// without TensorFlow (docs/datasets.md):
//   data_dir/{train,val,test}/{person,no_person}/*.png|jpg   (val optional)
// or, without split folders,
//   data_dir/{person,no_person}/*.png|jpg
// Label 1 = person, 0 = no person (the original's). Each image is decoded to
// RGB, centre-cropped to 87.5 % and resized bilinearly (§9).
#ifndef UNAS_WORKER_DATA_VISUAL_WAKE_WORDS_H_
#define UNAS_WORKER_DATA_VISUAL_WAKE_WORDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "worker/data/chars74k.h"
#include "worker/data/image_set.h"

namespace unas::worker {

// Test share held out of a folder without train/ and test/ subfolders.
inline constexpr double kVwwFlatTestFraction = 0.1;

struct VwwOptions {
  int height = 96;
  int width = 96;
  double validation_fraction = 0.1;  // of train/ when there is no val/
  int64_t max_train_examples = 0;    // 0 = all; applied before decoding
  int64_t max_test_examples = 0;
};

// The labelled image files of one folder holding person/ and no_person/
// (both required), sorted by path.
absl::StatusOr<std::vector<LabelledFile>> ListVwwFolder(const std::string& folder);

absl::StatusOr<ImageSplits> LoadVisualWakeWords(const std::string& data_dir,
                                                const VwwOptions& options, uint64_t seed);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_VISUAL_WAKE_WORDS_H_
