// The SQLite store: every candidate transition, reopening, one writer.
#include "coordinator/store/store.h"

#include <filesystem>

#include "coordinator/store/group_commit.h"
#include "coordinator/store/schema.h"
#include "coordinator/store/sqlite.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace unas::store {
namespace {

using google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::path(::testing::TempDir()) /
             (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".db"))
                .string();
    for (const char* suffix : {"", "-wal", "-shm", ".lock"}) {
      std::filesystem::remove(path_ + suffix);
    }
  }

  std::unique_ptr<Store> OpenStore() {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static v1::JobSpec Spec() {
    v1::JobSpec spec;
    spec.set_name("job");
    spec.set_seed(7);
    spec.mutable_algorithm()->set_rounds(10);
    return spec;
  }

  static CandidateRow Row(int64_t job_id, int64_t id, v1::CandidateState state) {
    CandidateRow row;
    v1::Candidate& c = row.candidate;
    c.set_job_id(job_id);
    c.set_candidate_id(id);
    c.mutable_architecture()->mutable_mlp()->add_layers()->set_units(10 + static_cast<int>(id));
    c.set_fingerprint(0xF000000000000000ULL + static_cast<uint64_t>(id));  // > INT64_MAX
    c.set_state(state);
    c.mutable_dense_metrics()->set_peak_memory_bytes(100 * id);
    *c.mutable_create_time() = TimeUtil::MillisecondsToTimestamp(1000 + id);
    return row;
  }

  std::string path_;
};

TEST_F(StoreTest, CreatesTheCurrentSchema) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  store.reset();
  auto db = Connection::Open(path_, Connection::Mode::kReadOnly);
  ASSERT_TRUE(db.ok());
  absl::StatusOr<int> version = ReadSchemaVersion(**db);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, CurrentSchemaVersion());
}

TEST_F(StoreTest, SecondWriterIsRefusedCleanly) {
  auto first = OpenStore();
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<Store>> second = Store::Open(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("already open for writing"));
  // Readers are still welcome while the writer holds the lock.
  auto reader = Connection::Open(path_, Connection::Mode::kReadOnly);
  EXPECT_TRUE(reader.ok());
  first.reset();
  EXPECT_TRUE(Store::Open(path_).ok()) << "the lock is released with the writer";
}

TEST_F(StoreTest, RefusesADatabaseFromTheFuture) {
  OpenStore().reset();
  {
    auto db = Connection::Open(path_, Connection::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Execute("UPDATE schema_version SET version = 999").ok());
  }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("newer than this binary"));
}

// A running job's model records survive reopening, a record with the same
// key replaces the earlier one, and they are deleted when the job ends.
TEST_F(StoreTest, ModelStateSurvivesReopeningAndEndsWithItsJob) {
  const std::string blob("\0\x01row\xff", 6);
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->InsertJob(1, Spec(), 1000).ok());
    ASSERT_TRUE(store->InsertJob(2, Spec(), 1000).ok());
    ASSERT_TRUE(store->PutModelState(1, {{1, 0, blob}, {1, 1, "one"}, {2, 0, "old"}}).ok());
    ASSERT_TRUE(store->PutModelState(1, {{2, 0, "new"}}).ok());
    ASSERT_TRUE(store->PutModelState(2, {{1, 0, "other job"}}).ok());
  }
  auto store = OpenStore();
  absl::StatusOr<std::vector<ModelStateRow>> rows = store->LoadModelState(1);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].bytes, blob);
  EXPECT_EQ((*rows)[1].position, 1);
  EXPECT_EQ((*rows)[1].bytes, "one");
  EXPECT_EQ((*rows)[2].kind, 2);
  EXPECT_EQ((*rows)[2].bytes, "new");
  ASSERT_TRUE(store->UpdateJobState(1, v1::JOB_STATE_SUCCEEDED, "", 2000).ok());
  rows = store->LoadModelState(1);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
  rows = store->LoadModelState(2);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
}

TEST_F(StoreTest, EveryTransitionSurvivesReopening) {
  const int64_t job_id = 1;
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->InsertJob(job_id, Spec(), 1000).ok());
    v1::WorkerInfo worker;
    worker.set_worker_id("w1");
    worker.set_name("box/0");
    worker.set_host("box");
    worker.set_device("cpu");
    worker.set_slots(2);
    ASSERT_TRUE(store->UpsertWorker(worker, 1000).ok());

    // 1: QUEUED -> LEASED -> DONE.
    CandidateRow one = Row(job_id, 1, v1::CANDIDATE_STATE_QUEUED);
    ASSERT_TRUE(store->InsertCandidate(one).ok());
    one.candidate.set_state(v1::CANDIDATE_STATE_LEASED);
    one.candidate.set_attempts(1);
    one.candidate.set_worker_id("w1");
    one.lease_id = "1-1-1";
    one.lease_expiry_ms = 5000;
    ASSERT_TRUE(store->LeaseCandidate(one).ok());
    one.candidate.set_state(v1::CANDIDATE_STATE_DONE);
    one.finish_seq = 1;
    *one.candidate.mutable_finish_time() = TimeUtil::MillisecondsToTimestamp(2000);
    EvaluationRow evaluation;
    evaluation.result.set_validation_error(0.125);
    evaluation.result.set_test_error(0.25);
    evaluation.result.set_trained_weights("weights-bytes");
    evaluation.result.mutable_quantized_model()->set_input("input");
    evaluation.metrics.set_peak_memory_bytes(321);
    evaluation.metrics.set_model_size_bytes(654);
    evaluation.feasible = true;
    evaluation.worker_id = "w1";
    ASSERT_TRUE(store->RecordEvaluation(one, evaluation).ok());

    // 2: LEASED -> expired -> QUEUED -> LEASED -> FAILED.
    CandidateRow two = Row(job_id, 2, v1::CANDIDATE_STATE_LEASED);
    two.candidate.set_attempts(1);
    two.candidate.set_worker_id("w1");
    two.lease_id = "1-2-1";
    two.lease_expiry_ms = 3000;
    ASSERT_TRUE(store->InsertCandidate(two).ok());
    two.candidate.set_state(v1::CANDIDATE_STATE_QUEUED);
    ASSERT_TRUE(store->RecordAttemptFailure(two, 1, "lease expired", 4000).ok());
    two.candidate.set_state(v1::CANDIDATE_STATE_FAILED);
    two.candidate.set_attempts(2);
    ASSERT_TRUE(store->RecordAttemptFailure(two, 2, "out of memory", 5000).ok());

    // 3: SKIPPED; 4: reused from 1.
    ASSERT_TRUE(store->InsertCandidate(Row(job_id, 3, v1::CANDIDATE_STATE_SKIPPED)).ok());
    CandidateRow four = Row(job_id, 4, v1::CANDIDATE_STATE_DONE);
    four.finish_seq = 2;
    *four.candidate.mutable_finish_time() = TimeUtil::MillisecondsToTimestamp(6000);
    EvaluationRow reused = evaluation;
    reused.reused_from = 1;
    reused.result.clear_trained_weights();  // as the coordinator stores a reuse
    reused.result.clear_quantized_model();
    ASSERT_TRUE(store->InsertReusedCandidate(four, reused).ok());
    // 5: a lease still held at the "crash".
    CandidateRow five = Row(job_id, 5, v1::CANDIDATE_STATE_LEASED);
    five.candidate.set_attempts(1);
    five.candidate.set_worker_id("w1");
    five.lease_id = "1-5-1";
    five.lease_expiry_ms = 9000;
    ASSERT_TRUE(store->InsertCandidate(five).ok());
    ASSERT_TRUE(store->UpdateJobState(job_id, v1::JOB_STATE_CANCELLED, "by test", 7000).ok());
  }

  auto store = OpenStore();
  absl::StatusOr<std::vector<JobRow>> jobs = store->LoadJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].job.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ((*jobs)[0].job.failure_reason(), "by test");
  EXPECT_EQ((*jobs)[0].job.spec().seed(), 7u);

  absl::StatusOr<std::vector<CandidateRow>> rows = store->LoadCandidates(job_id);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 5u);
  const v1::Candidate& one = (*rows)[0].candidate;
  EXPECT_EQ(one.state(), v1::CANDIDATE_STATE_DONE);
  EXPECT_EQ(one.fingerprint(), 0xF000000000000001ULL);
  EXPECT_EQ(one.architecture().mlp().layers(0).units(), 11);
  EXPECT_DOUBLE_EQ(one.evaluation().validation_error(), 0.125);
  EXPECT_TRUE(one.evaluation().trained_weights().empty()) << "weights load only on export";
  EXPECT_EQ(one.metrics().peak_memory_bytes(), 321);
  EXPECT_EQ(one.dense_metrics().peak_memory_bytes(), 100);
  EXPECT_TRUE(one.feasible());
  EXPECT_EQ((*rows)[0].finish_seq, 1);

  const v1::Candidate& two = (*rows)[1].candidate;
  EXPECT_EQ(two.state(), v1::CANDIDATE_STATE_FAILED);
  EXPECT_THAT(two.failure_reasons(), ::testing::ElementsAre("lease expired", "out of memory"));
  EXPECT_TRUE((*rows)[1].lease_id.empty());

  EXPECT_EQ((*rows)[2].candidate.state(), v1::CANDIDATE_STATE_SKIPPED);
  EXPECT_EQ((*rows)[3].candidate.state(), v1::CANDIDATE_STATE_DONE);
  EXPECT_EQ((*rows)[3].finish_seq, 2);
  EXPECT_EQ((*rows)[4].candidate.state(), v1::CANDIDATE_STATE_LEASED);
  EXPECT_EQ((*rows)[4].lease_id, "1-5-1");
  EXPECT_EQ((*rows)[4].lease_expiry_ms, 9000);

  absl::StatusOr<Artifacts> artifacts = store->LoadArtifacts(job_id, 1);
  ASSERT_TRUE(artifacts.ok());
  EXPECT_EQ(artifacts->trained_weights, "weights-bytes");
  EXPECT_EQ(artifacts->quantized_model.input(), "input");
  EXPECT_EQ(store->LoadArtifacts(job_id, 3).status().code(), absl::StatusCode::kNotFound);
  // The reused result exports the artefacts of the evaluation it copies.
  absl::StatusOr<Artifacts> reused_artifacts = store->LoadArtifacts(job_id, 4);
  ASSERT_TRUE(reused_artifacts.ok()) << reused_artifacts.status();
  EXPECT_EQ(reused_artifacts->trained_weights, "weights-bytes");
  EXPECT_EQ(reused_artifacts->quantized_model.input(), "input");

  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = store->LoadWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].evaluations_done(), 1) << "the reused result trained nothing";
}

TEST_F(StoreTest, AFailedTransactionChangesNothing) {
  auto store = OpenStore();
  const int64_t job_id = 1;
  ASSERT_TRUE(store->InsertJob(job_id, Spec(), 1).ok());
  CandidateRow row = Row(job_id, 1, v1::CANDIDATE_STATE_LEASED);
  ASSERT_TRUE(store->InsertCandidate(row).ok());
  EXPECT_FALSE(store->InsertCandidate(row).ok()) << "the same id twice";

  row.candidate.set_state(v1::CANDIDATE_STATE_DONE);
  row.finish_seq = 1;
  EvaluationRow evaluation;
  evaluation.worker_id = "w1";
  ASSERT_TRUE(store->RecordEvaluation(row, evaluation).ok());
  // A second report: its candidate UPDATE succeeds, its evaluation INSERT
  // fails; the transaction must leave the first report untouched.
  row.finish_seq = 7;
  EXPECT_FALSE(store->RecordEvaluation(row, evaluation).ok());
  absl::StatusOr<std::vector<CandidateRow>> rows = store->LoadCandidates(job_id);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].finish_seq, 1);
}

// A commit that fails (here SQLITE_BUSY: another connection holds the
// write lock past the 5 s busy timeout) is retried, not the end: health is
// UNAVAILABLE meanwhile, a waiter gets UNAVAILABLE after the grace, and once
// the lock is gone every held write is stored, in order.
TEST_F(StoreTest, AFailedCommitIsRetriedUntilItSucceeds) {
  auto store = OpenStore();
  auto blocker = Connection::Open(path_, Connection::Mode::kReadWrite);
  ASSERT_TRUE(blocker.ok()) << blocker.status();
  ASSERT_TRUE((*blocker)->Execute("BEGIN IMMEDIATE").ok());
  CommitRetry retry;
  retry.first_backoff = std::chrono::milliseconds(20);
  retry.max_backoff = std::chrono::milliseconds(200);
  retry.grace = std::chrono::milliseconds(500);
  GroupCommitter committer(store.get(), {}, retry);
  const uint64_t job =
      committer.Enqueue("job", [](Store& db) { return db.InsertJob(1, Spec(), 1); });
  absl::Status waited = committer.WaitDurable(job);
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable) << waited;
  EXPECT_EQ(committer.health().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(committer.health().message(), HasSubstr("cannot commit"));
  const uint64_t candidate = committer.Enqueue(
      "lease", [](Store& db) { return db.InsertCandidate(Row(1, 1, v1::CANDIDATE_STATE_LEASED)); });
  CommitHealth health = committer.Health();
  EXPECT_GE(health.failed_commits, 1);
  EXPECT_EQ(health.pending_writes, 2u);
  ASSERT_TRUE((*blocker)->Execute("ROLLBACK").ok());
  // The retry stores both, the job before its candidate.
  for (int i = 0; i < 100 && !committer.WaitDurable(candidate).ok(); ++i) {
  }
  EXPECT_TRUE(committer.WaitDurable(candidate).ok());
  EXPECT_TRUE(committer.health().ok());
  EXPECT_EQ(committer.Health().pending_writes, 0u);
  absl::StatusOr<std::vector<CandidateRow>> rows = store->LoadCandidates(1);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), 1u);
}

// Restart streams rows (by id, or the DONE ones in history order); queries
// read rows and evaluation points through the read-only connection.
TEST_F(StoreTest, StreamsRowsAndReadsThemBackForQueries) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const int64_t job_id = 1;
  ASSERT_TRUE(store->InsertJob(job_id, Spec(), 1).ok());
  // Candidates 1..3 DONE, finished in the order 3, 1, 2; candidate 4 QUEUED.
  for (int64_t id = 1; id <= 4; ++id) {
    ASSERT_TRUE(store->InsertCandidate(Row(job_id, id, v1::CANDIDATE_STATE_LEASED)).ok());
  }
  int64_t finish_seq = 0;
  for (int64_t id : {3, 1, 2}) {
    CandidateRow row = Row(job_id, id, v1::CANDIDATE_STATE_DONE);
    row.finish_seq = ++finish_seq;
    row.candidate.set_feasible(id != 2);
    EvaluationRow evaluation;
    evaluation.result.set_validation_error(0.1 * static_cast<double>(id));
    evaluation.result.set_test_error(0.2);
    evaluation.metrics.set_peak_memory_bytes(10 * id);
    evaluation.feasible = id != 2;
    evaluation.worker_id = "w1";
    ASSERT_TRUE(store->RecordEvaluation(row, evaluation).ok());
  }
  ASSERT_TRUE(
      store->RecordAttemptFailure(Row(job_id, 4, v1::CANDIDATE_STATE_QUEUED), 1, "lease expired", 5)
          .ok());

  std::vector<int64_t> by_id, by_finish;
  ASSERT_TRUE(store
                  ->ForEachCandidate(job_id, CandidateOrder::kById,
                                     [&](CandidateRow row) {
                                       by_id.push_back(row.candidate.candidate_id());
                                       return absl::OkStatus();
                                     })
                  .ok());
  ASSERT_TRUE(store
                  ->ForEachCandidate(job_id, CandidateOrder::kDoneByFinish,
                                     [&](CandidateRow row) {
                                       by_finish.push_back(row.candidate.candidate_id());
                                       return absl::OkStatus();
                                     })
                  .ok());
  EXPECT_EQ(by_id, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(by_finish, (std::vector<int64_t>{3, 1, 2}));
  absl::Status stop = store->ForEachCandidate(
      job_id, CandidateOrder::kById, [](CandidateRow) { return absl::CancelledError("enough"); });
  EXPECT_EQ(stop.code(), absl::StatusCode::kCancelled) << "the visitor's error ends the walk";

  absl::StatusOr<std::vector<CandidateRow>> read = store->ReadCandidates(job_id, {4, 2, 99});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u) << "ids the job does not have are left out";
  EXPECT_EQ((*read)[0].candidate.candidate_id(), 4);
  ASSERT_EQ((*read)[0].candidate.failure_reasons_size(), 1);
  EXPECT_EQ((*read)[0].candidate.failure_reasons(0), "lease expired");
  EXPECT_EQ((*read)[1].candidate.evaluation().validation_error(), 0.2);

  absl::StatusOr<std::vector<EvaluationPoint>> points = store->ReadEvaluationPoints(job_id);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 3u);
  EXPECT_EQ((*points)[1].candidate_id, 2);
  EXPECT_FALSE((*points)[1].feasible);
  EXPECT_DOUBLE_EQ((*points)[2].validation_error, 0.3);
  EXPECT_DOUBLE_EQ((*points)[2].test_error, 0.2);
  EXPECT_EQ((*points)[2].metrics.peak_memory_bytes(), 30);
}

}  // namespace
}  // namespace unas::store
