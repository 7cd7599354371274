// A rogue worker for the hostile-client fault test: threads that attack a
// live coordinator's WorkerService while honest workers run real jobs.
//
// Two parties attack:
//   - a forger, holding the worker token but no registration of its own: it
//     calls every method under the honest workers' ids ("w1", "w2", ...)
//     with made-up secrets and lease ids, reports made-up results for
//     candidates others are training, registers the honest workers' names
//     again without their secrets, and sends random bytes to every method;
//   - a registered rogue with its own valid secret, which takes real tasks
//     and answers each with one abuse: an oversized or malformed result,
//     impossible numbers, a report under another worker's id, or releases
//     of one candidate over and over (until the coordinator fails it).
// Every forged result carries kForgedDevice, so the test can check that none
// was stored. The counters say what was sent and what the coordinator let
// through that it should not have.
#ifndef UNAS_TESTS_COORDINATOR_ROGUE_WORKER_H_
#define UNAS_TESTS_COORDINATOR_ROGUE_WORKER_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/coordinator/rpc_test_util.h"
#include "unas/v1/job_service.grpc.pb.h"
#include "unas/v1/worker_service.grpc.pb.h"

namespace unas::coordinator::testing {

inline constexpr char kForgedDevice[] = "forged-by-rogue";

class RogueWorker {
 public:
  struct Counts {
    std::atomic<int> calls{0};                     // attacks sent
    std::atomic<int> forged_accepted{0};           // forger calls answered OK that must not be
    std::atomic<int> abusive_results_accepted{0};  // rogue results the coordinator stored
    std::atomic<int> releases{0};
    std::atomic<int> tasks_abused{0};
  };

  // `honest_names`: the names honest workers registered under. `job_ids`:
  // the jobs whose candidates the forger reports on.
  RogueWorker(const std::string& address, std::vector<std::string> honest_names,
              std::vector<int64_t> job_ids)
      : channel_(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
        honest_names_(std::move(honest_names)),
        job_ids_(std::move(job_ids)) {
    threads_.emplace_back([this] { Forge(); });
    threads_.emplace_back([this] { AbuseLeases(); });
    threads_.emplace_back([this] { RandomBytes(); });
  }
  ~RogueWorker() { Stop(); }

  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  const Counts& counts() const { return counts_; }
  // The candidate the rogue released until the coordinator failed it, as
  // (job id, candidate id); (0, 0) before the rogue got a task.
  std::pair<int64_t, int64_t> released_candidate() const {
    std::lock_guard<std::mutex> lock(mu_);
    return released_;
  }
  std::string rogue_worker_id() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rogue_id_;
  }

 private:
  static v1::EvaluationResult PlausibleForgery() {
    v1::EvaluationResult result;
    result.set_validation_error(0.0123);
    result.set_test_error(0.0123);
    result.set_device(kForgedDevice);
    return result;
  }

  void Pause(int ms) {
    for (int waited = 0; waited < ms && !stop_; waited += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // The forger: every call under an honest id with a made-up secret, and
  // made-up reports for candidates in flight.
  void Forge() {
    auto workers = v1::WorkerService::NewStub(channel_);
    auto jobs = v1::JobService::NewStub(channel_);
    std::mt19937_64 random(7);
    auto made_up = [&] { return absl::StrCat(random(), random()); };
    int round = 0;
    while (!stop_) {
      ++round;
      for (int n = 1; n <= 6 && !stop_; ++n) {
        const std::string id = absl::StrCat("w", n);
        {
          grpc::ClientContext context;
          SetDeadline(context, 5);
          v1::AcquireTaskRequest request;
          request.set_worker_id(id);
          request.set_worker_secret(made_up());
          request.set_wait_seconds(0);
          v1::AcquireTaskResponse response;
          if (workers->AcquireTask(&context, request, &response).ok()) ++counts_.forged_accepted;
          ++counts_.calls;
        }
        {
          grpc::ClientContext context;
          SetDeadline(context, 5);
          v1::HeartbeatRequest request;
          request.set_worker_id(id);
          request.set_worker_secret(made_up());
          request.set_lease_id(made_up());
          request.set_progress_steps(1 << 30);
          v1::HeartbeatResponse response;
          if (workers->Heartbeat(&context, request, &response).ok()) ++counts_.forged_accepted;
          ++counts_.calls;
        }
        {
          grpc::ClientContext context;
          SetDeadline(context, 5);
          v1::FailTaskRequest request;
          request.set_worker_id(id);
          request.set_worker_secret(made_up());
          request.set_lease_id(made_up());
          request.set_permanent(true);
          request.set_reason(std::string(64 << 10, 'f'));
          v1::FailTaskResponse response;
          if (workers->FailTask(&context, request, &response).ok()) ++counts_.forged_accepted;
          ++counts_.calls;
        }
      }
      // Reports for the candidates being trained, under honest ids with
      // made-up secrets, and under the rogue's own id without a lease.
      for (int64_t job_id : job_ids_) {
        grpc::ClientContext context;
        SetDeadline(context, 5);
        v1::ListCandidatesRequest request;
        request.set_job_id(job_id);
        request.add_states(v1::CANDIDATE_STATE_LEASED);
        v1::ListCandidatesResponse response;
        if (!jobs->ListCandidates(&context, request, &response).ok()) continue;
        for (const v1::Candidate& candidate : response.candidates()) {
          for (int as_rogue = 0; as_rogue < 2 && !stop_; ++as_rogue) {
            grpc::ClientContext report_context;
            SetDeadline(report_context, 5);
            v1::CompleteTaskRequest report;
            std::string rogue_id, rogue_secret;
            {
              std::lock_guard<std::mutex> lock(mu_);
              rogue_id = rogue_id_;
              rogue_secret = rogue_secret_;
            }
            if (as_rogue == 1 && rogue_id.empty()) continue;
            report.set_worker_id(as_rogue ? rogue_id : candidate.worker_id());
            report.set_worker_secret(as_rogue ? rogue_secret : made_up());
            report.set_lease_id(made_up());
            report.set_job_id(job_id);
            report.set_candidate_id(candidate.candidate_id());
            *report.mutable_result() = PlausibleForgery();
            v1::CompleteTaskResponse answer;
            grpc::Status status = workers->CompleteTask(&report_context, report, &answer);
            if (status.ok() && answer.accepted()) ++counts_.forged_accepted;
            ++counts_.calls;
          }
        }
      }
      // Now and then, the honest names registered again without their
      // secrets (refused while they hold leases; when idle, the honest
      // worker registers again on its next call).
      if (round % 20 == 0) {
        for (const std::string& name : honest_names_) {
          grpc::ClientContext context;
          SetDeadline(context, 5);
          v1::RegisterWorkerRequest request;
          request.set_name(name);
          request.set_host("rogue-host");
          v1::RegisterWorkerResponse response;
          (void)workers->RegisterWorker(&context, request, &response);
          ++counts_.calls;
        }
      }
      Pause(50);
    }
  }

  // The registered rogue: real tasks, each answered with one abuse.
  void AbuseLeases() {
    auto workers = v1::WorkerService::NewStub(channel_);
    std::string id, secret;
    while (!stop_ && id.empty()) {
      grpc::ClientContext context;
      SetDeadline(context, 5);
      v1::RegisterWorkerRequest request;
      request.set_name("rogue");
      request.set_host("rogue-host");
      request.set_device("cpu");
      v1::RegisterWorkerResponse response;
      if (workers->RegisterWorker(&context, request, &response).ok()) {
        id = response.worker_id();
        secret = response.worker_secret();
        std::lock_guard<std::mutex> lock(mu_);
        rogue_id_ = id;
        rogue_secret_ = secret;
      } else {
        Pause(200);
      }
    }
    std::set<std::pair<int64_t, int64_t>>
        abused;  // each candidate gets at most one failed attempt from us
    int kind = 0;
    while (!stop_) {
      grpc::ClientContext context;
      SetDeadline(context, 5);
      v1::AcquireTaskRequest request;
      request.set_worker_id(id);
      request.set_worker_secret(secret);
      request.set_wait_seconds(1);
      v1::AcquireTaskResponse response;
      if (!workers->AcquireTask(&context, request, &response).ok() || !response.has_task()) {
        Pause(100);
        continue;
      }
      const v1::Task& task = response.task();
      auto fail = [&](bool released, std::string reason) {
        grpc::ClientContext fail_context;
        SetDeadline(fail_context, 5);
        v1::FailTaskRequest fail_request;
        fail_request.set_worker_id(id);
        fail_request.set_worker_secret(secret);
        fail_request.set_lease_id(task.lease_id());
        fail_request.set_job_id(task.job_id());
        fail_request.set_candidate_id(task.candidate_id());
        fail_request.set_released(released);
        fail_request.set_reason(std::move(reason));
        v1::FailTaskResponse fail_response;
        (void)workers->FailTask(&fail_context, fail_request, &fail_response);
        ++counts_.calls;
      };
      // Endless releases of the first candidate it got: the coordinator
      // must cap them (the candidate then fails), not grow its row forever.
      const std::pair<int64_t, int64_t> key{task.job_id(), task.candidate_id()};
      bool endless = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (released_.first == 0) released_ = key;
        endless = released_ == key;
      }
      if (endless || abused.contains(key)) {
        fail(/*released=*/true, std::string(32 << 10, 'r'));
        ++counts_.releases;
        // Give honest workers the chance to take a re-queued candidate we
        // already abused; the endlessly released one we take back at once.
        if (!endless) Pause(300);
        continue;
      }
      abused.insert(key);
      ++counts_.tasks_abused;
      v1::CompleteTaskRequest report;
      report.set_worker_id(id);
      report.set_worker_secret(secret);
      report.set_lease_id(task.lease_id());
      report.set_job_id(task.job_id());
      report.set_candidate_id(task.candidate_id());
      v1::EvaluationResult& result = *report.mutable_result();
      result = PlausibleForgery();
      switch (kind++ % 5) {
        case 0:  // impossible numbers
          result.set_validation_error(std::numeric_limits<double>::quiet_NaN());
          result.set_test_error(-3);
          break;
        case 1:  // an oversized device name and 10 MB of "weights"
          result.set_device(std::string(1 << 20, 'd'));
          result.set_trained_weights(std::string(10 << 20, 'w'));
          break;
        case 2: {  // an int8 model whose op reads tensors that do not exist
          v1::QuantizedModel& model = *result.mutable_quantized_model();
          for (int i = 0; i < 2000; ++i) {
            v1::QuantizedOp& op = *model.add_ops();
            op.add_inputs(std::string(200, 'x') + std::to_string(i));
            op.set_output("y" + std::to_string(i));
          }
          model.set_input(std::string(100 << 10, 'i'));
          model.set_output("nowhere");
          break;
        }
        case 3:  // a hundred thousand epoch records
          for (int i = 0; i < 100000; ++i) result.add_epochs()->set_epoch(i);
          break;
        case 4: {  // its own lease, reported under an honest worker's id
          report.set_worker_id("w1");
          grpc::ClientContext report_context;
          SetDeadline(report_context, 20);
          v1::CompleteTaskResponse answer;
          if (workers->CompleteTask(&report_context, report, &answer).ok() && answer.accepted()) {
            ++counts_.abusive_results_accepted;
          }
          ++counts_.calls;
          fail(/*released=*/false, "rogue gives up");
          continue;
        }
      }
      grpc::ClientContext report_context;
      SetDeadline(report_context, 20);
      v1::CompleteTaskResponse answer;
      if (workers->CompleteTask(&report_context, report, &answer).ok() && answer.accepted()) {
        ++counts_.abusive_results_accepted;
      }
      ++counts_.calls;
    }
  }

  // Random bytes as the request of every WorkerService method.
  void RandomBytes() {
    std::mt19937 random(31);
    const std::vector<std::string> paths = MethodPaths("unas.v1.WorkerService");
    while (!stop_) {
      for (const std::string& path : paths) {
        std::string bytes(1 + random() % 4096, '\0');
        for (char& b : bytes) b = static_cast<char>(random());
        grpc::Status status = RawCall(channel_.get(), path, bytes);
        // Random bytes can parse as a valid (mostly empty) request; what
        // matters is that nothing it asked for was granted.
        (void)status;
        ++counts_.calls;
      }
      Pause(20);
    }
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::vector<std::string> honest_names_;
  std::vector<int64_t> job_ids_;
  Counts counts_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::pair<int64_t, int64_t> released_{0, 0};
  std::string rogue_id_, rogue_secret_;
  std::vector<std::thread> threads_;
};

}  // namespace unas::coordinator::testing

#endif  // UNAS_TESTS_COORDINATOR_ROGUE_WORKER_H_
