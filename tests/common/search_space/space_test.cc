#include "common/search_space/space.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace unas {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SpaceTest, AbsentBoundsTakeTheDefaults) {
  v1::SearchSpaceSpec spec;
  auto space = ResolveSearchSpace(spec);
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ(space->kind, SpaceKind::kCnn);
  EXPECT_EQ(space->cnn.max_conv_blocks, 10);
  EXPECT_EQ(space->cnn.max_layers_per_block, 3);
  EXPECT_EQ(space->cnn.max_filters, 128);
  EXPECT_THAT(space->cnn.kernel_sizes, ElementsAre(3, 5, 7));
  EXPECT_THAT(space->cnn.pool_sizes, ElementsAre(2, 4, 6));
  EXPECT_EQ(space->cnn.max_dense_blocks, 3);
  EXPECT_EQ(space->cnn.min_dense_units, 10);
  EXPECT_EQ(space->cnn.max_dense_units, 256);
  EXPECT_EQ(space->mlp.max_layers, 7);
  EXPECT_EQ(space->mlp.min_units, 10);
  EXPECT_EQ(space->mlp.max_units, 256);
  EXPECT_EQ(space->dropout, 0.0);
}

TEST(SpaceTest, PresentBoundsOverride) {
  v1::SearchSpaceSpec spec;
  spec.set_kind(v1::SEARCH_SPACE_KIND_MLP);
  spec.set_dropout(0.2);
  spec.mutable_cnn()->set_max_filters(0 + 32);
  spec.mutable_cnn()->add_kernel_sizes(5);
  spec.mutable_cnn()->add_kernel_sizes(3);
  spec.mutable_mlp()->set_max_layers(2);
  auto space = ResolveSearchSpace(spec);
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_EQ(space->kind, SpaceKind::kMlp);
  EXPECT_EQ(space->dropout, 0.2);
  EXPECT_EQ(space->cnn.max_filters, 32);
  EXPECT_THAT(space->cnn.kernel_sizes, ElementsAre(3, 5));  // sorted
  EXPECT_EQ(space->mlp.max_layers, 2);
}

TEST(SpaceTest, BadBoundsNameTheField) {
  v1::SearchSpaceSpec spec;
  spec.mutable_cnn()->set_max_conv_blocks(0);
  EXPECT_THAT(ResolveSearchSpace(spec).status().message(),
              HasSubstr("search_space.cnn.max_conv_blocks"));

  spec = {};
  spec.mutable_cnn()->set_min_dense_units(50);
  spec.mutable_cnn()->set_max_dense_units(20);
  EXPECT_THAT(ResolveSearchSpace(spec).status().message(),
              HasSubstr("search_space.cnn.max_dense_units"));

  spec = {};
  spec.mutable_cnn()->add_pool_sizes(2);
  spec.mutable_cnn()->add_pool_sizes(2);
  EXPECT_THAT(ResolveSearchSpace(spec).status().message(),
              HasSubstr("search_space.cnn.pool_sizes: values must be distinct"));

  spec = {};
  spec.mutable_cnn()->add_kernel_sizes(0);
  EXPECT_THAT(ResolveSearchSpace(spec).status().message(),
              HasSubstr("search_space.cnn.kernel_sizes[0]"));

  spec = {};
  spec.set_dropout(1.0);
  EXPECT_THAT(ResolveSearchSpace(spec).status().message(), HasSubstr("search_space.dropout"));

  spec = {};
  spec.mutable_mlp()->set_max_units(5);
  EXPECT_THAT(ResolveSearchSpace(spec).status().message(), HasSubstr("search_space.mlp.max_units"));
}

TEST(SpaceTest, InputShapeParsing) {
  auto data = ParseInputShape("49x40x1", 12);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->height, 49);
  EXPECT_EQ(data->width, 40);
  EXPECT_EQ(data->channels, 1);
  EXPECT_EQ(data->num_classes, 12);
  EXPECT_FALSE(ParseInputShape("28x28", 10).ok());
  EXPECT_FALSE(ParseInputShape("28x0x1", 10).ok());
  EXPECT_FALSE(ParseInputShape("axbxc", 10).ok());
  EXPECT_THAT(ParseInputShape("28x28x1", 1).status().message(), HasSubstr("classes"));
}

TEST(SpaceTest, TwoClassesMeanOneLogit) {
  EXPECT_EQ(OutputUnits(DataShape{8, 8, 1, 2}), 1);
  EXPECT_EQ(OutputUnits(DataShape{8, 8, 1, 3}), 3);
  EXPECT_EQ(OutputUnits(DataShape{8, 8, 1, 10}), 10);
}

}  // namespace
}  // namespace unas
