// The bounds of the CNN and MLP search spaces (docs/unas_original.md §1.2, §1.5),
// resolved from a SearchSpaceSpec whose fields may be absent.
#ifndef UNAS_COMMON_SEARCH_SPACE_SPACE_H_
#define UNAS_COMMON_SEARCH_SPACE_SPACE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "unas/v1/architecture.pb.h"
#include "unas/v1/job_spec.pb.h"

namespace unas {

// Every range below is inclusive at both ends, for validation, random
// generation and morphisms alike.
struct CnnSpace {
  int max_conv_blocks = 10;
  int max_layers_per_block = 3;
  int max_filters = 128;                      // filters are 1..max_filters
  std::vector<int> kernel_sizes = {3, 5, 7};  // sorted, distinct
  std::vector<int> pool_sizes = {2, 4, 6};    // sorted, distinct
  int max_dense_blocks = 3;
  int min_dense_units = 10;
  int max_dense_units = 256;
};

struct MlpSpace {
  int max_layers = 7;
  int min_units = 10;
  int max_units = 256;
};

enum class SpaceKind { kCnn, kMlp };

struct SearchSpace {
  SpaceKind kind = SpaceKind::kCnn;
  double dropout = 0.0;  // before every hidden dense layer of a CNN
  CnnSpace cnn;
  MlpSpace mlp;
};

// The dataset side of a network: input shape (H x W x C) and class count.
// Not part of the architecture (docs/unas_original.md §1.3).
struct DataShape {
  int height = 0;
  int width = 0;
  int channels = 0;
  int num_classes = 0;
};

// Every absent bound takes its default (the values in CnnSpace / MlpSpace);
// present bounds are checked (positive, min <= max, sizes distinct, within
// the limits in docs/search_space.md). An unspecified kind means CNN.
absl::StatusOr<SearchSpace> ResolveSearchSpace(const v1::SearchSpaceSpec& spec);

// The default space of the given kind.
SearchSpace DefaultSearchSpace(SpaceKind kind);

// Input shape must be at least 1x1x1 and the class count at least 2.
absl::Status ValidateDataShape(const DataShape& data);

// Parses "28x28x1" (height x width x channels).
absl::StatusOr<DataShape> ParseInputShape(absl::string_view text, int num_classes);

DataShape MakeDataShape(const v1::TensorShape& input, int num_classes);
v1::TensorShape ToTensorShape(const DataShape& data);

// Outputs of the final dense layer: one logit for two classes.
inline int OutputUnits(const DataShape& data) {
  return data.num_classes == 2 ? 1 : data.num_classes;
}

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_SPACE_H_
