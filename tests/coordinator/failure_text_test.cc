// The failure text limits and classes (coordinator/core/failure_text.h).
#include "coordinator/core/failure_text.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace unas::coordinator {
namespace {

TEST(FailureTextTest, ReasonsAreCutAtOneLimitOnACharacterBoundary) {
  EXPECT_EQ(TruncateReason("short"), "short");
  const std::string exact(kMaxReasonBytes, 'x');
  EXPECT_EQ(TruncateReason(exact), exact);
  const std::string cut = TruncateReason(std::string(5000, 'y'));
  EXPECT_EQ(cut.size(), kMaxReasonBytes);
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");
  // Two-byte characters: the cut never splits one.
  std::string accents;
  while (accents.size() < 3000) accents += "é";
  const std::string cut_accents = TruncateReason(accents);
  EXPECT_LE(cut_accents.size(), kMaxReasonBytes);
  const std::string kept = cut_accents.substr(0, cut_accents.size() - 3);
  EXPECT_EQ(kept.size() % 2, 0u);
  EXPECT_EQ(kept, accents.substr(0, kept.size()));
}

TEST(FailureTextTest, ClassesIgnoreNumbersQuotedNamesAndIds) {
  EXPECT_EQ(FailureClass("CUDA out of memory allocating 1536 MiB for 'conv_7'"),
            FailureClass("CUDA out of memory allocating 20.5 MiB for 'dense_final'"));
  EXPECT_EQ(FailureClass("lease expired: no heartbeat from worker w3 for 120 s (attempt 2)"),
            FailureClass("lease expired: no heartbeat from worker w17 for 120 s (attempt 3)"));
  EXPECT_EQ(FailureClass("invalid result: layer \"a\" has  7 channels"),
            FailureClass("invalid result: layer \"block2/conv\" has 12 channels"));
  EXPECT_EQ(FailureClass("lease 3f9a0c21 ended"), FailureClass("lease 9be1 ended"));
  EXPECT_NE(FailureClass("the dataset is missing"), FailureClass("CUDA out of memory"));
  EXPECT_NE(FailureClass("one"), FailureClass("two"));
  EXPECT_EQ(FailureClass("unterminated 'quote 12"), "unterminated 'quote #");
  EXPECT_LE(FailureClass(std::string(100000, 'z')).size(), kMaxReasonBytes);
  // An apostrophe inside a word quotes nothing, so distinct causes stay apart.
  EXPECT_NE(FailureClass("can't open the dataset, don't retry"),
            FailureClass("can't allocate the arena, don't retry"));
  // A long hex id is one '#' whatever digit it starts with.
  EXPECT_EQ(FailureClass("lease deadbeef01 ended"), FailureClass("lease 0123abcd9f ended"));
  EXPECT_NE(FailureClass("a decade passed"), FailureClass("a faded passed"));
}

}  // namespace
}  // namespace unas::coordinator
