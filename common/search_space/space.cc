#include "common/search_space/space.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status_macros.h"

namespace unas {
namespace {

// Upper limits on user-widened bounds. They keep tensor sizes and the exact
// PMU search (exponential in the number of sibling branches) within reason;
// the defaults are far below them.
constexpr int kLimitConvBlocks = 32;
constexpr int kLimitLayersPerBlock = 8;
constexpr int kLimitFilters = 4096;
constexpr int kLimitKernel = 15;
constexpr int kLimitPool = 16;
constexpr int kLimitDenseBlocks = 16;
constexpr int kLimitUnits = 65536;
constexpr int kLimitMlpLayers = 32;

absl::Status CheckRange(const char* field, int value, int lo, int hi) {
  if (value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", value, " is outside [", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int>> ResolveSizes(const char* field,
                                              const google::protobuf::RepeatedField<int32_t>& given,
                                              const std::vector<int>& fallback, int limit) {
  if (given.empty()) return fallback;
  std::vector<int> sizes(given.begin(), given.end());
  for (int i = 0; i < static_cast<int>(sizes.size()); ++i) {
    if (sizes[i] < 1 || sizes[i] > limit) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "]: ", sizes[i], " is outside [1, ", limit, "]"));
    }
  }
  std::sort(sizes.begin(), sizes.end());
  if (std::adjacent_find(sizes.begin(), sizes.end()) != sizes.end()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": values must be distinct"));
  }
  return sizes;
}

}  // namespace

absl::StatusOr<SearchSpace> ResolveSearchSpace(const v1::SearchSpaceSpec& spec) {
  SearchSpace space;
  switch (spec.kind()) {
    case v1::SEARCH_SPACE_KIND_UNSPECIFIED:
    case v1::SEARCH_SPACE_KIND_CNN:
      space.kind = SpaceKind::kCnn;
      break;
    case v1::SEARCH_SPACE_KIND_MLP:
      space.kind = SpaceKind::kMlp;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("search_space.kind: unknown value ", spec.kind()));
  }
  if (spec.has_dropout()) {
    if (!(spec.dropout() >= 0.0 && spec.dropout() < 1.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("search_space.dropout: ", spec.dropout(), " is outside [0, 1)"));
    }
    space.dropout = spec.dropout();
  }

  const v1::CnnSpaceBounds& c = spec.cnn();
  CnnSpace& cnn = space.cnn;
  if (c.has_max_conv_blocks()) cnn.max_conv_blocks = c.max_conv_blocks();
  if (c.has_max_layers_per_block()) cnn.max_layers_per_block = c.max_layers_per_block();
  if (c.has_max_filters()) cnn.max_filters = c.max_filters();
  if (c.has_max_dense_blocks()) cnn.max_dense_blocks = c.max_dense_blocks();
  if (c.has_min_dense_units()) cnn.min_dense_units = c.min_dense_units();
  if (c.has_max_dense_units()) cnn.max_dense_units = c.max_dense_units();
  UNAS_RETURN_IF_ERROR(
      CheckRange("search_space.cnn.max_conv_blocks", cnn.max_conv_blocks, 1, kLimitConvBlocks));
  UNAS_RETURN_IF_ERROR(CheckRange("search_space.cnn.max_layers_per_block", cnn.max_layers_per_block,
                                  1, kLimitLayersPerBlock));
  UNAS_RETURN_IF_ERROR(
      CheckRange("search_space.cnn.max_filters", cnn.max_filters, 1, kLimitFilters));
  UNAS_RETURN_IF_ERROR(
      CheckRange("search_space.cnn.max_dense_blocks", cnn.max_dense_blocks, 1, kLimitDenseBlocks));
  UNAS_RETURN_IF_ERROR(
      CheckRange("search_space.cnn.min_dense_units", cnn.min_dense_units, 1, kLimitUnits));
  UNAS_RETURN_IF_ERROR(CheckRange("search_space.cnn.max_dense_units", cnn.max_dense_units,
                                  cnn.min_dense_units, kLimitUnits));
  auto kernels = ResolveSizes("search_space.cnn.kernel_sizes", c.kernel_sizes(), cnn.kernel_sizes,
                              kLimitKernel);
  if (!kernels.ok()) return kernels.status();
  cnn.kernel_sizes = *std::move(kernels);
  auto pools =
      ResolveSizes("search_space.cnn.pool_sizes", c.pool_sizes(), cnn.pool_sizes, kLimitPool);
  if (!pools.ok()) return pools.status();
  cnn.pool_sizes = *std::move(pools);

  const v1::MlpSpaceBounds& m = spec.mlp();
  MlpSpace& mlp = space.mlp;
  if (m.has_max_layers()) mlp.max_layers = m.max_layers();
  if (m.has_min_units()) mlp.min_units = m.min_units();
  if (m.has_max_units()) mlp.max_units = m.max_units();
  UNAS_RETURN_IF_ERROR(
      CheckRange("search_space.mlp.max_layers", mlp.max_layers, 1, kLimitMlpLayers));
  UNAS_RETURN_IF_ERROR(CheckRange("search_space.mlp.min_units", mlp.min_units, 1, kLimitUnits));
  UNAS_RETURN_IF_ERROR(
      CheckRange("search_space.mlp.max_units", mlp.max_units, mlp.min_units, kLimitUnits));
  return space;
}

SearchSpace DefaultSearchSpace(SpaceKind kind) {
  SearchSpace space;
  space.kind = kind;
  return space;
}

absl::Status ValidateDataShape(const DataShape& data) {
  if (data.height < 1 || data.width < 1 || data.channels < 1) {
    return absl::InvalidArgumentError(absl::StrCat("input shape: ", data.height, "x", data.width,
                                                   "x", data.channels, " must be at least 1x1x1"));
  }
  if (data.num_classes < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("classes: ", data.num_classes, " must be at least 2"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DataShape> ParseInputShape(absl::string_view text, int num_classes) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, 'x');
  DataShape data;
  data.num_classes = num_classes;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &data.height) ||
      !absl::SimpleAtoi(parts[1], &data.width) || !absl::SimpleAtoi(parts[2], &data.channels)) {
    return absl::InvalidArgumentError(
        absl::StrCat("input shape \"", text, "\": expected HEIGHTxWIDTHxCHANNELS, e.g. 28x28x1"));
  }
  UNAS_RETURN_IF_ERROR(ValidateDataShape(data));
  return data;
}

DataShape MakeDataShape(const v1::TensorShape& input, int num_classes) {
  return DataShape{input.height(), input.width(), input.channels(), num_classes};
}

v1::TensorShape ToTensorShape(const DataShape& data) {
  v1::TensorShape shape;
  shape.set_height(data.height);
  shape.set_width(data.width);
  shape.set_channels(data.channels);
  return shape;
}

}  // namespace unas
