// The leases by worker (lease_table.h) stay consistent with the candidates'
// rows: a worker's busy slots, as ListWorkers reports them, always equal the
// LEASED candidates it holds, through leases, results, failures, expiries,
// forgotten leases, re-registration and a restart.
#include <map>

#include "coordinator/core/lease_table.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::coordinator {
namespace {

using testing::Acquire;
using testing::Complete;
using testing::FakeClock;
using testing::Identify;
using testing::MakeCoordinator;
using testing::Register;
using testing::SmallSpec;
using testing::SyntheticResult;
using testing::TempDbPath;
using testing::TestName;
using testing::TestWorker;

TEST(LeaseTableTest, IndexesLeasesByIdAndByHolder) {
  LeaseTable leases;
  leases.Add("l3", {1, 3, 10, "w1"});
  leases.Add("l1", {1, 1, 10, "w1"});
  leases.Add("l2", {2, 1, 10, "w2"});
  EXPECT_EQ(leases.size(), 3u);
  EXPECT_EQ(leases.CountHeldBy("w1"), 2);
  std::vector<LeaseRef> held = leases.HeldBy("w1");
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].candidate_id, 1) << "by job, then candidate";
  EXPECT_EQ(held[1].candidate_id, 3);
  ASSERT_NE(leases.Find("l2"), nullptr);
  EXPECT_EQ(leases.Find("l2")->worker_id, "w2");
  leases.Remove("l1");
  leases.Remove("l1");  // already ended: nothing
  leases.Remove("unknown");
  EXPECT_EQ(leases.CountHeldBy("w1"), 1);
  EXPECT_EQ(leases.Find("l1"), nullptr);
  leases.Add("l2", {2, 1, 20, "w3"});  // the same id again: the holder changes
  EXPECT_EQ(leases.CountHeldBy("w2"), 0);
  EXPECT_EQ(leases.CountHeldBy("w3"), 1);
  leases.Remove("l3");
  leases.Remove("l2");
  EXPECT_TRUE(leases.empty());
  EXPECT_TRUE(leases.HeldBy("w1").empty());
  EXPECT_EQ(leases.CountHeldBy("nobody"), 0);
}

// Busy slots by worker id as ListWorkers reports them, and as the job's
// LEASED candidates say; the two must agree.
std::map<std::string, int> Busy(Coordinator& c, int64_t job_id) {
  std::map<std::string, int> reported;
  for (const v1::WorkerInfo& worker : c.ListWorkers(/*include_inactive=*/true)) {
    if (worker.busy_slots() > 0) reported[worker.worker_id()] = worker.busy_slots();
  }
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.add_states(v1::CANDIDATE_STATE_LEASED);
  absl::StatusOr<v1::ListCandidatesResponse> leased = c.ListCandidates(request);
  EXPECT_TRUE(leased.ok()) << leased.status();
  std::map<std::string, int> from_rows;
  if (leased.ok()) {
    for (const v1::Candidate& candidate : leased->candidates()) ++from_rows[candidate.worker_id()];
  }
  EXPECT_EQ(reported, from_rows) << "ListWorkers' busy slots disagree with the leased rows";
  return reported;
}

TEST(WorkerLeasesTest, BusySlotsFollowEveryWayALeaseStartsAndEnds) {
  FakeClock clock;
  const std::string db = TempDbPath(TestName());
  auto c = MakeCoordinator(db, &clock);
  const int64_t job_id = c->SubmitJob(SmallSpec(40))->job_id();
  TestWorker a = Register(*c, "a", 3);
  TestWorker b = Register(*c, "b", 1);
  using Slots = std::map<std::string, int>;
  EXPECT_EQ(Busy(*c, job_id), Slots{});

  std::vector<v1::Task> held;
  for (int i = 0; i < 3; ++i) {
    std::optional<v1::Task> task = Acquire(*c, a);
    ASSERT_TRUE(task);
    held.push_back(*task);
  }
  std::optional<v1::Task> on_b = Acquire(*c, b);
  ASSERT_TRUE(on_b);
  EXPECT_EQ(Busy(*c, job_id), (Slots{{a.id, 3}, {b.id, 1}}));

  // A result and a failure each end one lease.
  ASSERT_TRUE(Complete(*c, a, held[0], SyntheticResult(held[0])).ok());
  EXPECT_EQ(Busy(*c, job_id), (Slots{{a.id, 2}, {b.id, 1}}));
  v1::FailTaskRequest fail;
  Identify(a, &fail);
  fail.set_lease_id(held[1].lease_id());
  fail.set_reason("out of memory");
  ASSERT_TRUE(c->FailTask(fail).ok());
  EXPECT_EQ(Busy(*c, job_id), (Slots{{a.id, 1}, {b.id, 1}}));

  // Expiry ends the rest.
  clock.Advance(int64_t{held[2].lease_ttl_seconds()} * 1000 + 1);
  c->ExpireLeases();
  EXPECT_EQ(Busy(*c, job_id), Slots{});

  // A late result under an expired lease (its candidate waits in the queue)
  // still counts, and leaves nobody busy.
  ASSERT_TRUE(Complete(*c, b, *on_b, SyntheticResult(*on_b))->accepted());
  EXPECT_EQ(Busy(*c, job_id), Slots{});

  // Three leases on a; asking for a fourth releases the one it forgot.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Acquire(*c, a));
  ASSERT_TRUE(Acquire(*c, b));
  EXPECT_EQ(Busy(*c, job_id), (Slots{{a.id, 3}, {b.id, 1}}));
  ASSERT_TRUE(Acquire(*c, a));
  EXPECT_EQ(Busy(*c, job_id), (Slots{{a.id, 3}, {b.id, 1}}));

  // A worker that registers again with its secret (it restarted) holds
  // nothing; the others keep theirs.
  const TestWorker b_again = Register(*c, "b", 1, b.secret);
  EXPECT_EQ(b_again.id, b.id);
  b = b_again;
  EXPECT_EQ(Busy(*c, job_id), (Slots{{a.id, 3}}));

  // A restart rebuilds the index from the stored leases.
  c.reset();
  c = MakeCoordinator(db, &clock);
  EXPECT_EQ(Busy(*c, job_id), (Slots{{a.id, 3}}));
  // Its secret outlives the restart (the store keeps its digest).
  const TestWorker a_again = Register(*c, "a", 3, a.secret);
  EXPECT_EQ(a_again.id, a.id);
  EXPECT_EQ(Busy(*c, job_id), Slots{});
  ASSERT_TRUE(Acquire(*c, b));
  EXPECT_EQ(Busy(*c, job_id), (Slots{{b.id, 1}}));
}

}  // namespace
}  // namespace unas::coordinator
