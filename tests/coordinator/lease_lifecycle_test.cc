// The lease life cycle on a hand-built state (no store, no committer: the
// writes queue up unsent): grant, heartbeat by the holder only, expiry back
// to the queue, late reports under an ended lease, and failure after
// max_attempts.
#include "coordinator/core/lease_lifecycle.h"

#include <atomic>

#include "gtest/gtest.h"

namespace unas::coordinator {
namespace {

class LeaseLifecycleTest : public ::testing::Test {
 protected:
  LeaseLifecycleTest() {
    state_.options.now_ms = [this] { return now_ms_.load(); };
    for (const char* worker_id : {"w1", "w2"}) {
      state_.workers[worker_id].info.set_worker_id(worker_id);
      state_.workers[worker_id].info.set_slots(1);
    }
    JobEntry& job = state_.jobs[1];
    job.job.set_job_id(1);
    job.job.set_state(v1::JOB_STATE_RUNNING);
    job.job.mutable_spec()->set_lease_ttl_seconds(10);
    job.job.mutable_spec()->set_max_attempts(2);
    job.job.mutable_spec()->mutable_algorithm()->set_rounds(5);
    CandidateRow queued;
    queued.candidate.set_job_id(1);
    queued.candidate.set_candidate_id(1);
    queued.candidate.set_state(v1::CANDIDATE_STATE_QUEUED);
    job.Put(queued, /*ticket=*/0);
    job.queue.push_back(1);
  }

  JobEntry& job() { return state_.jobs.at(1); }

  // Leases candidate 1 to `worker_id` as the scheduler does.
  std::string Lease(const std::string& worker_id) {
    CandidateRow leased = LeasedCopy(state_, job(), job().active_row(1), worker_id);
    job().queue.pop_front();
    TrackLease(state_, job(), leased);
    std::string lease_id = leased.lease_id;
    job().Put(std::move(leased), kNeverDurable);
    return lease_id;
  }

  v1::HeartbeatResponse Beat(const std::string& worker_id, const std::string& lease_id) {
    v1::HeartbeatRequest request;
    request.set_worker_id(worker_id);
    request.set_lease_id(lease_id);
    return RenewLease(state_, request);
  }

  CoordinatorState state_;
  std::atomic<int64_t> now_ms_{1'000'000};
};

TEST_F(LeaseLifecycleTest, GrantRenewExpireAndFailAfterMaxAttempts) {
  const std::string first = Lease("w1");
  EXPECT_EQ(first.size(), 32u) << "128 random bits in hex";
  const CandidateRow& leased = job().active_row(1);
  EXPECT_EQ(leased.candidate.state(), v1::CANDIDATE_STATE_LEASED);
  EXPECT_EQ(leased.candidate.attempts(), 1);
  EXPECT_EQ(leased.lease_expiry_ms, 1'010'000);
  EXPECT_EQ(job().leased, 1);

  EXPECT_FALSE(Beat("w2", first).keep_going()) << "only the holder renews";
  now_ms_ = 1'005'000;
  v1::HeartbeatResponse renewed = Beat("w1", first);
  EXPECT_TRUE(renewed.keep_going());
  EXPECT_EQ(job().active_row(1).lease_expiry_ms, 1'015'000);

  now_ms_ = 1'015'001;
  ExpireDueLeases(state_);
  EXPECT_TRUE(state_.leases.empty());
  EXPECT_EQ(job().state(1), v1::CANDIDATE_STATE_QUEUED);
  EXPECT_EQ(job().queue.front(), 1);
  EXPECT_EQ(job().lease_expiries, 1);
  EXPECT_FALSE(Beat("w1", first).keep_going()) << "the lease is gone";

  // A late report under the ended lease is the holder's real work; nobody
  // else may use that lease.
  v1::CompleteTaskRequest late;
  late.set_job_id(1);
  late.set_candidate_id(1);
  late.set_worker_id("w1");
  late.set_lease_id(first);
  absl::StatusOr<bool> holds = CheckReportHolder(job(), late);
  ASSERT_TRUE(holds.ok()) << holds.status();
  EXPECT_FALSE(*holds);
  late.set_worker_id("w2");
  EXPECT_EQ(CheckReportHolder(job(), late).status().code(), absl::StatusCode::kPermissionDenied);

  const std::string second = Lease("w2");
  v1::CompleteTaskRequest current;
  current.set_job_id(1);
  current.set_candidate_id(1);
  current.set_worker_id("w2");
  current.set_lease_id(second);
  EXPECT_TRUE(*CheckReportHolder(job(), current));
  now_ms_ = 1'030'000;
  ExpireDueLeases(state_);
  EXPECT_EQ(job().state(1), v1::CANDIDATE_STATE_FAILED) << "max_attempts is 2";
  EXPECT_EQ(job().failed, 1);
  EXPECT_TRUE(job().active.empty());
  ASSERT_NE(job().FindRow(1), nullptr) << "kept until its write is durable";
  ASSERT_EQ(job().FindRow(1)->candidate.failure_reasons_size(), 2);
  EXPECT_EQ(job().FindRow(1)->candidate.failure_reasons(0),
            "lease expired: no heartbeat from worker w1 for 10 s (attempt 1)");
  EXPECT_TRUE(job().ended_leases.empty()) << "forgotten once the candidate ended";
}

TEST_F(LeaseLifecycleTest, ReleasedAttemptsDoNotCountAndForgottenLeasesGoBack) {
  Lease("w1");
  // w1 has one slot and asks for more work: the lease it holds was never
  // heard of, so it goes back without using up an attempt.
  ReleaseForgottenLeases(state_, "w1");
  EXPECT_EQ(job().state(1), v1::CANDIDATE_STATE_QUEUED);
  EXPECT_EQ(job().active_row(1).candidate.attempts(), 0);
  EXPECT_EQ(job().leased, 0);
  EXPECT_FALSE(state_.writes_before_start.empty()) << "every change is written";
}

}  // namespace
}  // namespace unas::coordinator
