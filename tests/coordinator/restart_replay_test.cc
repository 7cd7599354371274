// Restart replay: a database left by a coordinator with evaluations done and
// one lease out is read back into a fresh state. Counts, history order, the
// lease (with a fresh TTL) and the queue come back; finished rows keep only
// their state byte in memory.
#include "coordinator/core/restart_replay.h"

#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::coordinator {
namespace {

using testing::FakeClock;

TEST(RestartReplayTest, RebuildsCountsHistoryAndLeasesFromTheStore) {
  const std::string db = testing::TempDbPath(testing::TestName());
  FakeClock clock;
  int64_t job_id = 0;
  std::vector<int64_t> history_before;
  std::optional<v1::Task> in_flight;
  testing::TestWorker worker_id;
  {
    std::unique_ptr<Coordinator> coordinator = testing::MakeCoordinator(db, &clock);
    job_id = coordinator->SubmitJob(testing::SmallSpec(30))->job_id();
    worker_id = testing::Register(*coordinator, "replayed");
    testing::DrainSynthetic(*coordinator, worker_id, 12);
    in_flight = testing::Acquire(*coordinator, worker_id);
    ASSERT_TRUE(in_flight.has_value());
    v1::ListCandidatesRequest request;
    request.set_job_id(job_id);
    request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
    absl::StatusOr<v1::ListCandidatesResponse> listed = coordinator->ListCandidates(request);
    ASSERT_TRUE(listed.ok()) << listed.status();
    for (const v1::Candidate& candidate : listed->candidates()) {
      history_before.push_back(candidate.candidate_id());
    }
  }
  clock.Advance(60'000);
  CoordinatorState state;
  state.options.now_ms = clock.fn();
  absl::StatusOr<std::unique_ptr<store::Store>> opened = store::Store::Open(db);
  ASSERT_TRUE(opened.ok()) << opened.status();
  state.store = *std::move(opened);
  ASSERT_TRUE(RestoreFromStore(state).ok());

  ASSERT_EQ(state.jobs.size(), 1u);
  const JobEntry& job = state.jobs.at(job_id);
  EXPECT_EQ(job.done, 12);
  EXPECT_EQ(job.leased, 1);
  EXPECT_EQ(job.history, history_before);
  EXPECT_EQ(state.next_job_id, job_id + 1);
  EXPECT_EQ(worker_id.id, "w1");
  ASSERT_TRUE(state.workers.contains(worker_id.id));
  EXPECT_TRUE(SecretMatches(worker_id.secret, state.workers.at(worker_id.id).secret_digest))
      << "a worker goes on with its secret after a restart, without registering again";
  EXPECT_EQ(state.next_worker_number, 2) << "the next worker is w2";
  ASSERT_TRUE(state.leases.contains(in_flight->lease_id()));
  const CandidateRow& leased = job.active.at(in_flight->candidate_id());
  EXPECT_GE(leased.lease_expiry_ms,
            clock.ms.load() + int64_t{job.job.spec().lease_ttl_seconds()} * 1000)
      << "a fresh TTL after the restart";
  EXPECT_EQ(job.active.size(), 1u) << "only the leased candidate's row";
  EXPECT_TRUE(job.finishing.empty()) << "finished rows stay in the store";
  EXPECT_EQ(job.candidate_count(), static_cast<int64_t>(job.states.size()));
  for (int64_t id : job.history) EXPECT_EQ(job.state(id), v1::CANDIDATE_STATE_DONE);
  EXPECT_EQ(job.job.state(), v1::JOB_STATE_RUNNING);
}

}  // namespace
}  // namespace unas::coordinator
