#include "common/search_space/random_architecture.h"

#include <map>
#include <set>

#include "common/search_space/fingerprint.h"
#include "common/search_space/validate.h"
#include "gtest/gtest.h"

namespace unas {
namespace {

const SearchSpace kCnn = DefaultSearchSpace(SpaceKind::kCnn);
const SearchSpace kMlp = DefaultSearchSpace(SpaceKind::kMlp);
const DataShape kMnist{28, 28, 1, 10};

// Every value a random CNN can take, counted over many samples.
struct CnnTally {
  std::map<int, int> blocks, layers, kernels, filters, pool_sizes, dense_blocks, units;
  std::map<int, int> types;
  int layer_count = 0, prepool = 0, bn = 0, relu = 0, stride2 = 0, strided_layers = 0;
  int later_blocks = 0, branches = 0, first_block_branches = 0;
  int pooled = 0, avg = 0, archs = 0;

  void Add(const v1::CnnArchitecture& cnn) {
    ++archs;
    ++blocks[cnn.conv_blocks_size()];
    for (int b = 0; b < cnn.conv_blocks_size(); ++b) {
      const v1::ConvBlock& block = cnn.conv_blocks(b);
      if (b == 0) {
        first_block_branches += block.is_branch();
      } else {
        ++later_blocks;
        branches += block.is_branch();
      }
      ++layers[block.layers_size()];
      for (const v1::ConvLayer& l : block.layers()) {
        ++layer_count;
        ++types[l.type()];
        prepool += l.has_prepool();
        bn += l.has_bn();
        relu += l.has_relu();
        if (l.type() != v1::CONV_LAYER_TYPE_POINTWISE) {
          ++kernels[l.kernel_size()];
          ++strided_layers;
          stride2 += l.stride2();
        }
        if (l.type() != v1::CONV_LAYER_TYPE_DEPTHWISE) ++filters[l.filters()];
      }
    }
    if (cnn.has_pooling()) {
      ++pooled;
      avg += cnn.pooling().type() == v1::POOL_TYPE_AVG;
      ++pool_sizes[cnn.pooling().pool_size()];
    }
    ++dense_blocks[cnn.dense_blocks_size()];
    for (const v1::DenseLayer& d : cnn.dense_blocks()) ++units[d.units()];
  }
};

void ExpectExactly(const std::map<int, int>& seen, int lo, int hi, const char* what) {
  for (int v = lo; v <= hi; ++v) EXPECT_GT(seen.count(v), 0u) << what << " never took " << v;
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.begin()->first, lo) << what;
  EXPECT_EQ(seen.rbegin()->first, hi) << what;
  EXPECT_EQ(seen.size(), static_cast<size_t>(hi - lo + 1)) << what;
}

TEST(RandomArchitectureTest, EveryValueOfEveryCnnRangeIsReachable) {
  Rng rng(20240601);
  CnnTally t;
  for (int i = 0; i < 20000; ++i) {
    auto arch = RandomArchitecture(kCnn, kMnist, rng);
    ASSERT_TRUE(arch.ok()) << arch.status();
    t.Add(arch->cnn());
  }
  // Upper bounds included (the original never drew 10 blocks, 3 layers,
  // kernel 7, 128 filters, pool 6, 3 dense blocks or 256 units).
  ExpectExactly(t.blocks, 1, 10, "conv blocks");
  ExpectExactly(t.layers, 1, 3, "layers per block");
  ExpectExactly(t.filters, 1, 128, "filters");
  ExpectExactly(t.dense_blocks, 1, 3, "dense blocks");
  ExpectExactly(t.units, 10, 256, "dense units");
  EXPECT_EQ(t.kernels,
            (std::map<int, int>{{3, t.kernels[3]}, {5, t.kernels[5]}, {7, t.kernels[7]}}));
  EXPECT_EQ(t.pool_sizes.size(), 3u);
  EXPECT_GT(t.pool_sizes[6], 0);
  EXPECT_EQ(t.types.size(), 3u);
  EXPECT_EQ(t.first_block_branches, 0);

  // The distributions of §3, within about 5 standard deviations.
  auto near = [](int hits, int n, double p) {
    const double sd = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(hits / static_cast<double>(n), p, 5 * sd) << hits << "/" << n;
  };
  near(t.prepool, t.layer_count, 0.25);
  near(t.bn, t.layer_count, 0.5);
  near(t.relu, t.layer_count, 0.9);
  near(t.stride2, t.strided_layers, 0.5);
  near(t.branches, t.later_blocks, 0.5);
  near(t.pooled, t.archs, 0.9);
  near(t.avg, t.pooled, 0.5);
  for (const auto& [type, n] : t.types) near(n, t.layer_count, 1.0 / 3);
  for (const auto& [blocks, n] : t.blocks) near(n, t.archs, 1.0 / 10);
}

TEST(RandomArchitectureTest, EveryValueOfEveryMlpRangeIsReachable) {
  Rng rng(5);
  std::map<int, int> layers, units;
  for (int i = 0; i < 5000; ++i) {
    auto arch = RandomArchitecture(kMlp, kMnist, rng);
    ASSERT_TRUE(arch.ok()) << arch.status();
    ASSERT_TRUE(arch->has_mlp());
    ++layers[arch->mlp().layers_size()];
    for (const v1::DenseLayer& d : arch->mlp().layers()) ++units[d.units()];
  }
  ExpectExactly(layers, 1, 7, "mlp layers");
  ExpectExactly(units, 10, 256, "mlp units");
}

TEST(RandomArchitectureTest, ResultsAreValidAndUseOnlyTheFieldsOfTheirType) {
  Rng rng(8);
  for (int i = 0; i < 500; ++i) {
    auto arch = RandomArchitecture(kCnn, DataShape{49, 40, 1, 12}, rng);
    ASSERT_TRUE(arch.ok());
    ASSERT_TRUE(ValidateAll(*arch, kCnn, DataShape{49, 40, 1, 12}).ok());
    // Already canonical, apart from the branch filters that the build replaces.
    for (const v1::ConvBlock& block : arch->cnn().conv_blocks()) {
      for (const v1::ConvLayer& l : block.layers()) {
        if (l.type() == v1::CONV_LAYER_TYPE_POINTWISE) {
          EXPECT_EQ(l.kernel_size(), 0);
          EXPECT_FALSE(l.stride2());
        }
        if (l.type() == v1::CONV_LAYER_TYPE_DEPTHWISE) {
          EXPECT_EQ(l.filters(), 0);
        }
      }
    }
  }
}

TEST(RandomArchitectureTest, NarrowedSpaceIsRespected) {
  SearchSpace narrow = kCnn;
  narrow.cnn.max_conv_blocks = 2;
  narrow.cnn.max_layers_per_block = 1;
  narrow.cnn.max_filters = 4;
  narrow.cnn.kernel_sizes = {3};
  narrow.cnn.pool_sizes = {2};
  narrow.cnn.max_dense_blocks = 1;
  narrow.cnn.min_dense_units = 20;
  narrow.cnn.max_dense_units = 21;
  Rng rng(9);
  for (int i = 0; i < 300; ++i) {
    auto arch = RandomArchitecture(narrow, kMnist, rng);
    ASSERT_TRUE(arch.ok());
    EXPECT_TRUE(ValidateArchitecture(*arch, narrow).ok()) << arch->DebugString();
  }
}

TEST(RandomArchitectureTest, SeededGenerationIsReproducible) {
  auto draw = [](uint64_t seed) {
    Rng rng(seed);
    std::vector<uint64_t> fps;
    for (int i = 0; i < 50; ++i)
      fps.push_back(Fingerprint(*RandomArchitecture(kCnn, kMnist, rng), kMnist));
    return fps;
  };
  EXPECT_EQ(draw(1), draw(1));
  EXPECT_NE(draw(1), draw(2));
  // Pinned: the first architecture of seed 1 on 28x28x1 / 10 classes. If this
  // changes, seeds no longer name the same searches as before: that is a
  // compatibility break to document, not a test to update lightly.
  Rng rng(1);
  EXPECT_EQ(FingerprintHex(Fingerprint(*RandomArchitecture(kCnn, kMnist, rng), kMnist)),
            "434e192683382ec6");
}

TEST(RandomArchitectureTest, BadDataIsAnError) {
  Rng rng(1);
  EXPECT_FALSE(RandomArchitecture(kCnn, DataShape{0, 28, 1, 10}, rng).ok());
}

TEST(RandomArchitectureTest, GivesUpWhenNothingCanBeBuilt) {
  // Any conv layer on a 65536 x 65536 x 1 input exceeds the tensor size limit.
  Rng rng(1);
  auto arch = RandomArchitecture(kCnn, DataShape{65536, 65536, 1, 10}, rng);
  EXPECT_EQ(arch.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(arch.status().message().find("random draws"), std::string::npos);
}

}  // namespace
}  // namespace unas
