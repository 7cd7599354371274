#include "common/search_space/sparsity.h"

#include "gtest/gtest.h"

namespace unas {
namespace {

TEST(SparsityTest, RangeDefaultsAndChecks) {
  v1::PruningSpec spec;
  auto range = ResolveSparsityRange(spec);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->min, 0.0);
  EXPECT_EQ(range->max, 0.995);
  spec.set_min_sparsity(0.5);
  spec.set_max_sparsity(0.4);
  EXPECT_FALSE(ResolveSparsityRange(spec).ok());
  spec.set_max_sparsity(1.0);
  EXPECT_FALSE(ResolveSparsityRange(spec).ok());
  spec.set_min_sparsity(-0.1);
  spec.set_max_sparsity(0.5);
  EXPECT_FALSE(ResolveSparsityRange(spec).ok());
}

TEST(SparsityTest, RandomSparsityIsUniformInTheRange) {
  const SparsityRange range{0.2, 0.8};
  Rng rng(1);
  double sum = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double s = RandomSparsity(range, rng);
    ASSERT_GE(s, 0.2);
    ASSERT_LT(s, 0.8);
    sum += s;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
}

TEST(SparsityTest, MutationIsASmallClippedNormalStep) {
  const SparsityRange range{0.1, 0.9};
  Rng rng(2);
  double sum = 0, sum_sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double d = MutateSparsity(0.5, range, rng) - 0.5;
    sum += d;
    sum_sq += d * d;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.002);
  EXPECT_NEAR(std::sqrt(sum_sq / n), kSparsityStep, 0.002);
  int at_max = 0;
  for (int i = 0; i < 1000; ++i) {
    const double s = MutateSparsity(0.9, range, rng);
    ASSERT_LE(s, 0.9);
    ASSERT_GE(s, 0.1);
    at_max += s == 0.9;
  }
  EXPECT_NEAR(at_max, 500, 80);  // half the steps go up and are clipped
  Rng a(5), b(5);
  EXPECT_EQ(MutateSparsity(0.3, range, a), MutateSparsity(0.3, range, b));
}

}  // namespace
}  // namespace unas
