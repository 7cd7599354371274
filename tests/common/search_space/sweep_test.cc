// The sweeps: 2,000 random architectures on each of four inputs are
// valid and give a resource graph with positive PMU, size and MACs; every
// neighbour of 300 of them is valid and differs from its parent.
#include "absl/strings/str_cat.h"
#include "common/search_space/fingerprint.h"
#include "common/search_space/morphisms.h"
#include "common/search_space/random_architecture.h"
#include "common/search_space/resource_graph.h"
#include "common/search_space/validate.h"
#include "gtest/gtest.h"
#include "tests/common/search_space/test_util.h"

namespace unas {
namespace {

class SweepTest : public ::testing::TestWithParam<DataShape> {};

TEST_P(SweepTest, RandomArchitecturesAndTheirNeighbours) {
  const DataShape data = GetParam();
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  Rng rng(1000 + data.height * 7 + data.channels);
  int neighbours_checked = 0;
  for (int i = 0; i < 2000; ++i) {
    auto arch = RandomArchitecture(space, data, rng);
    ASSERT_TRUE(arch.ok()) << arch.status();
    ASSERT_TRUE(ValidateAll(*arch, space, data).ok()) << arch->DebugString();
    auto report = ComputeArchitectureResources(*arch, data);
    ASSERT_TRUE(report.ok()) << report.status() << "\n" << arch->DebugString();
    ASSERT_GT(report->pmu_bytes, 0);
    ASSERT_GE(report->pmu_with_input_bytes, report->pmu_bytes);
    ASSERT_GT(report->model_size_unas, 0);
    ASSERT_GT(report->macs, 0);
    if (i % 2 == 1 || neighbours_checked == 300) continue;  // every other one
    ++neighbours_checked;
    const uint64_t parent = Fingerprint(*arch, data);
    auto all = Neighbours(*arch, space, rng);
    ASSERT_TRUE(all.ok()) << all.status();
    for (const Neighbour& n : *all) {
      ASSERT_TRUE(ValidateAll(n.architecture, space, data).ok()) << n.change;
      ASSERT_NE(Fingerprint(n.architecture, data), parent) << n.change;
      ASSERT_TRUE(BuildResourceGraph(n.architecture, data).ok()) << n.change;
    }
  }
  EXPECT_EQ(neighbours_checked, 300);
}

TEST(SweepTest, RandomMlps) {
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kMlp);
  const DataShape data{28, 28, 1, 10};
  Rng rng(77);
  for (int i = 0; i < 2000; ++i) {
    auto arch = RandomArchitecture(space, data, rng);
    ASSERT_TRUE(arch.ok());
    auto report = ComputeArchitectureResources(*arch, data);
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_GT(report->pmu_bytes, 0);
    ASSERT_GT(report->model_size_unas, 0);
    ASSERT_GT(report->macs, 0);
    if (i < 300) {
      auto all = Neighbours(*arch, space, rng);
      ASSERT_TRUE(all.ok());
      for (const Neighbour& n : *all) {
        ASSERT_TRUE(ValidateAll(n.architecture, space, data).ok()) << n.change;
        ASSERT_NE(Fingerprint(n.architecture, data), Fingerprint(*arch, data)) << n.change;
      }
    }
  }
}

std::string InputName(const ::testing::TestParamInfo<DataShape>& info) {
  return absl::StrCat(info.param.height, "x", info.param.width, "x", info.param.channels);
}

INSTANTIATE_TEST_SUITE_P(Inputs, SweepTest, ::testing::ValuesIn(testing::kSweepInputs), InputName);

}  // namespace
}  // namespace unas
