// The proposal pipeline: one claimant at a time, observations delivered to
// the algorithm before it proposes, and dense metrics with each proposal.
#include "coordinator/core/proposal_pipeline.h"

#include "common/job_spec/loader.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::coordinator {
namespace {

ProposalPipeline MakePipeline(const v1::JobSpec& raw) {
  absl::StatusOr<v1::JobSpec> spec = PrepareJobSpec(raw);
  EXPECT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<std::unique_ptr<search::SearchAlgorithm>> algorithm =
      search::MakeSearchAlgorithm(*spec);
  EXPECT_TRUE(algorithm.ok()) << algorithm.status();
  return ProposalPipeline(*std::move(algorithm),
                          MakeDataShape(spec->input_shape(), spec->num_classes()));
}

TEST(ProposalPipelineTest, OneClaimantAtATime) {
  ProposalPipeline pipeline = MakePipeline(testing::SmallSpec(10));
  std::vector<search::Evaluated> batch;
  ASSERT_TRUE(pipeline.TryBegin(&batch));
  EXPECT_TRUE(pipeline.running());
  std::vector<search::Evaluated> other;
  EXPECT_FALSE(pipeline.TryBegin(&other));
  pipeline.End();
  EXPECT_TRUE(pipeline.TryBegin(&other));
}

TEST(ProposalPipelineTest, ProposesWithMetricsAndEvolvesFromObservations) {
  // Population 8, sample 4: after 8 observations aging evolution mutates.
  ProposalPipeline pipeline = MakePipeline(testing::SmallSpec(30));
  std::vector<search::Evaluated> batch;
  ASSERT_TRUE(pipeline.TryBegin(&batch));
  EXPECT_TRUE(batch.empty());
  ProposalOutcome first = pipeline.Run(batch, {.candidate_id = 1});
  pipeline.End();
  ASSERT_TRUE(first.proposal.ok()) << first.proposal.status();
  ASSERT_TRUE(first.proposal->has_value());
  EXPECT_FALSE((*first.proposal)->parent_id.has_value()) << "random at first";
  ASSERT_TRUE(first.metrics.ok()) << first.metrics.status();
  EXPECT_GT(first.metrics->model_size_bytes(), 0);

  for (int64_t id = 1; id <= 8; ++id) {
    search::Evaluated evaluated;
    evaluated.candidate_id = id;
    evaluated.architecture = (*first.proposal)->architecture;
    evaluated.objectives = {0.1, 1000, 1000, 1000};
    pipeline.Observe(evaluated);
  }
  ASSERT_TRUE(pipeline.TryBegin(&batch));
  EXPECT_EQ(batch.size(), 8u) << "the observations queued under the lock";
  ProposalOutcome child =
      pipeline.Run(std::move(batch), {.candidate_id = 9, .evaluations_done = 8, .in_flight = 0});
  pipeline.End();
  ASSERT_TRUE(child.proposal.ok()) << child.proposal.status();
  ASSERT_TRUE(child.proposal->has_value());
  EXPECT_TRUE((*child.proposal)->parent_id.has_value()) << "evolved from the population";
}

}  // namespace
}  // namespace unas::coordinator
