// Proposals within the resource bounds through the coordinator core: a
// seeded one-worker job on the default CNN space with the demo's bounds
// trains only networks within them (and plain draws do not), and a
// coordinator restarted mid-job, which rebuilds its search by replaying the
// stored evaluations, proposes exactly the candidates an uninterrupted run
// proposes, redraws included.
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT

constexpr int kRounds = 24;

enum class Kind { kAging, kRandom };

// The default CNN space with the quick demo's bounds (most random networks
// are outside them).
v1::JobSpec DemoBoundsSpec(Kind kind, bool feasible) {
  v1::JobSpec spec = SmallSpec(kRounds, /*seed=*/8);
  spec.mutable_search_space()->clear_cnn();
  if (kind == Kind::kRandom) spec.mutable_algorithm()->mutable_random_search();
  spec.mutable_bounds()->set_error(0.25);
  spec.mutable_bounds()->set_peak_memory_bytes(16000);
  spec.mutable_bounds()->set_model_size_bytes(16000);
  spec.mutable_bounds()->set_macs(2000000);
  spec.mutable_algorithm()->mutable_feasible_proposals()->set_enabled(feasible);
  spec.set_max_parallel_evaluations(1);
  return spec;
}

struct Row {
  uint64_t fingerprint = 0;
  int64_t parent = 0;
  bool within = false;  // dense metrics within every resource bound
  bool operator==(const Row&) const = default;
};

std::vector<Row> Trace(Coordinator& c, int64_t job_id) {
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1000);
  absl::StatusOr<v1::ListCandidatesResponse> r = c.ListCandidates(request);
  EXPECT_TRUE(r.ok()) << r.status();
  std::vector<Row> trace;
  if (!r.ok()) return trace;
  for (const v1::Candidate& cand : r->candidates()) {
    const v1::ResourceMetrics& m = cand.dense_metrics();
    trace.push_back(
        {cand.fingerprint(), cand.has_parent_id() ? cand.parent_id() : 0,
         m.peak_memory_bytes() <= 16000 && m.model_size_bytes() <= 16000 && m.macs() <= 2000000});
  }
  return trace;
}

std::vector<Row> Uninterrupted(Kind kind, bool feasible, const std::string& name) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(name), &clock);
  absl::StatusOr<v1::Job> job = c->SubmitJob(DemoBoundsSpec(kind, feasible));
  EXPECT_TRUE(job.ok()) << job.status();
  if (!job.ok()) return {};
  EXPECT_EQ(DrainSynthetic(*c, Register(*c, "w")), kRounds);
  EXPECT_EQ(c->GetJob(job->job_id())->state(), v1::JOB_STATE_SUCCEEDED);
  return Trace(*c, job->job_id());
}

int Within(const std::vector<Row>& trace) {
  int n = 0;
  for (const Row& row : trace) n += row.within;
  return n;
}

TEST(FeasibleRestartTest, OnlyNetworksWithinTheBoundsAreTrainedAndPlainDrawsAreNot) {
  for (Kind kind : {Kind::kAging, Kind::kRandom}) {
    const std::vector<Row> bounded = Uninterrupted(kind, true, "feasible_on");
    const std::vector<Row> plain = Uninterrupted(kind, false, "feasible_off");
    ASSERT_EQ(bounded.size(), static_cast<size_t>(kRounds));
    ASSERT_GE(plain.size(), static_cast<size_t>(kRounds));
    EXPECT_EQ(Within(bounded), kRounds);
    EXPECT_LT(Within(plain), static_cast<int>(plain.size()) / 2);
  }
}

TEST(FeasibleRestartTest, ARestartedCoordinatorProposesWhatAnUninterruptedRunProposes) {
  for (Kind kind : {Kind::kAging, Kind::kRandom}) {
    const std::vector<Row> uninterrupted = Uninterrupted(kind, true, "uninterrupted");
    ASSERT_EQ(uninterrupted.size(), static_cast<size_t>(kRounds));
    std::string db = TempDbPath(kind == Kind::kAging ? "restarted_aging" : "restarted_random");
    FakeClock clock;
    int64_t job_id = 0;
    std::optional<v1::Task> held;
    TestWorker w;  // its secret is stored: it carries on after the restart
    {
      auto c = MakeCoordinator(db, &clock);
      job_id = c->SubmitJob(DemoBoundsSpec(kind, true))->job_id();
      w = Register(*c, "w");
      // Past the initial population of 8: both the random and the evolved
      // candidates are replayed.
      EXPECT_EQ(DrainSynthetic(*c, w, 11), 11);
      held = Acquire(*c, w);  // leased when the coordinator goes away
      ASSERT_TRUE(held.has_value());
    }
    auto c = MakeCoordinator(db, &clock);  // replays the eleven evaluations
    ASSERT_TRUE(Complete(*c, w, *held, SyntheticResult(*held)).ok());
    EXPECT_EQ(DrainSynthetic(*c, w), kRounds - 12);
    EXPECT_EQ(c->GetJob(job_id)->state(), v1::JOB_STATE_SUCCEEDED);
    EXPECT_EQ(Trace(*c, job_id), uninterrupted);
  }
}

}  // namespace
}  // namespace unas::coordinator
