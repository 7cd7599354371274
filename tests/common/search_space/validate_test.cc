#include "common/search_space/validate.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/search_space/test_util.h"

namespace unas {
namespace {

using ::testing::HasSubstr;
using ::unas::testing::Golden;

const SearchSpace kCnn = DefaultSearchSpace(SpaceKind::kCnn);
const SearchSpace kMlp = DefaultSearchSpace(SpaceKind::kMlp);

std::string Error(const v1::Architecture& arch, const SearchSpace& space = kCnn) {
  return std::string(ValidateArchitecture(arch, space).message());
}

TEST(ValidateTest, GoldenArchitecturesAreValid) {
  for (const char* name :
       {"chain_mnist.textproto", "branch_cifar.textproto", "branch_dw_last_kws.textproto",
        "residual_same_shape.textproto", "inplace_add.textproto", "edge_bounds.textproto"}) {
    EXPECT_TRUE(ValidateArchitecture(Golden(name), kCnn).ok()) << name;
  }
  EXPECT_TRUE(ValidateArchitecture(Golden("mlp_fashion.json"), kMlp).ok());
  EXPECT_TRUE(ValidateArchitecture(Golden("mlp_seven_layers.textproto"), kMlp).ok());
}

TEST(ValidateTest, ErrorsNameTheElement) {
  const v1::Architecture base = Golden("branch_cifar.textproto");

  v1::Architecture a = base;
  a.mutable_cnn()->mutable_conv_blocks(0)->set_is_branch(true);
  EXPECT_EQ(Error(a), "conv_blocks[0].is_branch: the first block cannot be a branch");

  a = base;
  a.mutable_cnn()->mutable_conv_blocks(1)->mutable_layers(1)->set_filters(129);
  EXPECT_EQ(Error(a), "conv_blocks[1].layers[1].filters: 129 is outside [1, 128]");

  a = base;
  a.mutable_cnn()->mutable_conv_blocks(1)->mutable_layers(0)->set_kernel_size(4);
  EXPECT_EQ(Error(a), "conv_blocks[1].layers[0].kernel_size: 4 is not one of [3, 5, 7]");

  a = base;
  a.mutable_cnn()->mutable_conv_blocks(2)->mutable_layers(0)->set_type(
      v1::CONV_LAYER_TYPE_UNSPECIFIED);
  EXPECT_EQ(Error(a), "conv_blocks[2].layers[0].type: must be CONV2D, POINTWISE or DEPTHWISE");

  a = base;
  a.mutable_cnn()->mutable_conv_blocks(1)->clear_layers();
  EXPECT_EQ(Error(a), "conv_blocks[1].layers: 0 layers; the space allows 1 to 3");

  a = base;
  for (int i = 0; i < 2; ++i) {
    *a.mutable_cnn()->mutable_conv_blocks(1)->add_layers() = base.cnn().conv_blocks(1).layers(0);
  }
  EXPECT_EQ(Error(a), "conv_blocks[1].layers: 4 layers; the space allows 1 to 3");

  a = base;
  a.mutable_cnn()->clear_conv_blocks();
  EXPECT_EQ(Error(a), "conv_blocks: 0 blocks; the space allows 1 to 10");

  a = base;
  a.mutable_cnn()->mutable_pooling()->set_pool_size(3);
  EXPECT_EQ(Error(a), "pooling.pool_size: 3 is not one of [2, 4, 6]");

  a = base;
  a.mutable_cnn()->mutable_pooling()->set_type(v1::POOL_TYPE_UNSPECIFIED);
  EXPECT_EQ(Error(a), "pooling.type: must be AVG or MAX");

  a = base;
  a.mutable_cnn()->mutable_dense_blocks(0)->set_units(257);
  EXPECT_EQ(Error(a), "dense_blocks[0].units: 257 is outside [10, 256]");

  a = base;
  a.mutable_cnn()->clear_dense_blocks();
  EXPECT_EQ(Error(a), "dense_blocks: 0 blocks; the space allows 1 to 3");

  EXPECT_EQ(Error(base, kMlp), "cnn: the search space is MLP");
  EXPECT_EQ(Error(v1::Architecture()), "architecture: neither cnn nor mlp is set");

  v1::Architecture mlp = Golden("mlp_fashion.json");
  mlp.mutable_mlp()->mutable_layers(1)->set_units(9);
  EXPECT_EQ(Error(mlp, kMlp), "layers[1].units: 9 is outside [10, 256]");
  mlp.mutable_mlp()->clear_layers();
  EXPECT_EQ(Error(mlp, kMlp), "layers: 0 layers; the space allows 1 to 7");
}

TEST(ValidateTest, UnusedFieldsAreIgnored) {
  v1::Architecture a = Golden("branch_cifar.textproto");
  // kernel and stride of a 1x1 layer, filters of a depthwise layer.
  a.mutable_cnn()->mutable_conv_blocks(1)->mutable_layers(1)->set_kernel_size(4);
  a.mutable_cnn()->mutable_conv_blocks(1)->mutable_layers(1)->set_stride2(true);
  a.mutable_cnn()->mutable_conv_blocks(1)->mutable_layers(0)->set_filters(999);
  EXPECT_TRUE(ValidateArchitecture(a, kCnn).ok());
}

TEST(ValidateTest, NarrowedSpaceIsEnforced) {
  SearchSpace narrow = kCnn;
  narrow.cnn.max_filters = 16;
  narrow.cnn.max_conv_blocks = 2;
  const v1::Architecture a = Golden("branch_cifar.textproto");
  EXPECT_EQ(Error(a, narrow), "conv_blocks: 3 blocks; the space allows 1 to 2");
  narrow.cnn.max_conv_blocks = 3;
  EXPECT_EQ(Error(a, narrow), "conv_blocks[1].layers[1].filters: 24 is outside [1, 16]");
}

TEST(ValidateTest, DataShapeIsChecked) {
  const v1::Architecture a = Golden("chain_mnist.textproto");
  EXPECT_TRUE(ValidateForData(a, DataShape{28, 28, 1, 10}).ok());
  // The smallest possible input still builds: kernels and windows clamp.
  EXPECT_TRUE(ValidateForData(a, DataShape{1, 1, 1, 2}).ok());
  EXPECT_THAT(ValidateForData(a, DataShape{0, 28, 1, 10}).message(),
              HasSubstr("input shape: 0x28x1 must be at least 1x1x1"));
  EXPECT_THAT(ValidateForData(a, DataShape{28, 28, 1, 1}).message(),
              HasSubstr("classes: 1 must be at least 2"));
  EXPECT_TRUE(ValidateAll(a, kCnn, DataShape{28, 28, 1, 10}).ok());
}

TEST(ValidateTest, OversizedTensorsAreRejectedByName) {
  v1::Architecture a = Golden("chain_mnist.textproto");
  // 128 filters on a 8192 x 8192 input: more than 2^31 elements.
  a.mutable_cnn()->mutable_conv_blocks(0)->mutable_layers(0)->set_filters(128);
  EXPECT_THAT(ValidateForData(a, DataShape{8192, 8192, 1, 10}).message(),
              HasSubstr("conv_blocks[0].layers[0]: output 8190x8190x128"));
}

}  // namespace
}  // namespace unas
