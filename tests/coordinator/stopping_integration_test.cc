// Automated stopping end to end: a real unas-coordinator and the real worker
// loop with the synthetic evaluator's learning curves (in the test process,
// tests/coordinator/synthetic_worker.h). The worker sends its curve in
// heartbeats and obeys `stopped`; some candidates are stopped, the job ends
// at exactly `rounds`, and a second seeded one-worker run makes the same
// decisions.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"
#include "tests/coordinator/synthetic_worker.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT

constexpr int kRounds = 30;

// Each candidate's outcome by id: its serialised StoppingDecision, or its
// state's name.
std::vector<std::string> RunOnce(const std::string& name, int* stopped) {
  const std::string dir = unas::testing::MakeTestDir(name);
  CoordinatorProcess coordinator(dir, dir + "/search.db");
  v1::JobSpec spec = SmallSpec(kRounds, /*seed=*/21);
  // SyntheticWorker trains 3 epochs; its curve has 4 points each.
  spec.mutable_training()->set_epochs(3);
  spec.mutable_training()->mutable_learning_curve()->set_points_per_epoch(4);
  spec.mutable_automated_stopping()->set_min_completed(3);
  spec.mutable_automated_stopping()->set_grace_epochs(0.5);
  const int64_t job_id = Submit(coordinator, spec);
  v1::Job job;
  {
    SyntheticWorker worker(coordinator.address(), "curves", absl::Milliseconds(30));
    job = WaitForJobEnd(coordinator, job_id, absl::Seconds(120));
  }
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << coordinator.process().ReadLog();
  EXPECT_EQ(job.progress().evaluations_done() + job.progress().candidates_stopped(), kRounds);
  *stopped = job.progress().candidates_stopped();
  std::vector<std::string> outcomes;
  for (int64_t id = 1;; ++id) {
    auto client = coordinator.JobClient();
    grpc::ClientContext context;
    v1::GetCandidateRequest request;
    request.set_job_id(job_id);
    request.set_candidate_id(id);
    v1::Candidate candidate;
    if (!client->GetCandidate(&context, request, &candidate).ok()) break;
    if (candidate.state() == v1::CANDIDATE_STATE_STOPPED) {
      EXPECT_EQ(candidate.stopping().rule(), "median");
      EXPECT_GT(candidate.stopping().candidate_error(), candidate.stopping().threshold());
      EXPECT_GE(candidate.stopping().completed_compared(), 3);
      EXPECT_GE(candidate.stopping().epoch_fraction(), 0.5);
      EXPECT_FALSE(candidate.evaluation().curve().empty());
      outcomes.push_back(candidate.stopping().SerializeAsString());
    } else {
      outcomes.push_back(v1::CandidateState_Name(candidate.state()));
    }
  }
  return outcomes;
}

TEST(StoppingIntegrationTest, TheWorkerIsStoppedAndASeededRunRepeats) {
  int first_stopped = 0, second_stopped = 0;
  const std::vector<std::string> first = RunOnce("stopping_e2e_first", &first_stopped);
  EXPECT_GE(first_stopped, 1) << "the synthetic curves stop some candidates";
  EXPECT_LT(first_stopped, kRounds);
  const std::vector<std::string> second = RunOnce("stopping_e2e_second", &second_stopped);
  EXPECT_EQ(first, second);
  EXPECT_EQ(first_stopped, second_stopped);
}

}  // namespace
}  // namespace unas::coordinator
