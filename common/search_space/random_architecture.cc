#include "common/search_space/random_architecture.h"

#include "absl/strings/str_cat.h"
#include "common/search_space/validate.h"

namespace unas {

v1::ConvLayer RandomConvLayerOfType(v1::ConvLayerType type, const CnnSpace& space, Rng& rng) {
  v1::ConvLayer layer;
  layer.set_type(type);
  // Draw order is fixed (kernel, filters, stride, bn, relu, prepool) so that a
  // seed always gives the same layer.
  if (type != v1::CONV_LAYER_TYPE_POINTWISE) layer.set_kernel_size(rng.Choose(space.kernel_sizes));
  if (type != v1::CONV_LAYER_TYPE_DEPTHWISE) {
    layer.set_filters(static_cast<int>(rng.UniformInt(1, space.max_filters)));
  }
  if (type != v1::CONV_LAYER_TYPE_POINTWISE) layer.set_stride2(rng.Bernoulli(kProbStride2));
  layer.set_has_bn(rng.Bernoulli(kProbBatchNorm));
  layer.set_has_relu(rng.Bernoulli(kProbRelu));
  layer.set_has_prepool(rng.Bernoulli(kProbPrepool));
  return layer;
}

v1::ConvLayer RandomConvLayer(const CnnSpace& space, Rng& rng) {
  static constexpr v1::ConvLayerType kTypes[] = {
      v1::CONV_LAYER_TYPE_CONV2D, v1::CONV_LAYER_TYPE_POINTWISE, v1::CONV_LAYER_TYPE_DEPTHWISE};
  return RandomConvLayerOfType(kTypes[rng.Index(3)], space, rng);
}

v1::Pooling RandomPooling(const CnnSpace& space, Rng& rng) {
  v1::Pooling pooling;
  pooling.set_type(rng.Bernoulli(kProbAvgPool) ? v1::POOL_TYPE_AVG : v1::POOL_TYPE_MAX);
  pooling.set_pool_size(rng.Choose(space.pool_sizes));
  return pooling;
}

v1::DenseLayer RandomDenseLayer(int min_units, int max_units, Rng& rng) {
  v1::DenseLayer layer;
  layer.set_units(static_cast<int>(rng.UniformInt(min_units, max_units)));
  return layer;
}

v1::CnnArchitecture RandomCnn(const CnnSpace& space, Rng& rng) {
  v1::CnnArchitecture cnn;
  const int blocks = static_cast<int>(rng.UniformInt(1, space.max_conv_blocks));
  for (int b = 0; b < blocks; ++b) {
    v1::ConvBlock* block = cnn.add_conv_blocks();
    // Block 0 draws no branch flag: it can never be a branch.
    block->set_is_branch(b > 0 && rng.Bernoulli(kProbBranch));
    const int layers = static_cast<int>(rng.UniformInt(1, space.max_layers_per_block));
    for (int l = 0; l < layers; ++l) *block->add_layers() = RandomConvLayer(space, rng);
  }
  if (rng.Bernoulli(kProbPooling)) *cnn.mutable_pooling() = RandomPooling(space, rng);
  const int dense = static_cast<int>(rng.UniformInt(1, space.max_dense_blocks));
  for (int d = 0; d < dense; ++d) {
    *cnn.add_dense_blocks() = RandomDenseLayer(space.min_dense_units, space.max_dense_units, rng);
  }
  return cnn;
}

v1::MlpArchitecture RandomMlp(const MlpSpace& space, Rng& rng) {
  v1::MlpArchitecture mlp;
  const int layers = static_cast<int>(rng.UniformInt(1, space.max_layers));
  for (int l = 0; l < layers; ++l) {
    *mlp.add_layers() = RandomDenseLayer(space.min_units, space.max_units, rng);
  }
  return mlp;
}

absl::StatusOr<v1::Architecture> RandomArchitecture(const SearchSpace& space, const DataShape& data,
                                                    Rng& rng) {
  if (absl::Status s = ValidateDataShape(data); !s.ok()) return s;
  absl::Status last;
  for (int attempt = 0; attempt < kMaxRandomTries; ++attempt) {
    v1::Architecture arch;
    if (space.kind == SpaceKind::kCnn) {
      *arch.mutable_cnn() = RandomCnn(space.cnn, rng);
    } else {
      *arch.mutable_mlp() = RandomMlp(space.mlp, rng);
    }
    last = ValidateForData(arch, data);
    if (last.ok()) return arch;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no buildable architecture for input ", data.height, "x", data.width, "x", data.channels,
      " in ", kMaxRandomTries, " random draws; last: ", last.message()));
}

}  // namespace unas
