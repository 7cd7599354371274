#include "common/search_space/fingerprint.h"

#include "absl/container/flat_hash_map.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/random_architecture.h"
#include "gtest/gtest.h"
#include "tests/common/search_space/test_util.h"

namespace unas {
namespace {

using ::unas::testing::Golden;

const DataShape kMnist{28, 28, 1, 10};

TEST(FingerprintTest, Fnv1a64TestVectors) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(FingerprintTest, PinnedAcrossRunsAndBuilds) {
  // Stored fingerprints must keep matching: this value may only change with
  // a new "unas-fp-N" version of the canonical bytes.
  EXPECT_EQ(FingerprintHex(Fingerprint(Golden("chain_mnist.textproto"), kMnist)),
            "08ca377a7aafd4b6");
  EXPECT_EQ(FingerprintHex(0xab), "00000000000000ab");
}

TEST(FingerprintTest, EqualArchitecturesHaveEqualFingerprints) {
  const v1::Architecture a = Golden("branch_cifar.textproto");
  v1::Architecture b = a;
  EXPECT_EQ(Fingerprint(a, kMnist), Fingerprint(b, kMnist));
  // The same network written in JSON.
  v1::Architecture from_json;
  ASSERT_TRUE(ParseProto(ToJson(a), ProtoFormat::kJson, "a.json", &from_json).ok());
  EXPECT_EQ(Fingerprint(a, kMnist), Fingerprint(from_json, kMnist));
  // Values the built network does not use.
  b.mutable_cnn()->mutable_conv_blocks(2)->mutable_layers(0)->set_filters(7);   // branch last layer
  b.mutable_cnn()->mutable_conv_blocks(1)->mutable_layers(0)->set_filters(99);  // depthwise
  b.mutable_cnn()->mutable_conv_blocks(1)->mutable_layers(1)->set_kernel_size(5);  // 1x1
  b.mutable_cnn()->mutable_conv_blocks(1)->mutable_layers(1)->set_stride2(true);   // 1x1
  EXPECT_EQ(Fingerprint(a, kMnist), Fingerprint(b, kMnist));
  EXPECT_EQ(CanonicalBytes(a, kMnist), CanonicalBytes(b, kMnist));
}

TEST(FingerprintTest, AnyRelevantDifferenceChangesIt) {
  const v1::Architecture a = Golden("branch_cifar.textproto");
  const uint64_t fp = Fingerprint(a, kMnist);
  EXPECT_NE(fp, Fingerprint(a, DataShape{28, 28, 3, 10}));
  EXPECT_NE(fp, Fingerprint(a, DataShape{28, 27, 1, 10}));
  EXPECT_NE(fp, Fingerprint(a, DataShape{28, 28, 1, 2}));
  v1::Architecture b = a;
  b.mutable_cnn()->mutable_conv_blocks(1)->mutable_layers(1)->set_filters(23);
  EXPECT_NE(fp, Fingerprint(b, kMnist));
  b = a;
  b.mutable_cnn()->mutable_conv_blocks(2)->set_is_branch(false);
  EXPECT_NE(fp, Fingerprint(b, kMnist));
  b = a;
  b.mutable_cnn()->clear_pooling();
  EXPECT_NE(fp, Fingerprint(b, kMnist));
  v1::Architecture mlp;
  mlp.mutable_mlp()->add_layers()->set_units(10);
  v1::Architecture mlp2 = mlp;
  mlp2.mutable_mlp()->add_layers()->set_units(10);
  EXPECT_NE(Fingerprint(mlp, kMnist), Fingerprint(mlp2, kMnist));
}

TEST(FingerprintTest, NoCollisionsAmong100000RandomArchitectures) {
  Rng rng(2024);
  const SearchSpace cnn = DefaultSearchSpace(SpaceKind::kCnn);
  const SearchSpace mlp = DefaultSearchSpace(SpaceKind::kMlp);
  absl::flat_hash_map<uint64_t, std::string> seen;
  int distinct_networks = 0;
  for (int i = 0; i < 100000; ++i) {
    auto arch = RandomArchitecture(i % 10 == 0 ? mlp : cnn, kMnist, rng);
    ASSERT_TRUE(arch.ok());
    std::string bytes = CanonicalBytes(*arch, kMnist);
    const uint64_t fp = Fnv1a64(bytes);
    ASSERT_EQ(fp, Fingerprint(*arch, kMnist));
    auto [it, inserted] = seen.emplace(fp, std::move(bytes));
    if (inserted) {
      ++distinct_networks;
    } else {
      // The same fingerprint is only allowed for the very same network.
      ASSERT_EQ(it->second, CanonicalBytes(*arch, kMnist)) << "collision at draw " << i;
    }
  }
  // Random draws repeat a network only rarely (mostly one-layer MLPs, of
  // which there are 247).
  EXPECT_GT(distinct_networks, 98000);
}

}  // namespace
}  // namespace unas
