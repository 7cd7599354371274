// Helpers shared by the LibTorch worker tests: architectures from textproto,
// the real Fashion-MNIST subsets the training tests use, and job specs.
#ifndef UNAS_TESTS_WORKER_WORKER_TEST_UTIL_H_
#define UNAS_TESTS_WORKER_WORKER_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/job_spec/loader.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "unas/v1/architecture.pb.h"
#include "unas/v1/job_spec.pb.h"
#include "worker/data/dataset.h"

namespace unas::worker::testing {

inline constexpr char kFashionDir[] = "/usr/share/datasets/fashion-mnist";

inline v1::Architecture Arch(const std::string& text) {
  v1::Architecture arch;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &arch)) << text;
  return arch;
}

// The first `max_train` / `max_test` images of Fashion-MNIST (Debian's
// dataset-fashion-mnist), validation 10 % with split seed 0. Loaded once per
// process and size; a failed test (not a crash) when the files are missing.
inline const Dataset& FashionSubset(int32_t max_train, int32_t max_test) {
  static auto* cache = new std::map<std::pair<int32_t, int32_t>, std::unique_ptr<Dataset>>();
  std::unique_ptr<Dataset>& slot = (*cache)[{max_train, max_test}];
  if (slot == nullptr) {
    v1::DatasetSpec spec;
    spec.set_name(v1::DATASET_NAME_FASHION_MNIST);
    spec.set_max_train_examples(max_train);
    spec.set_max_test_examples(max_test);
    absl::StatusOr<Dataset> ds = LoadDataset(spec, 0);
    if (!ds.ok()) {
      ADD_FAILURE() << "Fashion-MNIST is not readable at " << kFashionDir << ": " << ds.status();
      static const Dataset empty;
      return empty;
    }
    slot = std::make_unique<Dataset>(*std::move(ds));
  }
  return *slot;
}

// A copy of `base` cut down to the given numbers of images per split.
inline Dataset Truncated(const Dataset& base, int64_t train, int64_t validation, int64_t test) {
  Dataset ds = base;
  ds.train.Truncate(train);
  ds.validation.Truncate(validation);
  ds.test.Truncate(test);
  return ds;
}

// A CNN job on Fashion-MNIST (6,000 training images) with the given
// `training { ... }` body.
inline v1::JobSpec FashionJob(const std::string& training, int32_t max_test, uint64_t seed) {
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpec(
      absl::StrCat("name: \"t\" dataset { name: DATASET_NAME_FASHION_MNIST max_train_examples: "
                   "6000 max_test_examples: ",
                   max_test,
                   " } search_space { kind: SEARCH_SPACE_KIND_CNN } bounds { error: 0.5 } "
                   "training { ",
                   training, " } seed: ", seed),
      ProtoFormat::kTextproto, "test");
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : v1::JobSpec();
}

}  // namespace unas::worker::testing

#endif  // UNAS_TESTS_WORKER_WORKER_TEST_UTIL_H_
