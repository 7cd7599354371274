// Queries over one job's model: listing orders, state filters, pages, the
// aging-evolution population, and Pareto fronts (no weights in answers).
#include "coordinator/core/job_queries.h"

#include "gtest/gtest.h"

namespace unas::coordinator {
namespace {

// Six candidates: 1..5 DONE, finished in the order 3, 1, 5, 2, 4; 6 QUEUED.
// Candidate k has error 0.1 * k and peak memory 1000 * (6 - k), so every
// DONE one is on the (error, PMU) Pareto front.
JobEntry SixCandidates() {
  JobEntry job;
  job.job.mutable_spec()->mutable_algorithm()->set_rounds(10);
  job.job.mutable_spec()->mutable_algorithm()->mutable_aging_evolution()->set_population_size(3);
  for (int64_t id = 1; id <= 6; ++id) {
    CandidateRow row;
    v1::Candidate& c = row.candidate;
    c.set_candidate_id(id);
    c.set_state(id <= 5 ? v1::CANDIDATE_STATE_DONE : v1::CANDIDATE_STATE_QUEUED);
    c.set_feasible(true);
    c.mutable_evaluation()->set_validation_error(0.1 * static_cast<double>(id));
    c.mutable_evaluation()->set_trained_weights("weights");
    c.mutable_metrics()->set_peak_memory_bytes(1000 * (6 - id));
    job.candidates.push_back(row);
  }
  job.history = {3, 1, 5, 2, 4};
  return job;
}

std::vector<int64_t> Ids(const v1::ListCandidatesResponse& response) {
  std::vector<int64_t> ids;
  for (const v1::Candidate& c : response.candidates()) ids.push_back(c.candidate_id());
  return ids;
}

TEST(JobQueriesTest, OrdersFiltersAndPages) {
  JobEntry job = SixCandidates();
  v1::ListCandidatesRequest request;
  request.set_page_size(4);
  auto first = ListJobCandidates(job, request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Ids(*first), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(first->total_size(), 6);
  EXPECT_TRUE(first->candidates(0).evaluation().trained_weights().empty()) << "light copies";
  request.set_page_token(first->next_page_token());
  EXPECT_EQ(Ids(*ListJobCandidates(job, request)), (std::vector<int64_t>{5, 6}));

  v1::ListCandidatesRequest by_finish;
  by_finish.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
  EXPECT_EQ(Ids(*ListJobCandidates(job, by_finish)), (std::vector<int64_t>{3, 1, 5, 2, 4}));
  by_finish.set_population_only(true);
  EXPECT_EQ(Ids(*ListJobCandidates(job, by_finish)), (std::vector<int64_t>{5, 2, 4}));

  v1::ListCandidatesRequest queued;
  queued.add_states(v1::CANDIDATE_STATE_QUEUED);
  EXPECT_EQ(Ids(*ListJobCandidates(job, queued)), (std::vector<int64_t>{6}));
  v1::ListCandidatesRequest bad;
  bad.set_page_token("x");
  EXPECT_EQ(ListJobCandidates(job, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JobQueriesTest, ParetoFrontByErrorThenId) {
  JobEntry job = SixCandidates();
  v1::GetParetoFrontRequest request;
  request.add_objectives(v1::OBJECTIVE_ERROR);
  request.add_objectives(v1::OBJECTIVE_PEAK_MEMORY);
  auto front = JobParetoFront(job, request);
  ASSERT_TRUE(front.ok()) << front.status();
  ASSERT_EQ(front->candidates_size(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(front->candidates(i).candidate_id(), i + 1);
  // In the error alone only the best remains.
  v1::GetParetoFrontRequest error_only;
  error_only.add_objectives(v1::OBJECTIVE_ERROR);
  auto best = JobParetoFront(job, error_only);
  ASSERT_EQ(best->candidates_size(), 1);
  EXPECT_EQ(best->candidates(0).candidate_id(), 1);
  v1::GetParetoFrontRequest unknown;
  unknown.add_objectives(static_cast<v1::Objective>(99));
  EXPECT_EQ(JobParetoFront(job, unknown).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace unas::coordinator
