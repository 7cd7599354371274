#include "common/search_space/describe.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace unas {
namespace {

std::string DescribeLayer(const v1::ConvLayer& layer, bool implied_filters) {
  std::vector<std::string> args;
  std::string name;
  const std::string filters = implied_filters ? "=" : absl::StrCat(layer.filters());
  switch (layer.type()) {
    case v1::CONV_LAYER_TYPE_CONV2D:
      name = "C";
      args = {absl::StrCat(layer.kernel_size()), filters, layer.stride2() ? "s2" : "s1"};
      break;
    case v1::CONV_LAYER_TYPE_POINTWISE:
      name = "P";
      args = {filters};
      break;
    case v1::CONV_LAYER_TYPE_DEPTHWISE:
      name = "D";
      args = {absl::StrCat(layer.kernel_size()), layer.stride2() ? "s2" : "s1"};
      break;
    default:
      name = "?";
      break;
  }
  if (layer.has_bn()) args.push_back("bn");
  if (!layer.has_relu()) args.push_back("norelu");
  if (layer.has_prepool()) args.push_back("prepool");
  return absl::StrCat(name, "(", absl::StrJoin(args, ","), ")");
}

std::string DescribeUnits(const google::protobuf::RepeatedPtrField<v1::DenseLayer>& layers) {
  std::vector<int> units;
  for (const v1::DenseLayer& d : layers) units.push_back(d.units());
  return absl::StrCat("[", absl::StrJoin(units, ", "), "]");
}

}  // namespace

std::string DescribeArchitecture(const v1::Architecture& arch) {
  if (arch.has_mlp()) return absl::StrCat("mlp ", DescribeUnits(arch.mlp().layers()));
  if (!arch.has_cnn()) return "(empty)";
  const v1::CnnArchitecture& cnn = arch.cnn();
  std::vector<std::string> parts;
  for (const v1::ConvBlock& block : cnn.conv_blocks()) {
    std::vector<std::string> layers;
    for (int l = 0; l < block.layers_size(); ++l) {
      layers.push_back(
          DescribeLayer(block.layers(l), block.is_branch() && l == block.layers_size() - 1));
    }
    parts.push_back(absl::StrCat(block.is_branch() ? "+" : "", absl::StrJoin(layers, " ")));
  }
  if (cnn.has_pooling()) {
    parts.push_back(
        absl::StrCat(cnn.pooling().type() == v1::POOL_TYPE_AVG ? "avgpool " : "maxpool ",
                     cnn.pooling().pool_size()));
  }
  parts.push_back(absl::StrCat("dense ", DescribeUnits(cnn.dense_blocks())));
  return absl::StrJoin(parts, " | ");
}

}  // namespace unas
