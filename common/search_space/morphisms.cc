#include "common/search_space/morphisms.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/search_space/random_architecture.h"
#include "common/search_space/validate.h"
#include "common/status/status_macros.h"

namespace unas {
namespace {

// Steps of the filter / unit morphs (§2.1 item 9 and 15, §2.2 item 3).
constexpr int kCnnSteps[] = {-5, -3, -1, 1, 3, 5};
constexpr int kMlpSteps[] = {-5, -1, 1, 5};

const char* TypeName(v1::ConvLayerType type) {
  switch (type) {
    case v1::CONV_LAYER_TYPE_CONV2D:
      return "CONV2D";
    case v1::CONV_LAYER_TYPE_POINTWISE:
      return "POINTWISE";
    case v1::CONV_LAYER_TYPE_DEPTHWISE:
      return "DEPTHWISE";
    default:
      return "UNSPECIFIED";
  }
}

const char* Bool(bool b) { return b ? "true" : "false"; }

class CnnMorpher {
 public:
  CnnMorpher(const v1::CnnArchitecture& parent, const CnnSpace& space, Rng& rng)
      : parent_(parent), space_(space), rng_(rng) {}

  std::vector<Neighbour> All() {
    const int blocks = parent_.conv_blocks_size();
    if (blocks > 1) {
      const int b = static_cast<int>(rng_.Index(blocks));
      Add(RemoveBlock(b), absl::StrCat("remove conv_blocks[", b, "] (random block)"));
    }
    if (blocks < space_.max_conv_blocks) {
      v1::CnnArchitecture child = parent_;
      v1::ConvBlock* block = child.add_conv_blocks();
      block->set_is_branch(rng_.Bernoulli(kProbBranch));
      *block->add_layers() = RandomConvLayer(space_, rng_);
      std::string change =
          absl::StrCat("append conv_blocks[", blocks, "]", block->is_branch() ? " (branch)" : "");
      Add(std::move(child), std::move(change));
    }
    for (int b = 0; b < blocks; ++b) BlockMorphs(b);
    PoolingMorphs();
    DenseMorphs();
    return std::move(out_);
  }

 private:
  void Add(v1::CnnArchitecture child, std::string change) {
    Neighbour n;
    *n.architecture.mutable_cnn() = std::move(child);
    n.change = std::move(change);
    out_.push_back(std::move(n));
  }

  // Removing a non-branch block hands its role to a branch right after it,
  // which becomes non-branch: block 0 is never a branch and no branch loses
  // the block it hangs off.
  v1::CnnArchitecture RemoveBlock(int b) const {
    v1::CnnArchitecture child = parent_;
    auto* blocks = child.mutable_conv_blocks();
    const bool was_branch = blocks->Get(b).is_branch();
    blocks->erase(blocks->begin() + b);
    if (!was_branch && b < blocks->size() && blocks->Get(b).is_branch()) {
      blocks->Mutable(b)->set_is_branch(false);
    }
    return child;
  }

  void BlockMorphs(int b) {
    const v1::ConvBlock& block = parent_.conv_blocks(b);
    const std::string path = absl::StrCat("conv_blocks[", b, "]");
    const int layers = block.layers_size();
    if (b >= 1) {
      v1::CnnArchitecture child = parent_;
      child.mutable_conv_blocks(b)->set_is_branch(!block.is_branch());
      Add(std::move(child), absl::StrCat(path, ".is_branch: ", Bool(block.is_branch()), " -> ",
                                         Bool(!block.is_branch())));
    }
    if (layers == 1 && parent_.conv_blocks_size() > 1) {
      Add(RemoveBlock(b), absl::StrCat("remove ", path));
    }
    if (layers > 1) {
      const int l = static_cast<int>(rng_.Index(layers));
      v1::CnnArchitecture child = parent_;
      auto* list = child.mutable_conv_blocks(b)->mutable_layers();
      list->erase(list->begin() + l);
      Add(std::move(child), absl::StrCat(path, ": remove layers[", l, "]"));
    }
    if (layers < space_.max_layers_per_block) {
      // Any of the layers + 1 positions, the end included (the original only
      // inserted before an existing layer).
      const int at = static_cast<int>(rng_.UniformInt(0, layers));
      v1::CnnArchitecture child = parent_;
      auto* list = child.mutable_conv_blocks(b)->mutable_layers();
      *list->Add() = RandomConvLayer(space_, rng_);
      std::rotate(list->begin() + at, list->end() - 1, list->end());
      Add(std::move(child), absl::StrCat(path, ": insert a layer at ", at));
    }
    for (int l = 0; l < layers; ++l) {
      LayerMorphs(b, l, /*filters_overridden=*/block.is_branch() && l == layers - 1);
    }
  }

  template <typename Edit>
  void EditLayer(int b, int l, std::string change, Edit edit) {
    v1::CnnArchitecture child = parent_;
    edit(*child.mutable_conv_blocks(b)->mutable_layers(l));
    Add(std::move(child), std::move(change));
  }

  void LayerMorphs(int b, int l, bool filters_overridden) {
    const v1::ConvLayer& layer = parent_.conv_blocks(b).layers(l);
    const std::string path = absl::StrCat("conv_blocks[", b, "].layers[", l, "]");
    EditLayer(b, l,
              absl::StrCat(path, ".has_bn: ", Bool(layer.has_bn()), " -> ", Bool(!layer.has_bn())),
              [](v1::ConvLayer& x) { x.set_has_bn(!x.has_bn()); });
    EditLayer(
        b, l,
        absl::StrCat(path, ".has_relu: ", Bool(layer.has_relu()), " -> ", Bool(!layer.has_relu())),
        [](v1::ConvLayer& x) { x.set_has_relu(!x.has_relu()); });
    EditLayer(b, l,
              absl::StrCat(path, ".has_prepool: ", Bool(layer.has_prepool()), " -> ",
                           Bool(!layer.has_prepool())),
              [](v1::ConvLayer& x) { x.set_has_prepool(!x.has_prepool()); });
    for (v1::ConvLayerType type : {v1::CONV_LAYER_TYPE_CONV2D, v1::CONV_LAYER_TYPE_POINTWISE,
                                   v1::CONV_LAYER_TYPE_DEPTHWISE}) {
      if (type == layer.type()) continue;
      v1::ConvLayer fresh = RandomConvLayerOfType(type, space_, rng_);
      EditLayer(b, l, absl::StrCat(path, ".type: ", TypeName(layer.type()), " -> ", TypeName(type)),
                [&fresh](v1::ConvLayer& x) { x = fresh; });
    }
    const bool has_filters = layer.type() != v1::CONV_LAYER_TYPE_DEPTHWISE;
    const bool has_kernel = layer.type() != v1::CONV_LAYER_TYPE_POINTWISE;
    // The filters of a branch's last layer are replaced when the network is
    // built, so changing them would give the same network again: skipped.
    if (has_filters && !filters_overridden) {
      for (int step : kCnnSteps) {
        const int f = layer.filters() + step;
        if (f < 1 || f > space_.max_filters) continue;
        EditLayer(b, l, absl::StrCat(path, ".filters: ", layer.filters(), " -> ", f),
                  [f](v1::ConvLayer& x) { x.set_filters(f); });
      }
    }
    if (has_kernel) {
      // The neighbouring sizes in the space's kernel list: (k - 2, k + 2) with
      // the default [3, 5, 7], as in the original.
      const auto& sizes = space_.kernel_sizes;
      const auto it = std::find(sizes.begin(), sizes.end(), layer.kernel_size());
      const int idx = static_cast<int>(it - sizes.begin());
      for (int j : {idx - 1, idx + 1}) {
        if (j < 0 || j >= static_cast<int>(sizes.size())) continue;
        const int k = sizes[j];
        EditLayer(b, l, absl::StrCat(path, ".kernel_size: ", layer.kernel_size(), " -> ", k),
                  [k](v1::ConvLayer& x) { x.set_kernel_size(k); });
      }
      EditLayer(
          b, l,
          absl::StrCat(path, ".stride2: ", Bool(layer.stride2()), " -> ", Bool(!layer.stride2())),
          [](v1::ConvLayer& x) { x.set_stride2(!x.stride2()); });
    }
  }

  void PoolingMorphs() {
    if (parent_.has_pooling()) {
      const v1::Pooling& pooling = parent_.pooling();
      v1::CnnArchitecture removed = parent_;
      removed.clear_pooling();
      Add(std::move(removed), "pooling: remove");
      v1::CnnArchitecture toggled = parent_;
      const bool avg = pooling.type() == v1::POOL_TYPE_AVG;
      toggled.mutable_pooling()->set_type(avg ? v1::POOL_TYPE_MAX : v1::POOL_TYPE_AVG);
      Add(std::move(toggled), avg ? "pooling.type: AVG -> MAX" : "pooling.type: MAX -> AVG");
      const auto& sizes = space_.pool_sizes;
      const int idx = static_cast<int>(std::find(sizes.begin(), sizes.end(), pooling.pool_size()) -
                                       sizes.begin());
      for (int j : {idx - 1, idx + 1}) {
        if (j < 0 || j >= static_cast<int>(sizes.size())) continue;
        v1::CnnArchitecture child = parent_;
        child.mutable_pooling()->set_pool_size(sizes[j]);
        Add(std::move(child),
            absl::StrCat("pooling.pool_size: ", pooling.pool_size(), " -> ", sizes[j]));
      }
    } else {
      v1::CnnArchitecture child = parent_;
      *child.mutable_pooling() = RandomPooling(space_, rng_);
      std::string change = absl::StrCat(
          "pooling: add ", child.pooling().type() == v1::POOL_TYPE_AVG ? "AVG " : "MAX ",
          child.pooling().pool_size());
      Add(std::move(child), std::move(change));
    }
  }

  void DenseMorphs() {
    const int dense = parent_.dense_blocks_size();
    if (dense > 1) {
      const int d = static_cast<int>(rng_.Index(dense));
      v1::CnnArchitecture child = parent_;
      child.mutable_dense_blocks()->erase(child.mutable_dense_blocks()->begin() + d);
      Add(std::move(child), absl::StrCat("remove dense_blocks[", d, "] (random block)"));
    }
    if (dense < space_.max_dense_blocks) {
      v1::CnnArchitecture child = parent_;
      *child.add_dense_blocks() =
          RandomDenseLayer(space_.min_dense_units, space_.max_dense_units, rng_);
      std::string change = absl::StrCat("append dense_blocks[", dense, "] (",
                                        child.dense_blocks(dense).units(), " units)");
      Add(std::move(child), std::move(change));
    }
    for (int d = 0; d < dense; ++d) {
      const int units = parent_.dense_blocks(d).units();
      for (int step : kCnnSteps) {
        const int u = units + step;
        if (u < space_.min_dense_units || u > space_.max_dense_units) continue;
        v1::CnnArchitecture child = parent_;
        child.mutable_dense_blocks(d)->set_units(u);
        Add(std::move(child), absl::StrCat("dense_blocks[", d, "].units: ", units, " -> ", u));
      }
    }
  }

  const v1::CnnArchitecture& parent_;
  const CnnSpace& space_;
  Rng& rng_;
  std::vector<Neighbour> out_;
};

std::vector<Neighbour> MlpNeighbours(const v1::MlpArchitecture& parent, const MlpSpace& space,
                                     Rng& rng) {
  std::vector<Neighbour> out;
  auto add = [&out](v1::MlpArchitecture child, std::string change) {
    Neighbour n;
    *n.architecture.mutable_mlp() = std::move(child);
    n.change = std::move(change);
    out.push_back(std::move(n));
  };
  const int layers = parent.layers_size();
  if (layers > 1) {
    const int l = static_cast<int>(rng.Index(layers));
    v1::MlpArchitecture child = parent;
    child.mutable_layers()->erase(child.mutable_layers()->begin() + l);
    add(std::move(child), absl::StrCat("remove layers[", l, "] (random layer)"));
  }
  if (layers < space.max_layers) {
    v1::MlpArchitecture child = parent;
    *child.add_layers() = RandomDenseLayer(space.min_units, space.max_units, rng);
    const int units = child.layers(layers).units();
    add(std::move(child), absl::StrCat("append layers[", layers, "] (", units, " units)"));
  }
  for (int l = 0; l < layers; ++l) {
    const int units = parent.layers(l).units();
    for (int step : kMlpSteps) {
      const int u = units + step;
      if (u < space.min_units || u > space.max_units) continue;
      v1::MlpArchitecture child = parent;
      child.mutable_layers(l)->set_units(u);
      add(std::move(child), absl::StrCat("layers[", l, "].units: ", units, " -> ", u));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Neighbour>> Neighbours(const v1::Architecture& arch,
                                                  const SearchSpace& space, Rng& rng) {
  UNAS_RETURN_IF_ERROR(ValidateArchitecture(arch, space));
  if (arch.has_cnn()) return CnnMorpher(arch.cnn(), space.cnn, rng).All();
  return MlpNeighbours(arch.mlp(), space.mlp, rng);
}

absl::StatusOr<Neighbour> RandomNeighbour(const v1::Architecture& arch, const SearchSpace& space,
                                          const DataShape& data, Rng& rng) {
  UNAS_ASSIGN_OR_RETURN(std::vector<Neighbour> all, Neighbours(arch, space, rng));
  // Uniform among the buildable neighbours by rejection: draw one, keep it if
  // it builds, else drop it and draw again. Checking only the drawn ones (not
  // all ~100) is what keeps proposals cheap on the coordinator.
  while (!all.empty()) {
    size_t pick = rng.Index(all.size());
    if (ValidateForData(all[pick].architecture, data).ok()) return std::move(all[pick]);
    std::swap(all[pick], all.back());
    all.pop_back();
  }
  return absl::FailedPreconditionError("architecture has no neighbour buildable for the data");
}

}  // namespace unas
