// The coordinator core in-process: the search runs to exactly `rounds`,
// leases expire and retry, results are idempotent and validated, restarts
// lose nothing, jobs share workers.
#include "coordinator/core/coordinator.h"

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::coordinator {
namespace {

using ::testing::HasSubstr;
using namespace ::unas::coordinator::testing;  // NOLINT

using testing::TestName;

// (fingerprint, parent) of every candidate in proposal order.
std::vector<std::pair<uint64_t, int64_t>> Trace(Coordinator& c, int64_t job_id) {
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1000);
  absl::StatusOr<v1::ListCandidatesResponse> r = c.ListCandidates(request);
  EXPECT_TRUE(r.ok());
  std::vector<std::pair<uint64_t, int64_t>> trace;
  for (const v1::Candidate& cand : r->candidates()) {
    trace.push_back({cand.fingerprint(), cand.has_parent_id() ? cand.parent_id() : 0});
  }
  return trace;
}

TEST(CoordinatorTest, RunsToExactlyRoundsAndSucceeds) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  absl::StatusOr<v1::Job> job = c->SubmitJob(SmallSpec(30));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state(), v1::JOB_STATE_RUNNING);
  TestWorker w = Register(*c, "w");
  EXPECT_EQ(DrainSynthetic(*c, w), 30);
  absl::StatusOr<v1::Job> done = c->GetJob(job->job_id());
  EXPECT_EQ(done->state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done->progress().evaluations_done(), 30);
  EXPECT_EQ(done->progress().evaluations_in_flight(), 0);
  EXPECT_FALSE(Acquire(*c, w).has_value());
  // Evolution happened: after the 8 random ones, candidates have parents.
  auto trace = Trace(*c, job->job_id());
  int with_parent = 0;
  for (auto& [fp, parent] : trace) with_parent += parent != 0;
  EXPECT_GE(with_parent, 15);
}

TEST(CoordinatorTest, SeededRunRepeatsExactlyWithOneWorker) {
  std::vector<std::pair<uint64_t, int64_t>> first, second;
  for (auto* trace : {&first, &second}) {
    FakeClock clock;
    auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
    absl::StatusOr<v1::Job> job = c->SubmitJob(SmallSpec(40, /*seed=*/5));
    ASSERT_TRUE(job.ok());
    DrainSynthetic(*c, Register(*c, "w"));
    *trace = Trace(*c, job->job_id());
  }
  EXPECT_EQ(first.size(), 40u);
  EXPECT_EQ(first, second);
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  auto other = c->SubmitJob(SmallSpec(40, /*seed=*/6));
  DrainSynthetic(*c, Register(*c, "w"));
  EXPECT_NE(Trace(*c, other->job_id()), first) << "another seed, another search";
}

TEST(CoordinatorTest, ExpiredLeasesRetryThenFailWithEveryReason) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(3);
  spec.set_lease_ttl_seconds(10);
  spec.set_max_attempts(2);
  auto job = c->SubmitJob(spec);
  TestWorker w = Register(*c, "w");
  std::optional<v1::Task> first = Acquire(*c, w);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->attempt(), 1);

  // A heartbeat extends the lease.
  clock.Advance(8000);
  v1::HeartbeatRequest hb;
  Identify(w, &hb);
  hb.set_lease_id(first->lease_id());
  EXPECT_TRUE(c->Heartbeat(hb)->keep_going());
  clock.Advance(8000);
  c->ExpireLeases();
  EXPECT_EQ(c->GetCandidate(job->job_id(), first->candidate_id())->state(),
            v1::CANDIDATE_STATE_LEASED);

  // Silence past the TTL: back to the queue, and handed out again first.
  clock.Advance(11000);
  c->ExpireLeases();
  auto requeued = c->GetCandidate(job->job_id(), first->candidate_id());
  EXPECT_EQ(requeued->state(), v1::CANDIDATE_STATE_QUEUED);
  EXPECT_THAT(requeued->failure_reasons(0), HasSubstr("lease expired"));
  EXPECT_FALSE(c->Heartbeat(hb)->keep_going());
  std::optional<v1::Task> second = Acquire(*c, w);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->candidate_id(), first->candidate_id());
  EXPECT_EQ(second->attempt(), 2);
  EXPECT_NE(second->lease_id(), first->lease_id());

  // The second attempt fails too: FAILED with both reasons, and replaced.
  v1::FailTaskRequest fail;
  Identify(w, &fail);
  fail.set_lease_id(second->lease_id());
  fail.set_reason("CUDA out of memory");
  ASSERT_TRUE(c->FailTask(fail).ok());
  auto failed = c->GetCandidate(job->job_id(), first->candidate_id());
  EXPECT_EQ(failed->state(), v1::CANDIDATE_STATE_FAILED);
  ASSERT_EQ(failed->failure_reasons_size(), 2);
  EXPECT_THAT(failed->failure_reasons(1), HasSubstr("CUDA out of memory"));
  EXPECT_EQ(DrainSynthetic(*c, w), 3) << "the failed candidate does not count as an evaluation";
  auto final_job = c->GetJob(job->job_id());
  EXPECT_EQ(final_job->progress().evaluations_done(), 3);
  EXPECT_EQ(final_job->progress().evaluations_failed(), 1);
  EXPECT_EQ(final_job->progress().lease_expiries(), 1);
}

TEST(CoordinatorTest, PermanentFailureIsNotRetried) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  auto job = c->SubmitJob(SmallSpec(2));
  TestWorker w = Register(*c, "w");
  std::optional<v1::Task> task = Acquire(*c, w);
  v1::FailTaskRequest fail;
  Identify(w, &fail);
  fail.set_lease_id(task->lease_id());
  fail.set_reason("does not fit");
  fail.set_permanent(true);
  ASSERT_TRUE(c->FailTask(fail).ok());
  EXPECT_EQ(c->GetCandidate(job->job_id(), task->candidate_id())->state(),
            v1::CANDIDATE_STATE_FAILED);
}

// Pre-emption: a worker that shuts down gives its candidate back; that must
// not use up attempts, however often it happens.
TEST(CoordinatorTest, ReleasedAttemptsAreRequeuedWithoutCounting) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(2);
  spec.set_max_attempts(1);
  auto job = c->SubmitJob(spec);
  TestWorker w = Register(*c, "w");
  int64_t candidate = 0;
  for (int round = 0; round < 3; ++round) {
    std::optional<v1::Task> task = Acquire(*c, w);
    ASSERT_TRUE(task);
    if (round == 0) candidate = task->candidate_id();
    EXPECT_EQ(task->candidate_id(), candidate) << "a released candidate is handed out first";
    EXPECT_EQ(task->attempt(), 1);
    v1::FailTaskRequest release;
    Identify(w, &release);
    release.set_lease_id(task->lease_id());
    release.set_reason("worker stopped before finishing");
    release.set_released(true);
    ASSERT_TRUE(c->FailTask(release).ok());
    auto row = c->GetCandidate(job->job_id(), candidate);
    EXPECT_EQ(row->state(), v1::CANDIDATE_STATE_QUEUED);
    EXPECT_EQ(row->attempts(), 0);
    EXPECT_THAT(row->failure_reasons(round), HasSubstr("released"));
  }
  // A real failure still counts: with max_attempts 1 it is final.
  std::optional<v1::Task> task = Acquire(*c, w);
  v1::FailTaskRequest fail;
  Identify(w, &fail);
  fail.set_lease_id(task->lease_id());
  fail.set_reason("CUDA out of memory");
  ASSERT_TRUE(c->FailTask(fail).ok());
  EXPECT_EQ(c->GetCandidate(job->job_id(), candidate)->state(), v1::CANDIDATE_STATE_FAILED);
}

// A long-poll whose caller has gone away ends early and leases nothing.
TEST(CoordinatorTest, CancelledLongPollEndsWithoutLeasing) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  TestWorker w = Register(*c, "w");
  v1::AcquireTaskRequest request;
  Identify(w, &request);
  std::atomic<bool> cancelled{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancelled = true;
  });
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<v1::AcquireTaskResponse> r =
      c->AcquireTask(request, absl::Seconds(60), [&] { return cancelled.load(); });
  canceller.join();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_task());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  // Already cancelled when work is available: nothing is leased either.
  auto job = c->SubmitJob(SmallSpec(2));
  r = c->AcquireTask(request, absl::Seconds(1), [] { return true; });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_task());
  EXPECT_EQ(c->GetJob(job->job_id())->progress().evaluations_in_flight(), 0);
}

TEST(CoordinatorTest, ReportsAreIdempotentAndLateReportsStillCount) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(3);
  spec.set_lease_ttl_seconds(5);
  auto job = c->SubmitJob(spec);
  TestWorker a = Register(*c, "a"), b = Register(*c, "b");

  std::optional<v1::Task> t1 = Acquire(*c, a);
  auto r1 = Complete(*c, a, *t1, SyntheticResult(*t1));
  ASSERT_TRUE(r1.ok());
  EXPECT_TRUE(r1->accepted());
  auto again = Complete(*c, a, *t1, SyntheticResult(*t1));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->accepted()) << "a duplicate is acknowledged and ignored";

  // Worker a goes silent; its lease expires and b takes the candidate over.
  std::optional<v1::Task> t2 = Acquire(*c, a);
  clock.Advance(6000);
  c->ExpireLeases();
  std::optional<v1::Task> t2b = Acquire(*c, b);
  ASSERT_EQ(t2b->candidate_id(), t2->candidate_id());
  // a's late report is real work and is taken; b's then is a duplicate.
  EXPECT_TRUE(Complete(*c, a, *t2, SyntheticResult(*t2))->accepted());
  EXPECT_FALSE(Complete(*c, b, *t2b, SyntheticResult(*t2b))->accepted());
  v1::HeartbeatRequest hb;
  Identify(b, &hb);
  hb.set_lease_id(t2b->lease_id());
  EXPECT_FALSE(c->Heartbeat(hb)->keep_going());
  EXPECT_EQ(c->GetJob(job->job_id())->progress().evaluations_done(), 2);
}

TEST(CoordinatorTest, GarbageResultsAreRefusedAndTheCandidateRetried) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  auto job = c->SubmitJob(SmallSpec(2));
  TestWorker w = Register(*c, "w");
  std::vector<std::function<void(v1::EvaluationResult&)>> garbage = {
      [](v1::EvaluationResult& r) { r.set_validation_error(1.5); },
      [](v1::EvaluationResult& r) { r.set_test_error(std::nan("")); },
      [](v1::EvaluationResult& r) { r.set_training_seconds(-3); },
      // A Cortex-M4 latency with no int8 model it could have come from.
      [](v1::EvaluationResult& r) { r.set_cortex_m4_instructions(600000); },
      [](v1::EvaluationResult& r) {
        v1::LayerPruning* p = r.add_pruning();
        p->set_layer("conv_blocks[9].layers[0]");
        p->set_surviving_channels(1);
      },
      [](v1::EvaluationResult& r) {
        v1::LayerPruning* p = r.add_pruning();
        p->set_layer("conv_blocks[0].layers[0]");
        p->set_surviving_channels(100000);
      },
  };
  for (auto& corrupt : garbage) {
    std::optional<v1::Task> task = Acquire(*c, w);
    ASSERT_TRUE(task);
    v1::EvaluationResult result = SyntheticResult(*task);
    corrupt(result);
    auto r = Complete(*c, w, *task, result);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    auto cand = c->GetCandidate(job->job_id(), task->candidate_id());
    EXPECT_NE(cand->state(), v1::CANDIDATE_STATE_DONE);
    EXPECT_THAT(cand->failure_reasons(cand->failure_reasons_size() - 1),
                HasSubstr("invalid result"));
  }
  EXPECT_EQ(c->GetJob(job->job_id())->progress().evaluations_done(), 0);
  DrainSynthetic(*c, w);
  EXPECT_EQ(c->GetJob(job->job_id())->state(), v1::JOB_STATE_SUCCEEDED);
}

TEST(CoordinatorTest, RestartKeepsPopulationAndEndsAtExactlyRounds) {
  std::string db = TempDbPath(TestName());
  FakeClock clock;
  int64_t job_id = 0;
  std::vector<v1::Candidate> population_before;
  std::optional<v1::Task> in_flight;
  TestWorker w;
  {
    auto c = MakeCoordinator(db, &clock);
    job_id = c->SubmitJob(SmallSpec(40))->job_id();
    w = Register(*c, "w");
    DrainSynthetic(*c, w, 25);
    in_flight = Acquire(*c, w);  // leased when the "crash" comes
    v1::ListCandidatesRequest request;
    request.set_job_id(job_id);
    request.set_population_only(true);
    request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
    auto listed = c->ListCandidates(request);
    ASSERT_TRUE(listed.ok());
    for (auto& cand : listed->candidates()) population_before.push_back(cand);
  }
  auto c = MakeCoordinator(db, &clock);
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.set_population_only(true);
  request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
  auto population_after = c->ListCandidates(request);
  ASSERT_EQ(population_after->candidates_size(), static_cast<int>(population_before.size()));
  for (size_t i = 0; i < population_before.size(); ++i) {
    EXPECT_EQ(population_after->candidates(static_cast<int>(i)).candidate_id(),
              population_before[i].candidate_id());
  }
  auto job = c->GetJob(job_id);
  EXPECT_EQ(job->progress().evaluations_done(), 25);
  EXPECT_EQ(job->progress().evaluations_in_flight(), 1);
  // The worker that held a lease across the restart can still report, with
  // the secret it holds: it need not register again.
  EXPECT_TRUE(Complete(*c, w, *in_flight, SyntheticResult(*in_flight))->accepted());
  DrainSynthetic(*c, w);
  job = c->GetJob(job_id);
  EXPECT_EQ(job->state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(job->progress().evaluations_done(), 40);
  std::set<int64_t> ids;
  v1::ListCandidatesRequest all;
  all.set_job_id(job_id);
  all.add_states(v1::CANDIDATE_STATE_DONE);
  all.set_page_size(1000);
  auto listed = c->ListCandidates(all);
  ASSERT_TRUE(listed.ok());
  for (auto& cand : listed->candidates()) ids.insert(cand.candidate_id());
  EXPECT_EQ(ids.size(), 40u);
}

TEST(CoordinatorTest, JobsShareWorkersRoundRobinWithinTheirParallelism) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec a = SmallSpec(10), b = SmallSpec(10, 2);
  a.set_max_parallel_evaluations(2);
  int64_t ja = c->SubmitJob(a)->job_id(), jb = c->SubmitJob(b)->job_id();
  std::vector<TestWorker> workers;
  for (int i = 0; i < 6; ++i) workers.push_back(Register(*c, "w" + std::to_string(i)));
  std::map<int64_t, int> leased;
  for (const TestWorker& w : workers) {
    std::optional<v1::Task> t = Acquire(*c, w);
    ASSERT_TRUE(t);
    ++leased[t->job_id()];
  }
  EXPECT_EQ(leased[ja], 2) << "job a is capped at 2 in flight";
  EXPECT_EQ(leased[jb], 4);
}

TEST(CoordinatorTest, CancelStopsProposalsAndTellsWorkers) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  int64_t job_id = c->SubmitJob(SmallSpec(10))->job_id();
  TestWorker w = Register(*c, "w");
  std::optional<v1::Task> t = Acquire(*c, w);
  auto cancelled = c->CancelJob(job_id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), v1::JOB_STATE_CANCELLED);
  v1::HeartbeatRequest hb;
  Identify(w, &hb);
  hb.set_lease_id(t->lease_id());
  auto r = c->Heartbeat(hb);
  EXPECT_FALSE(r->keep_going());
  EXPECT_THAT(r->reason(), HasSubstr("cancelled"));
  EXPECT_FALSE(Acquire(*c, w).has_value());
  EXPECT_EQ(c->CancelJob(job_id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(c->CancelJob(999).status().code(), absl::StatusCode::kNotFound);
}

TEST(CoordinatorTest, SubmitRefusesInvalidSpecsNamingTheField) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec();
  spec.mutable_training()->set_epochs(0);
  auto r = c->SubmitJob(spec);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("training.epochs (0) must be > 0"));
  v1::JobSpec bo = SmallSpec();
  bo.mutable_algorithm()->mutable_bayesian_optimization()->set_multi_fidelity(true);
  EXPECT_EQ(c->SubmitJob(bo).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CoordinatorTest, IdenticalNetworksAreNotTrainedTwice) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(12);
  // A space of two networks: one hidden layer of 10 or 11 units.
  spec.mutable_search_space()->Clear();
  spec.mutable_search_space()->set_kind(v1::SEARCH_SPACE_KIND_MLP);
  spec.mutable_search_space()->mutable_mlp()->set_max_layers(1);
  spec.mutable_search_space()->mutable_mlp()->set_max_units(11);
  spec.mutable_algorithm()->mutable_random_search();
  spec.mutable_bounds()->clear_peak_memory_bytes();
  int64_t job_id = c->SubmitJob(spec)->job_id();
  TestWorker w = Register(*c, "w");
  int trained = DrainSynthetic(*c, w);
  EXPECT_EQ(trained, 2);
  auto job = c->GetJob(job_id);
  EXPECT_EQ(job->state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(job->progress().evaluations_done(), 12);
  // A reused candidate exports the weights of the one that was trained.
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1000);
  auto all = c->ListCandidates(request);
  const v1::Candidate& last = all->candidates(all->candidates_size() - 1);
  auto exported = c->ExportCandidate(job_id, last.candidate_id());
  ASSERT_TRUE(exported.ok()) << exported.status();
  EXPECT_THAT(exported->trained_weights(), ::testing::StartsWith("w"));
}

TEST(CoordinatorTest, HopelessCandidatesAreSkippedAndCountedApart) {
  FakeClock clock;
  CoordinatorOptions options;
  options.max_consecutive_skips = 50;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock, options);
  v1::JobSpec spec = SmallSpec(5);
  spec.mutable_bounds()->set_peak_memory_bytes(1);  // nothing fits
  spec.mutable_bounds()->set_model_size_bytes(1);
  spec.mutable_algorithm()->set_skip_infeasible_factor(2);
  int64_t job_id = c->SubmitJob(spec)->job_id();
  TestWorker w = Register(*c, "w");
  EXPECT_EQ(DrainSynthetic(*c, w), 0);
  auto job = c->GetJob(job_id);
  EXPECT_EQ(job->state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(job->failure_reason(), HasSubstr("skip_infeasible_factor"));
  EXPECT_EQ(job->progress().candidates_skipped(), 50);
  EXPECT_EQ(job->progress().evaluations_done(), 0);
}

TEST(CoordinatorTest, ParetoFrontAndPaging) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  int64_t job_id = c->SubmitJob(SmallSpec(30))->job_id();
  DrainSynthetic(*c, Register(*c, "w"));
  v1::GetParetoFrontRequest request;
  request.set_job_id(job_id);
  auto feasible = c->GetParetoFront(request);
  request.set_include_infeasible(true);
  auto everything = c->GetParetoFront(request);
  ASSERT_TRUE(feasible.ok() && everything.ok());
  EXPECT_GT(everything->candidates_size(), 0);
  for (const v1::Candidate& cand : feasible->candidates()) EXPECT_TRUE(cand.feasible());
  for (int i = 1; i < everything->candidates_size(); ++i) {
    EXPECT_LE(everything->candidates(i - 1).evaluation().validation_error(),
              everything->candidates(i).evaluation().validation_error());
  }
  v1::ListCandidatesRequest page;
  page.set_job_id(job_id);
  page.set_page_size(7);
  std::set<int64_t> seen;
  int pages = 0;
  do {
    auto r = c->ListCandidates(page);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->total_size(), 30);
    for (auto& cand : r->candidates()) seen.insert(cand.candidate_id());
    page.set_page_token(r->next_page_token());
    ++pages;
  } while (!page.page_token().empty());
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(seen.size(), 30u);
  page.set_page_token("bogus");
  EXPECT_EQ(c->ListCandidates(page).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CoordinatorTest, WatchDeliversProgressUntilTheJobEnds) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  int64_t job_id = c->SubmitJob(SmallSpec(5))->job_id();
  int64_t cursor = 0;
  std::vector<v1::JobEvent> events;
  ASSERT_TRUE(*c->NextEvents(job_id, &cursor, absl::ZeroDuration(), &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].progress().evaluations_done(), 0);
  DrainSynthetic(*c, Register(*c, "w"));
  events.clear();
  absl::StatusOr<bool> more = c->NextEvents(job_id, &cursor, absl::Seconds(1), &events);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  int done_events = 0;
  for (auto& e : events) done_events += e.has_candidate_done();
  EXPECT_EQ(done_events, 5);
  EXPECT_EQ(events.back().state(), v1::JOB_STATE_SUCCEEDED);
}

// Ended jobs let go of their events: after the grace a watcher
// from the start gets the final state only, while a running job keeps its.
TEST(CoordinatorTest, EndedJobsDropTheirEventsAfterTheGrace) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  const int64_t ended = c->SubmitJob(SmallSpec(5))->job_id();
  DrainSynthetic(*c, Register(*c, "w"));
  const int64_t running = c->SubmitJob(SmallSpec(50, /*seed=*/3))->job_id();
  auto events_from_start = [&](int64_t job_id) {
    int64_t cursor = 1;
    std::vector<v1::JobEvent> events;
    EXPECT_TRUE(c->NextEvents(job_id, &cursor, absl::ZeroDuration(), &events).ok());
    return events;
  };
  const size_t before = events_from_start(ended).size();
  EXPECT_GT(before, 5u);
  c->CompactEndedJobs();  // within the grace: nothing changes
  EXPECT_EQ(events_from_start(ended).size(), before);
  clock.Advance(61'000);
  c->CompactEndedJobs();
  std::vector<v1::JobEvent> after = events_from_start(ended);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(after[0].progress().evaluations_done(), 5);
  EXPECT_EQ(c->GetJob(ended)->progress().evaluations_done(), 5);
  const size_t running_events = events_from_start(running).size();
  c->CompactEndedJobs();
  EXPECT_EQ(events_from_start(running).size(), running_events);
  // The running job is untouched and still runs to its end.
  EXPECT_GT(DrainSynthetic(*c, Register(*c, "w2")), 0);
  EXPECT_EQ(c->GetJob(running)->state(), v1::JOB_STATE_SUCCEEDED);
}

TEST(CoordinatorTest, WatchSeesEachLeaseSoTheRunningCountIsCurrent) {
  // unasctl's progress line reads the running count from the last event; it
  // showed "1 training" while two slots trained when only results made events.
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  int64_t job_id = c->SubmitJob(SmallSpec(5))->job_id();
  int64_t cursor = 0;
  std::vector<v1::JobEvent> events;
  ASSERT_TRUE(*c->NextEvents(job_id, &cursor, absl::ZeroDuration(), &events));
  std::optional<v1::Task> first = Acquire(*c, Register(*c, "a"));
  std::optional<v1::Task> second = Acquire(*c, Register(*c, "b"));
  ASSERT_TRUE(first.has_value() && second.has_value());
  events.clear();
  ASSERT_TRUE(*c->NextEvents(job_id, &cursor, absl::ZeroDuration(), &events));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_candidate_leased());
  EXPECT_EQ(events[0].progress().evaluations_in_flight(), 1);
  EXPECT_EQ(events[1].candidate_leased().candidate_id(), second->candidate_id());
  EXPECT_EQ(events[1].progress().evaluations_in_flight(), 2);
}

TEST(CoordinatorTest, CoordinatorDefaultLeaseTtlAppliesOnlyWhenTheSpecSetsNone) {
  FakeClock clock;
  CoordinatorOptions options;
  options.default_lease_ttl_seconds = 7;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock, options);
  EXPECT_EQ(c->SubmitJob(SmallSpec())->spec().lease_ttl_seconds(), 7);
  v1::JobSpec own = SmallSpec();
  own.set_lease_ttl_seconds(30);
  EXPECT_EQ(c->SubmitJob(own)->spec().lease_ttl_seconds(), 30);
}

TEST(CoordinatorTest, UnknownWorkersMustRegister) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::AcquireTaskRequest request;
  request.set_worker_id("w99");
  EXPECT_EQ(c->AcquireTask(request, absl::ZeroDuration()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  TestWorker a = Register(*c, "same-name");
  TestWorker again = Register(*c, "same-name");
  EXPECT_EQ(again.id, a.id) << "a restarted worker keeps its id";
  EXPECT_NE(again.secret, a.secret) << "each registration has its own secret";
  EXPECT_EQ(again.secret.size(), 32u) << "128 bits as hex";
  // The old registration's secret is void: only the new one acquires.
  request.set_worker_id(a.id);
  request.set_worker_secret(a.secret);
  EXPECT_EQ(c->AcquireTask(request, absl::ZeroDuration()).status().code(),
            absl::StatusCode::kUnauthenticated);
  request.set_worker_secret(again.secret);
  EXPECT_TRUE(c->AcquireTask(request, absl::ZeroDuration()).ok());
}

// A restarted worker that kept its secret ends its old leases at once, each
// a failed attempt whose cause is "worker died".
TEST(CoordinatorTest, ARestartedWorkerWithItsSecretLosesItsLeasesAtOnce) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  int64_t job_id = c->SubmitJob(SmallSpec(4))->job_id();
  TestWorker w = Register(*c, "box/0");
  std::optional<v1::Task> held = Acquire(*c, w);
  ASSERT_TRUE(held);
  TestWorker back = Register(*c, "box/0", 1, w.secret);  // the process came back
  EXPECT_EQ(back.id, w.id);
  auto cand = c->GetCandidate(job_id, held->candidate_id());
  EXPECT_EQ(cand->state(), v1::CANDIDATE_STATE_QUEUED);
  EXPECT_THAT(cand->failure_reasons(0), HasSubstr("worker died"));
  EXPECT_THAT(cand->failure_reasons(0), HasSubstr("restarted while training it"));
  std::optional<v1::Task> again = Acquire(*c, back);
  EXPECT_EQ(again->candidate_id(), held->candidate_id());
  EXPECT_EQ(again->attempt(), 2);
}

// The coordinator committed a lease and died before its reply reached the
// worker: the worker asks again, and the lease it never heard of is void at
// once (not after its TTL) without using up an attempt.
TEST(CoordinatorTest, ALeaseWhoseReplyWasLostIsReleasedWhenTheWorkerAsksAgain) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  int64_t job_id = c->SubmitJob(SmallSpec(4))->job_id();
  TestWorker w = Register(*c, "box/0");  // one slot
  std::optional<v1::Task> lost = Acquire(*c, w);
  ASSERT_TRUE(lost);
  std::optional<v1::Task> next = Acquire(*c, w);  // asks again: it holds nothing it knows of
  ASSERT_TRUE(next);
  EXPECT_EQ(next->candidate_id(), lost->candidate_id()) << "re-queued at the front";
  EXPECT_EQ(next->attempt(), 1) << "the lost lease did not count as an attempt";
  auto cand = c->GetCandidate(job_id, lost->candidate_id());
  EXPECT_EQ(cand->state(), v1::CANDIDATE_STATE_LEASED);
  ASSERT_EQ(cand->failure_reasons_size(), 1);
  EXPECT_THAT(cand->failure_reasons(0), HasSubstr("without knowing of this lease"));
  // The old lease is dead: its heartbeat says so.
  v1::HeartbeatRequest hb;
  Identify(w, &hb);
  hb.set_lease_id(lost->lease_id());
  EXPECT_FALSE(c->Heartbeat(hb)->keep_going());

  // A worker with two slots may hold one lease while a free slot asks.
  v1::RegisterWorkerRequest two;
  two.set_name("box/1");
  two.set_slots(2);
  absl::StatusOr<v1::RegisterWorkerResponse> registered_two = c->RegisterWorker(two);
  ASSERT_TRUE(registered_two.ok());
  const TestWorker w2{registered_two->worker_id(), registered_two->worker_secret()};
  std::optional<v1::Task> a = Acquire(*c, w2);
  std::optional<v1::Task> b = Acquire(*c, w2);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->candidate_id(), b->candidate_id());
  EXPECT_EQ(c->GetCandidate(job_id, a->candidate_id())->state(), v1::CANDIDATE_STATE_LEASED);
  // A third request from it means one of the two was never heard of: the one
  // that expires first (a was not heartbeated since) goes.
  clock.Advance(1000);
  Identify(w2, &hb);
  hb.set_lease_id(b->lease_id());
  EXPECT_TRUE(c->Heartbeat(hb)->keep_going());
  std::optional<v1::Task> third = Acquire(*c, w2);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->candidate_id(), a->candidate_id());
  EXPECT_EQ(c->GetCandidate(job_id, b->candidate_id())->state(), v1::CANDIDATE_STATE_LEASED);
}

}  // namespace
}  // namespace unas::coordinator
