// A coordinator and three real workers on loopback running a real
// Fashion-MNIST search (a training subset, one epoch) to completion.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/proto_io/proto_file.h"
#include "gtest/gtest.h"
#include "tests/coordinator/process_test_util.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT

TEST(IntegrationTest, ThreeWorkersRunARealFashionMnistSearch) {
  std::string dir = unas::testing::MakeTestDir("integration");
  CoordinatorProcess coordinator(dir, dir + "/search.db", 0, {"--heartbeat-interval", "1"});
  v1::JobSpec spec;
  ASSERT_TRUE(
      ParseProto(
          R"pb(
            name: "tiny_fashion"
            dataset {
              name: DATASET_NAME_FASHION_MNIST
              max_train_examples: 3000
              max_test_examples: 1000
            }
            search_space {
              kind: SEARCH_SPACE_KIND_CNN
              cnn { max_conv_blocks: 2 max_layers_per_block: 1 max_filters: 8 max_dense_units: 32 }
            }
            algorithm {
              aging_evolution { population_size: 3 sample_size: 2 }
              rounds: 6
            }
            training {
              optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.003 }
              epochs: 1
              batch_size: 64
            }
            bounds { error: 0.5 peak_memory_bytes: 20000 model_size_bytes: 20000 }
            seed: 4
          )pb",
          ProtoFormat::kTextproto, "spec", &spec)
          .ok());
  int64_t job_id = Submit(coordinator, spec);
  std::vector<std::unique_ptr<unas::testing::Subprocess>> workers;
  for (int i = 0; i < 3; ++i) {
    workers.push_back(
        StartWorker(dir, coordinator.address(), "trainer" + std::to_string(i), {"--threads", "1"}));
  }
  v1::Job job = WaitForJobEnd(coordinator, job_id, absl::Minutes(8));
  ASSERT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED)
      << coordinator.process().ReadLog() << workers[0]->ReadLog();
  EXPECT_EQ(job.progress().evaluations_done(), 6);

  auto client = coordinator.JobClient();
  v1::ListCandidatesResponse listed;
  {
    grpc::ClientContext context;
    v1::ListCandidatesRequest request;
    request.set_job_id(job_id);
    request.add_states(v1::CANDIDATE_STATE_DONE);
    ASSERT_TRUE(client->ListCandidates(&context, request, &listed).ok());
  }
  ASSERT_EQ(listed.candidates_size(), 6);
  std::set<std::string> trained_by;
  double best = 1.0;
  for (const v1::Candidate& c : listed.candidates()) {
    // Random tiny networks may not learn; every error is a real measurement.
    EXPECT_GE(c.evaluation().test_error(), 0.0);
    EXPECT_LE(c.evaluation().test_error(), 1.0);
    best = std::min(best, c.evaluation().test_error());
    EXPECT_GT(c.evaluation().training_seconds(), 0);
    EXPECT_EQ(c.evaluation().device(), "cpu");
    EXPECT_GT(c.metrics().peak_memory_bytes(), 0);
    EXPECT_FALSE(c.metrics().peak_memory_is_upper_bound());  // small nets: proven optimal
    trained_by.insert(c.worker_id());
  }
  EXPECT_GE(trained_by.size(), 2u) << "the work was shared";
  // The search found a network that learned: chance is 0.9 error.
  EXPECT_LT(best, 0.5);
  grpc::ClientContext context;
  v1::ExportCandidateRequest request;
  request.set_job_id(job_id);
  request.set_candidate_id(listed.candidates(0).candidate_id());
  v1::ExportCandidateResponse exported;
  ASSERT_TRUE(client->ExportCandidate(&context, request, &exported).ok());
  EXPECT_GT(exported.trained_weights().size(), 100u);
  EXPECT_EQ(exported.num_classes(), 10);

  for (auto& w : workers) w->Signal(SIGTERM);
  for (auto& w : workers) EXPECT_EQ(w->Wait(absl::Seconds(30)), 0) << w->ReadLog();
  // Keep the logs of a failed run; tidy up after a passing one.
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unas::coordinator
