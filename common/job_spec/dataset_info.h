// What the coordinator needs to know about a dataset without reading it: the
// input shape and the class count that every architecture is built with.
#ifndef UNAS_COMMON_JOB_SPEC_DATASET_INFO_H_
#define UNAS_COMMON_JOB_SPEC_DATASET_INFO_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "unas/v1/architecture.pb.h"
#include "unas/v1/job_spec.pb.h"

namespace unas {

struct DatasetInfo {
  v1::TensorShape input_shape;
  int num_classes = 0;
  bool has_binary_variant = false;
  // Where the files are when DatasetSpec.data_dir is empty; empty when the
  // dataset has no standard location.
  std::string default_data_dir;
};

// Input shape and class count for `spec` (binary variants have 2 classes;
// CHARS74K and VISUAL_WAKE_WORDS use spec.image_size, or their default size
// when it is absent).
absl::StatusOr<DatasetInfo> DescribeDataset(const v1::DatasetSpec& spec);

// "FASHION_MNIST" for DATASET_NAME_FASHION_MNIST: the name users see.
std::string DatasetDisplayName(v1::DatasetName name);

// Where Debian's dataset-fashion-mnist installs its files.
inline constexpr char kFashionMnistDebianDir[] = "/usr/share/datasets/fashion-mnist";

}  // namespace unas

#endif  // UNAS_COMMON_JOB_SPEC_DATASET_INFO_H_
