// Queries over one job: listing orders, state filters, pages, the
// aging-evolution population (chosen from the compact index), rows taken
// from memory or the store, and Pareto fronts.
#include "coordinator/core/job_queries.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "tests/util/test_dirs.h"

namespace unas::coordinator {
namespace {

// Six candidates: 1..5 DONE, finished in the order 3, 1, 5, 2, 4; 6 QUEUED.
JobEntry SixCandidates() {
  JobEntry job;
  job.job.mutable_spec()->mutable_algorithm()->set_rounds(10);
  job.job.mutable_spec()->mutable_algorithm()->mutable_aging_evolution()->set_population_size(3);
  for (int64_t id = 1; id <= 6; ++id) {
    CandidateRow row;
    row.candidate.set_candidate_id(id);
    row.candidate.set_state(id <= 5 ? v1::CANDIDATE_STATE_DONE : v1::CANDIDATE_STATE_QUEUED);
    job.Put(row, /*ticket=*/0);
  }
  job.ForgetDurableRows(0);
  job.history = {3, 1, 5, 2, 4};
  return job;
}

// Candidate k has error 0.1 * k and peak memory 1000 * (6 - k), so every
// one is on the (error, PMU) Pareto front.
std::vector<store::EvaluationPoint> FivePoints() {
  std::vector<store::EvaluationPoint> points;
  for (int64_t id : {3, 1, 5, 2, 4}) {
    store::EvaluationPoint point;
    point.candidate_id = id;
    point.feasible = true;
    point.validation_error = 0.1 * static_cast<double>(id);
    point.metrics.set_peak_memory_bytes(1000 * (6 - id));
    points.push_back(point);
  }
  return points;
}

TEST(JobQueriesTest, OrdersFiltersAndPages) {
  JobEntry job = SixCandidates();
  EXPECT_TRUE(job.finishing.empty()) << "finished rows leave memory";
  EXPECT_EQ(job.active.size(), 1u);
  v1::ListCandidatesRequest request;
  request.set_page_size(4);
  auto first = SelectCandidatePage(job, request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->ids, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(first->total_size, 6);
  request.set_page_token(first->next_page_token);
  auto second = SelectCandidatePage(job, request);
  EXPECT_EQ(second->ids, (std::vector<int64_t>{5, 6}));
  EXPECT_TRUE(second->next_page_token.empty());

  v1::ListCandidatesRequest by_finish;
  by_finish.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
  EXPECT_EQ(SelectCandidatePage(job, by_finish)->ids, (std::vector<int64_t>{3, 1, 5, 2, 4}));
  by_finish.set_population_only(true);
  EXPECT_EQ(SelectCandidatePage(job, by_finish)->ids, (std::vector<int64_t>{5, 2, 4}));

  v1::ListCandidatesRequest queued;
  queued.add_states(v1::CANDIDATE_STATE_QUEUED);
  EXPECT_EQ(SelectCandidatePage(job, queued)->ids, (std::vector<int64_t>{6}));
  v1::ListCandidatesRequest bad;
  bad.set_page_token("x");
  EXPECT_EQ(SelectCandidatePage(job, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

// Any int64 a client sends as a token: past the end lists nothing (before,
// offset + page_size overflowed and a negative "next" token came back).
TEST(JobQueriesTest, PageTokensPastTheEndListNothing) {
  JobEntry job = SixCandidates();
  v1::ListCandidatesRequest request;
  request.set_page_size(4);
  for (const char* token : {"6", "7", "9223372036854775807", "9223372036854775804"}) {
    request.set_page_token(token);
    absl::StatusOr<CandidatePage> page = SelectCandidatePage(job, request);
    ASSERT_TRUE(page.ok()) << token << ": " << page.status();
    EXPECT_TRUE(page->ids.empty()) << token;
    EXPECT_TRUE(page->next_page_token.empty()) << token << " -> " << page->next_page_token;
    EXPECT_EQ(page->total_size, 6);
  }
  request.set_page_token("9223372036854775808");  // not an int64
  EXPECT_EQ(SelectCandidatePage(job, request).status().code(), absl::StatusCode::kInvalidArgument);
  request.set_page_token(std::string(100000, '7'));
  absl::Status refused = SelectCandidatePage(job, request).status();
  EXPECT_LT(refused.message().size(), 200u) << "the token is not echoed whole";
}

TEST(JobQueriesTest, AssemblesRowsFromMemoryAndTheStore) {
  const std::string dir = testing::MakeTestDir("job_queries_assemble");
  absl::StatusOr<std::unique_ptr<store::Store>> opened = store::Store::Open(dir + "/test.db");
  ASSERT_TRUE(opened.ok()) << opened.status();
  store::Store& db = **opened;
  v1::JobSpec spec;
  spec.set_name("assemble");
  ASSERT_TRUE(db.InsertJob(1, spec, 0).ok());
  for (int64_t id : {1, 2}) {
    CandidateRow row;
    row.candidate.set_job_id(1);
    row.candidate.set_candidate_id(id);
    row.candidate.set_state(v1::CANDIDATE_STATE_SKIPPED);
    ASSERT_TRUE(db.WriteBatch({[row](store::Store& s) { return s.InsertCandidate(row); }}).ok());
  }
  absl::flat_hash_map<int64_t, v1::Candidate> in_memory;
  in_memory[3].set_candidate_id(3);
  in_memory[3].mutable_evaluation()->set_trained_weights("weights");
  auto assembled = AssembleCandidates(db, 1, {3, 1, 2}, in_memory);
  ASSERT_TRUE(assembled.ok()) << assembled.status();
  ASSERT_EQ(assembled->size(), 3u);
  EXPECT_EQ((*assembled)[0].candidate_id(), 3);
  EXPECT_EQ((*assembled)[1].candidate_id(), 1);
  EXPECT_EQ((*assembled)[2].state(), v1::CANDIDATE_STATE_SKIPPED);
  EXPECT_EQ(AssembleCandidates(db, 1, {4}, {}).status().code(), absl::StatusCode::kInternal);
  opened->reset();
  std::filesystem::remove_all(dir);
}

TEST(JobQueriesTest, ParetoFrontByErrorThenId) {
  v1::GetParetoFrontRequest request;
  request.add_objectives(v1::OBJECTIVE_ERROR);
  request.add_objectives(v1::OBJECTIVE_PEAK_MEMORY);
  auto front = ParetoFrontIds(FivePoints(), request);
  ASSERT_TRUE(front.ok()) << front.status();
  EXPECT_EQ(*front, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  // In the error alone only the best remains.
  v1::GetParetoFrontRequest error_only;
  error_only.add_objectives(v1::OBJECTIVE_ERROR);
  EXPECT_EQ(*ParetoFrontIds(FivePoints(), error_only), (std::vector<int64_t>{1}));
  v1::GetParetoFrontRequest unknown;
  unknown.add_objectives(static_cast<v1::Objective>(99));
  EXPECT_EQ(ParetoFrontIds(FivePoints(), unknown).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace unas::coordinator
