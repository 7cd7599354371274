// A job that cannot succeed ends with a clear reason: max_consecutive_failures
// candidates in a row failing for causes of one class fail the job; a
// success or another class starts the count again. Poison and hung work
// ends: leases that expire count with the cause "lease expired", a network
// that failed is never trained again (across a restart too), a training
// whose heartbeats report no progress loses its lease, workers stop when
// their job ends in any state, and endless releases fail the candidate. A
// result the job would reuse that cannot be read from the store fails it
// too.
#include <set>

#include "absl/strings/str_cat.h"
#include "coordinator/core/candidate_identity.h"
#include "coordinator/core/failure_text.h"
#include "coordinator/core/worker_input_limits.h"
#include "coordinator/store/sqlite.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"

namespace unas::coordinator {
namespace {

using testing::Acquire;
using testing::Complete;
using testing::FakeClock;
using ::testing::HasSubstr;
using testing::MakeCoordinator;
using testing::Register;
using testing::SmallSpec;
using testing::SyntheticResult;
using testing::TempDbPath;

using testing::Identify;
using testing::TestName;
using testing::TestWorker;

absl::Status FailNext(Coordinator& c, const TestWorker& worker, const std::string& reason,
                      bool permanent = true) {
  std::optional<v1::Task> task = Acquire(c, worker);
  if (!task) return absl::NotFoundError("no task");
  v1::FailTaskRequest fail;
  Identify(worker, &fail);
  fail.set_lease_id(task->lease_id());
  fail.set_reason(reason);
  fail.set_permanent(permanent);
  return c.FailTask(fail);
}

TEST(JobFailureTest, RepeatedFailuresForOneReasonFailTheJob) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(50);
  spec.set_max_consecutive_failures(3);
  auto job = c->SubmitJob(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  TestWorker a = Register(*c, "a"), b = Register(*c, "b");
  const std::string missing =
      "FAILED_PRECONDITION: the job's dataset is missing on this worker: /nowhere: no such file";
  ASSERT_TRUE(FailNext(*c, a, missing).ok());
  ASSERT_TRUE(FailNext(*c, b, missing).ok());  // another worker, the same reason
  EXPECT_EQ(c->GetJob(job->job_id())->state(), v1::JOB_STATE_RUNNING);
  ASSERT_TRUE(FailNext(*c, a, missing).ok());
  v1::Job failed = *c->GetJob(job->job_id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.failure_reason(), HasSubstr("3 candidates in a row failed"));
  EXPECT_THAT(failed.failure_reason(), HasSubstr("/nowhere: no such file"));
  EXPECT_EQ(failed.progress().evaluations_failed(), 3);
  EXPECT_FALSE(Acquire(*c, a)) << "a failed job hands out nothing";
}

TEST(JobFailureTest, ASuccessOrAnotherReasonRestartsTheCount) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(50);
  spec.set_max_consecutive_failures(2);
  auto job = c->SubmitJob(spec);
  TestWorker w = Register(*c, "w");
  ASSERT_TRUE(FailNext(*c, w, "one").ok());
  ASSERT_TRUE(FailNext(*c, w, "two").ok());
  std::optional<v1::Task> task = Acquire(*c, w);
  ASSERT_TRUE(Complete(*c, w, *task, SyntheticResult(*task)).ok());
  ASSERT_TRUE(FailNext(*c, w, "two").ok());
  // Transient failures are retried, and only a candidate given up counts.
  ASSERT_TRUE(FailNext(*c, w, "two", /*permanent=*/false).ok());
  EXPECT_EQ(c->GetJob(job->job_id())->state(), v1::JOB_STATE_RUNNING);
  ASSERT_TRUE(FailNext(*c, w, "two").ok());
  EXPECT_EQ(c->GetJob(job->job_id())->state(), v1::JOB_STATE_FAILED);
}

// Causes carry candidate-specific numbers and names; their classes are
// compared (before, these two were different reasons and never counted).
TEST(JobFailureTest, CausesDifferingOnlyInNumbersAndNamesAreOneReason) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(50);
  spec.set_max_consecutive_failures(2);
  auto job = c->SubmitJob(spec);
  TestWorker w = Register(*c, "w");
  ASSERT_TRUE(FailNext(*c, w, "CUDA out of memory allocating 1536 MiB for 'conv_7'").ok());
  EXPECT_EQ(c->GetJob(job->job_id())->state(), v1::JOB_STATE_RUNNING);
  ASSERT_TRUE(FailNext(*c, w, "CUDA out of memory allocating 20.5 MiB for 'dense_final'").ok());
  v1::Job failed = *c->GetJob(job->job_id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.failure_reason(), HasSubstr("2 candidates in a row failed"));
  EXPECT_THAT(failed.failure_reason(), HasSubstr("dense_final"));
}

// A candidate that kills every worker it reaches: its leases expire, each a
// failed attempt with the cause "lease expired", and once given up such
// candidates count (before, expiries had no cause and never ended a job).
TEST(JobFailureTest, ExpiredLeasesAreFailedAttemptsThatEndAPoisonedJob) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(50);
  spec.set_max_attempts(1);
  spec.set_max_consecutive_failures(2);
  auto job = c->SubmitJob(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  std::vector<v1::Task> crashed;
  for (const char* name : {"a", "b"}) {
    std::optional<v1::Task> task = Acquire(*c, Register(*c, name));
    ASSERT_TRUE(task);
    crashed.push_back(*task);
  }
  clock.Advance(int64_t{job->spec().lease_ttl_seconds()} * 1000 + 1);
  c->ExpireLeases();
  for (const v1::Task& task : crashed) {
    v1::Candidate candidate = *c->GetCandidate(job->job_id(), task.candidate_id());
    EXPECT_EQ(candidate.state(), v1::CANDIDATE_STATE_FAILED);
    EXPECT_THAT(candidate.failure_reasons(0), HasSubstr("lease expired"));
  }
  v1::Job failed = *c->GetJob(job->job_id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.failure_reason(), HasSubstr("2 candidates in a row failed"));
  EXPECT_THAT(failed.failure_reason(), HasSubstr("lease expired"));
}

// In a space of a few dozen networks where every candidate fails, no
// network is handed out twice (before, a FAILED network was forgotten and
// trained again), also after a restart; once the search proposes only
// failed networks, the job fails with that reason.
TEST(JobFailureTest, AFailedNetworkIsNeverTrainedAgain) {
  FakeClock clock;
  const std::string db = TempDbPath(TestName());
  CoordinatorOptions options;
  options.max_consecutive_skips = 300;
  auto c = MakeCoordinator(db, &clock, options);
  v1::JobSpec spec = SmallSpec(40, /*seed=*/7);
  v1::CnnSpaceBounds* cnn = spec.mutable_search_space()->mutable_cnn();
  cnn->set_max_conv_blocks(1);
  cnn->set_max_layers_per_block(1);
  cnn->set_max_filters(2);
  cnn->add_kernel_sizes(3);
  cnn->add_pool_sizes(2);
  cnn->set_max_dense_blocks(1);
  cnn->set_min_dense_units(10);
  cnn->set_max_dense_units(11);
  spec.set_max_consecutive_failures(1'000'000);
  auto job = c->SubmitJob(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  TestWorker w = Register(*c, "w");
  const DataShape data{28, 28, 1, 10};
  std::set<uint64_t> handed_out;
  int failures = 0;
  bool restarted = false;
  for (int step = 0; step < 2000; ++step) {
    if (c->GetJob(job->job_id())->state() != v1::JOB_STATE_RUNNING) break;
    if (failures == 5 && !restarted) {
      c.reset();  // the failed networks are remembered through the store
      c = MakeCoordinator(db, &clock, options);
      restarted = true;
    }
    // An acquire that drew only failed networks returns nothing.
    std::optional<v1::Task> task = Acquire(*c, w);
    if (!task) continue;
    const uint64_t identity =
        CandidateFingerprint(task->architecture(), data,
                             task->has_sparsity() ? std::optional(task->sparsity()) : std::nullopt);
    EXPECT_TRUE(handed_out.insert(identity).second)
        << "candidate " << task->candidate_id() << " is a network that failed before";
    v1::FailTaskRequest fail;
    Identify(w, &fail);
    fail.set_lease_id(task->lease_id());
    fail.set_reason(absl::StrCat("candidate ", task->candidate_id(), " cannot be trained"));
    fail.set_permanent(true);
    ASSERT_TRUE(c->FailTask(fail).ok());
    ++failures;
  }
  v1::Job ended = *c->GetJob(job->job_id());
  EXPECT_EQ(ended.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(ended.failure_reason(), HasSubstr("were networks that had failed before"));
  EXPECT_TRUE(restarted);
  EXPECT_GT(handed_out.size(), 5u);
}

// A training that hangs still heartbeats: only a growing step count keeps
// its lease past progress_timeout_seconds.
TEST(JobFailureTest, HeartbeatsWithoutProgressLoseTheLease) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(5);
  spec.set_progress_timeout_seconds(60);
  auto job = c->SubmitJob(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(SmallSpec(5).has_progress_timeout_seconds(), false);
  EXPECT_EQ(c->SubmitJob(SmallSpec(5))->spec().progress_timeout_seconds(), 1800) << "default";
  TestWorker w = Register(*c, "w");
  std::optional<v1::Task> task = Acquire(*c, w);
  ASSERT_TRUE(task);
  v1::HeartbeatRequest hb;
  Identify(w, &hb);
  hb.set_lease_id(task->lease_id());
  hb.set_progress_steps(1);
  clock.Advance(30'000);
  EXPECT_TRUE(c->Heartbeat(hb)->keep_going());
  clock.Advance(59'000);  // 59 s without a new step
  EXPECT_TRUE(c->Heartbeat(hb)->keep_going());
  clock.Advance(1'000);  // 60 s
  absl::StatusOr<v1::HeartbeatResponse> hung = c->Heartbeat(hb);
  ASSERT_TRUE(hung.ok()) << hung.status();
  EXPECT_FALSE(hung->keep_going());
  EXPECT_THAT(hung->reason(), HasSubstr("no training progress"));
  v1::Candidate candidate = *c->GetCandidate(job->job_id(), task->candidate_id());
  EXPECT_EQ(candidate.state(), v1::CANDIDATE_STATE_QUEUED);
  ASSERT_EQ(candidate.failure_reasons_size(), 1);
  EXPECT_THAT(candidate.failure_reasons(0), HasSubstr("no training progress"));
  EXPECT_THAT(candidate.failure_reasons(0), HasSubstr("reported 1 training steps for 60 s"));
}

// A job that failed (not only one cancelled) tells its workers to stop.
TEST(JobFailureTest, WorkersStopWhenTheirJobFails) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  v1::JobSpec spec = SmallSpec(50);
  spec.set_max_consecutive_failures(1);
  auto job = c->SubmitJob(spec);
  TestWorker trainer = Register(*c, "trainer"), failer = Register(*c, "failer");
  std::optional<v1::Task> training = Acquire(*c, trainer);
  ASSERT_TRUE(training);
  ASSERT_TRUE(FailNext(*c, failer, "the dataset is missing").ok());
  ASSERT_EQ(c->GetJob(job->job_id())->state(), v1::JOB_STATE_FAILED);
  v1::HeartbeatRequest hb;
  Identify(trainer, &hb);
  hb.set_lease_id(training->lease_id());
  absl::StatusOr<v1::HeartbeatResponse> told = c->Heartbeat(hb);
  ASSERT_TRUE(told.ok()) << told.status();
  EXPECT_FALSE(told->keep_going());
  EXPECT_THAT(told->reason(), HasSubstr("JOB_STATE_FAILED"));
}

// A worker that gives a candidate back forever does not grow its row
// forever: past max_attempts + kMaxReleasesPerCandidate releases it fails.
TEST(JobFailureTest, EndlessReleasesFailTheCandidate) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  auto job = c->SubmitJob(SmallSpec(5));
  TestWorker w = Register(*c, "w");
  std::optional<v1::Task> first = Acquire(*c, w);
  ASSERT_TRUE(first);
  const int limit = job->spec().max_attempts() + kMaxReleasesPerCandidate;
  int releases = 0;
  for (std::optional<v1::Task> task = first; task && task->candidate_id() == first->candidate_id();
       task = Acquire(*c, w)) {
    v1::FailTaskRequest release;
    Identify(w, &release);
    release.set_lease_id(task->lease_id());
    release.set_reason("pre-empted");
    release.set_released(true);
    ASSERT_TRUE(c->FailTask(release).ok());
    ASSERT_LE(++releases, limit + 1) << "the candidate is re-queued without end";
  }
  v1::Candidate candidate = *c->GetCandidate(job->job_id(), first->candidate_id());
  EXPECT_EQ(candidate.state(), v1::CANDIDATE_STATE_FAILED);
  EXPECT_EQ(releases, limit + 1);
  EXPECT_EQ(candidate.failure_reasons_size(), limit + 1);
  EXPECT_THAT(candidate.failure_reasons(limit), HasSubstr("re-queued too often"));
}

TEST(JobFailureTest, TheLimitIsASpecFieldWithADefault) {
  FakeClock clock;
  auto c = MakeCoordinator(TempDbPath(TestName()), &clock);
  auto job = c->SubmitJob(SmallSpec(50));
  EXPECT_EQ(job->spec().max_consecutive_failures(), 5);
  v1::JobSpec bad = SmallSpec(5);
  bad.set_max_consecutive_failures(0);
  EXPECT_THAT(c->SubmitJob(bad).status().message(), HasSubstr("max_consecutive_failures"));
}

// Under a running coordinator, the evaluated candidates' rows are corrupted
// in the database after every result, in a space so small that the search
// soon proposes a network it has evaluated: that proposal fails the job,
// naming the candidates and the cause, instead of leaving it RUNNING with
// nothing to hand out.
TEST(JobFailureTest, AReusedResultThatCannotBeReadFailsTheJob) {
  FakeClock clock;
  const std::string db = TempDbPath(TestName());
  auto c = MakeCoordinator(db, &clock);
  v1::JobSpec spec = SmallSpec(120, /*seed=*/7);
  v1::CnnSpaceBounds* cnn = spec.mutable_search_space()->mutable_cnn();
  cnn->set_max_conv_blocks(1);
  cnn->set_max_layers_per_block(1);
  cnn->set_max_filters(2);
  cnn->add_kernel_sizes(3);
  cnn->add_pool_sizes(2);
  cnn->set_max_dense_blocks(1);
  cnn->set_min_dense_units(10);
  cnn->set_max_dense_units(11);
  auto job = c->SubmitJob(spec);
  ASSERT_TRUE(job.ok()) << job.status();
  const TestWorker w = Register(*c, "w");
  // Every answer is durable before it comes back, so this second connection
  // sees (and damages) every evaluated candidate's row.
  absl::StatusOr<std::unique_ptr<store::Connection>> damage =
      store::Connection::Open(db, store::Connection::Mode::kReadWrite);
  ASSERT_TRUE(damage.ok()) << damage.status();
  const std::string corrupt =
      absl::StrCat("UPDATE candidates SET architecture = X'FF' WHERE state = ",
                   static_cast<int>(v1::CANDIDATE_STATE_DONE));
  int evaluated = 0;
  while (evaluated < 120) {
    std::optional<v1::Task> task = Acquire(*c, w);
    if (!task) break;
    ASSERT_TRUE(Complete(*c, w, *task, SyntheticResult(*task)).ok());
    ++evaluated;
    ASSERT_TRUE((*damage)->Execute(corrupt).ok());
  }
  v1::Job failed = *c->GetJob(job->job_id());
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED)
      << "after " << evaluated << " evaluations the job is " << v1::JobState_Name(failed.state());
  EXPECT_THAT(failed.failure_reason(), HasSubstr("could not take the result of candidate"));
  EXPECT_THAT(failed.failure_reason(), HasSubstr("corrupt record"));
  EXPECT_LT(evaluated, 120) << "no proposal reused a result: the test proves nothing";
}

}  // namespace
}  // namespace unas::coordinator
