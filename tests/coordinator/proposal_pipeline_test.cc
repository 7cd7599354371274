// The proposal pipeline: one claimant at a time, observations delivered to
// the algorithm before it proposes, dense metrics with each proposal, and the
// algorithm freed once its job has ended.
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

// Counts the observations it gets and says when it is destroyed.
class TracedAlgorithm : public search::SearchAlgorithm {
 public:
  TracedAlgorithm(int* observed, bool* destroyed) : observed_(observed), destroyed_(destroyed) {}
  ~TracedAlgorithm() override { *destroyed_ = true; }
  absl::StatusOr<std::optional<search::Proposal>> Propose(const search::ProposalContext&) override {
    return std::nullopt;
  }
  void Observe(const search::Evaluated&) override { ++*observed_; }
  std::string name() const override { return "traced"; }

 private:
  int* observed_;
  bool* destroyed_;
};

TEST(ProposalPipelineTest, ReleaseFreesTheAlgorithmAndRefusesFurtherWork) {
  int observed = 0;
  bool destroyed = false;
  ProposalPipeline pipeline(std::make_unique<TracedAlgorithm>(&observed, &destroyed), DataShape{});
  pipeline.Observe(search::Evaluated{});
  pipeline.Release();
  EXPECT_TRUE(destroyed) << "an ended job keeps no search in memory";
  EXPECT_TRUE(pipeline.released());
  pipeline.Observe(search::Evaluated{});  // a late result: ignored, not queued
  std::vector<search::Evaluated> batch;
  EXPECT_FALSE(pipeline.TryBegin(&batch)) << "an ended job never proposes";
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(observed, 0);
}

TEST(ProposalPipelineTest, ReleaseDuringARunWaitsForItsEnd) {
  int observed = 0;
  bool destroyed = false;
  ProposalPipeline pipeline(std::make_unique<TracedAlgorithm>(&observed, &destroyed), DataShape{});
  pipeline.Observe(search::Evaluated{});
  std::vector<search::Evaluated> batch;
  ASSERT_TRUE(pipeline.TryBegin(&batch));
  // The job ends (under the lock) while the claimant runs without it.
  pipeline.Release();
  EXPECT_FALSE(destroyed) << "the running proposal still uses the algorithm";
  ProposalOutcome outcome = pipeline.Run(std::move(batch), {.candidate_id = 1});
  EXPECT_EQ(observed, 1);
  ASSERT_TRUE(outcome.proposal.ok());
  pipeline.End();
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(pipeline.TryBegin(&batch));
}

}  // namespace
}  // namespace unas::coordinator
