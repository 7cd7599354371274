#include "common/search_space/validate.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/search_space/network_plan.h"
#include "common/status/status_macros.h"

namespace unas {
namespace {

absl::Status Invalid(const std::string& element, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(element, ": ", message));
}

absl::Status CheckInRange(const std::string& element, int value, int lo, int hi) {
  if (value < lo || value > hi) {
    return Invalid(element, absl::StrCat(value, " is outside [", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

absl::Status CheckInList(const std::string& element, int value, const std::vector<int>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    return Invalid(element,
                   absl::StrCat(value, " is not one of [", absl::StrJoin(allowed, ", "), "]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateConvLayer(const v1::ConvLayer& layer, const std::string& path,
                               const CnnSpace& space) {
  switch (layer.type()) {
    case v1::CONV_LAYER_TYPE_CONV2D:
      UNAS_RETURN_IF_ERROR(
          CheckInList(path + ".kernel_size", layer.kernel_size(), space.kernel_sizes));
      return CheckInRange(path + ".filters", layer.filters(), 1, space.max_filters);
    case v1::CONV_LAYER_TYPE_POINTWISE:
      return CheckInRange(path + ".filters", layer.filters(), 1, space.max_filters);
    case v1::CONV_LAYER_TYPE_DEPTHWISE:
      return CheckInList(path + ".kernel_size", layer.kernel_size(), space.kernel_sizes);
    default:
      return Invalid(path + ".type", "must be CONV2D, POINTWISE or DEPTHWISE");
  }
}

absl::Status ValidateCnn(const v1::CnnArchitecture& cnn, const CnnSpace& space) {
  const int blocks = cnn.conv_blocks_size();
  if (blocks < 1 || blocks > space.max_conv_blocks) {
    return Invalid("conv_blocks",
                   absl::StrCat(blocks, " blocks; the space allows 1 to ", space.max_conv_blocks));
  }
  for (int b = 0; b < blocks; ++b) {
    const v1::ConvBlock& block = cnn.conv_blocks(b);
    const std::string block_path = absl::StrCat("conv_blocks[", b, "]");
    if (b == 0 && block.is_branch()) {
      return Invalid(block_path + ".is_branch", "the first block cannot be a branch");
    }
    const int layers = block.layers_size();
    if (layers < 1 || layers > space.max_layers_per_block) {
      return Invalid(block_path + ".layers", absl::StrCat(layers, " layers; the space allows 1 to ",
                                                          space.max_layers_per_block));
    }
    for (int l = 0; l < layers; ++l) {
      UNAS_RETURN_IF_ERROR(
          ValidateConvLayer(block.layers(l), absl::StrCat(block_path, ".layers[", l, "]"), space));
    }
  }
  if (cnn.has_pooling()) {
    const v1::Pooling& pooling = cnn.pooling();
    if (pooling.type() != v1::POOL_TYPE_AVG && pooling.type() != v1::POOL_TYPE_MAX) {
      return Invalid("pooling.type", "must be AVG or MAX");
    }
    UNAS_RETURN_IF_ERROR(CheckInList("pooling.pool_size", pooling.pool_size(), space.pool_sizes));
  }
  const int dense = cnn.dense_blocks_size();
  if (dense < 1 || dense > space.max_dense_blocks) {
    return Invalid("dense_blocks",
                   absl::StrCat(dense, " blocks; the space allows 1 to ", space.max_dense_blocks));
  }
  for (int d = 0; d < dense; ++d) {
    UNAS_RETURN_IF_ERROR(CheckInRange(absl::StrCat("dense_blocks[", d, "].units"),
                                      cnn.dense_blocks(d).units(), space.min_dense_units,
                                      space.max_dense_units));
  }
  return absl::OkStatus();
}

absl::Status ValidateMlp(const v1::MlpArchitecture& mlp, const MlpSpace& space) {
  const int layers = mlp.layers_size();
  if (layers < 1 || layers > space.max_layers) {
    return Invalid("layers",
                   absl::StrCat(layers, " layers; the space allows 1 to ", space.max_layers));
  }
  for (int l = 0; l < layers; ++l) {
    UNAS_RETURN_IF_ERROR(CheckInRange(absl::StrCat("layers[", l, "].units"), mlp.layers(l).units(),
                                      space.min_units, space.max_units));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateArchitecture(const v1::Architecture& arch, const SearchSpace& space) {
  switch (arch.kind_case()) {
    case v1::Architecture::kCnn:
      if (space.kind != SpaceKind::kCnn) return Invalid("cnn", "the search space is MLP");
      return ValidateCnn(arch.cnn(), space.cnn);
    case v1::Architecture::kMlp:
      if (space.kind != SpaceKind::kMlp) return Invalid("mlp", "the search space is CNN");
      return ValidateMlp(arch.mlp(), space.mlp);
    default:
      return absl::InvalidArgumentError("architecture: neither cnn nor mlp is set");
  }
}

absl::Status ValidateForData(const v1::Architecture& arch, const DataShape& data) {
  return PlanNetwork(arch, data).status();
}

absl::Status ValidateAll(const v1::Architecture& arch, const SearchSpace& space,
                         const DataShape& data) {
  UNAS_RETURN_IF_ERROR(ValidateArchitecture(arch, space));
  return ValidateForData(arch, data);
}

}  // namespace unas
