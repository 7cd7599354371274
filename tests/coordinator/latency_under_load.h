// Heartbeat and status latency of one job while another job proposes from
// the widest search space (whose exact peak-memory searches are slow): the
// test asserts a generous bound, bench/coordinator/heartbeat_latency prints
// the figures.
#ifndef UNAS_TESTS_COORDINATOR_LATENCY_UNDER_LOAD_H_
#define UNAS_TESTS_COORDINATOR_LATENCY_UNDER_LOAD_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "coordinator/core/coordinator.h"
#include "worker/daemon/synthetic_evaluator.h"

namespace unas::coordinator::testing {

struct LatencyUnderLoad {
  std::vector<double> heartbeat_ms;  // round trips of Heartbeat
  std::vector<double> status_ms;     // round trips of GetJob
  int proposals = 0;                 // evaluations of the proposing job meanwhile
  int exports = 0;                   // MeasureLatencyUnderReads: exports meanwhile
  int pareto_scans = 0;              // and Pareto fronts read meanwhile
};

inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// `small` is a job with max_parallel_evaluations 1; `wide` a job over the
// widest space. Both are submitted here, small first.
inline LatencyUnderLoad MeasureLatencyUnderLoad(Coordinator& c, const v1::JobSpec& small,
                                                const v1::JobSpec& wide, absl::Duration duration) {
  using Clock = std::chrono::steady_clock;
  LatencyUnderLoad out;
  absl::StatusOr<v1::Job> small_job = c.SubmitJob(small);
  v1::RegisterWorkerRequest registration;
  registration.set_name("beater");
  registration.set_slots(1);
  const absl::StatusOr<v1::RegisterWorkerResponse> beater = c.RegisterWorker(registration);
  if (!beater.ok()) return out;
  v1::AcquireTaskRequest acquire;
  acquire.set_worker_id(beater->worker_id());
  acquire.set_worker_secret(beater->worker_secret());
  absl::StatusOr<v1::AcquireTaskResponse> held = c.AcquireTask(acquire, absl::Seconds(10));
  if (!small_job.ok() || !held.ok() || !held->has_task()) return out;
  if (!c.SubmitJob(wide).ok()) return out;
  registration.set_name("proposer");
  const absl::StatusOr<v1::RegisterWorkerResponse> proposer = c.RegisterWorker(registration);
  if (!proposer.ok()) return out;

  std::atomic<bool> stop{false};
  std::atomic<int> proposals{0};
  std::thread load([&] {
    v1::AcquireTaskRequest request;
    request.set_worker_id(proposer->worker_id());
    request.set_worker_secret(proposer->worker_secret());
    while (!stop.load()) {
      absl::StatusOr<v1::AcquireTaskResponse> task =
          c.AcquireTask(request, absl::Milliseconds(100));
      if (!task.ok() || !task->has_task()) continue;
      v1::CompleteTaskRequest complete;
      complete.set_worker_id(proposer->worker_id());
      complete.set_worker_secret(proposer->worker_secret());
      complete.set_lease_id(task->task().lease_id());
      complete.set_job_id(task->task().job_id());
      complete.set_candidate_id(task->task().candidate_id());
      absl::StatusOr<double> error = worker::SyntheticError(task->task());
      complete.mutable_result()->set_validation_error(error.value_or(0.5));
      complete.mutable_result()->set_test_error(error.value_or(0.5));
      if (c.CompleteTask(complete).ok()) ++proposals;
    }
  });
  v1::HeartbeatRequest heartbeat;
  heartbeat.set_worker_id(beater->worker_id());
  heartbeat.set_worker_secret(beater->worker_secret());
  heartbeat.set_lease_id(held->task().lease_id());
  const auto end = Clock::now() + absl::ToChronoMilliseconds(duration);
  while (Clock::now() < end) {
    auto start = Clock::now();
    (void)c.Heartbeat(heartbeat);
    auto middle = Clock::now();
    (void)c.GetJob(small_job->job_id());
    auto done = Clock::now();
    out.heartbeat_ms.push_back(std::chrono::duration<double, std::milli>(middle - start).count());
    out.status_ms.push_back(std::chrono::duration<double, std::milli>(done - middle).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  load.join();
  out.proposals = proposals.load();
  return out;
}

// Heartbeats and status of `small`'s worker while other callers read a lot
// from the store: one exports a candidate of `big` with `weights_bytes` of
// trained weights over and over, one reads `big`'s Pareto front (over
// `points` evaluations) over and over, and a worker keeps evaluating `big`'s
// proposals (in a small space many are networks already evaluated, whose
// results are copied from the store). `small` is a job with
// max_parallel_evaluations 1; both are submitted here, small first.
inline LatencyUnderLoad MeasureLatencyUnderReads(Coordinator& c, const v1::JobSpec& small,
                                                 const v1::JobSpec& big, int points,
                                                 size_t weights_bytes, absl::Duration duration) {
  using Clock = std::chrono::steady_clock;
  LatencyUnderLoad out;
  absl::StatusOr<v1::Job> small_job = c.SubmitJob(small);
  v1::RegisterWorkerRequest registration;
  registration.set_name("beater");
  registration.set_slots(1);
  const absl::StatusOr<v1::RegisterWorkerResponse> beater = c.RegisterWorker(registration);
  if (!small_job.ok() || !beater.ok()) return out;
  v1::AcquireTaskRequest acquire;
  acquire.set_worker_id(beater->worker_id());
  acquire.set_worker_secret(beater->worker_secret());
  absl::StatusOr<v1::AcquireTaskResponse> held = c.AcquireTask(acquire, absl::Seconds(10));
  absl::StatusOr<v1::Job> big_job = c.SubmitJob(big);
  registration.set_name("filler");
  const absl::StatusOr<v1::RegisterWorkerResponse> filler = c.RegisterWorker(registration);
  if (!held.ok() || !held->has_task() || !big_job.ok() || !filler.ok()) return out;
  // One evaluation of the big job: true when a result was accepted.
  int64_t exported = 0;
  auto evaluate_one = [&](size_t weights) {
    v1::AcquireTaskRequest request;
    request.set_worker_id(filler->worker_id());
    request.set_worker_secret(filler->worker_secret());
    absl::StatusOr<v1::AcquireTaskResponse> task = c.AcquireTask(request, absl::Milliseconds(100));
    if (!task.ok() || !task->has_task()) return false;
    v1::CompleteTaskRequest complete;
    complete.set_worker_id(filler->worker_id());
    complete.set_worker_secret(filler->worker_secret());
    complete.set_lease_id(task->task().lease_id());
    complete.set_job_id(task->task().job_id());
    complete.set_candidate_id(task->task().candidate_id());
    absl::StatusOr<double> error = worker::SyntheticError(task->task());
    complete.mutable_result()->set_validation_error(error.value_or(0.5));
    complete.mutable_result()->set_test_error(error.value_or(0.5));
    complete.mutable_result()->set_trained_weights(std::string(weights, 'w'));
    if (weights == weights_bytes) exported = task->task().candidate_id();
    return c.CompleteTask(complete).ok();
  };
  if (!evaluate_one(weights_bytes)) return out;
  for (int i = 1; i < points;) i += evaluate_one(16) ? 1 : 0;

  std::atomic<bool> stop{false};
  std::atomic<int> proposals{0}, exports{0}, scans{0};
  std::thread exporter([&] {
    while (!stop.load()) {
      if (c.ExportCandidate(big_job->job_id(), exported).ok()) ++exports;
    }
  });
  std::thread scanner([&] {
    v1::GetParetoFrontRequest request;
    request.set_job_id(big_job->job_id());
    request.set_include_infeasible(true);
    while (!stop.load()) {
      if (c.GetParetoFront(request).ok()) ++scans;
    }
  });
  std::thread proposer([&] {
    while (!stop.load()) {
      if (evaluate_one(16)) ++proposals;
    }
  });
  v1::HeartbeatRequest heartbeat;
  heartbeat.set_worker_id(beater->worker_id());
  heartbeat.set_worker_secret(beater->worker_secret());
  heartbeat.set_lease_id(held->task().lease_id());
  const auto end = Clock::now() + absl::ToChronoMilliseconds(duration);
  while (Clock::now() < end) {
    auto start = Clock::now();
    (void)c.Heartbeat(heartbeat);
    auto middle = Clock::now();
    (void)c.GetJob(small_job->job_id());
    auto done = Clock::now();
    out.heartbeat_ms.push_back(std::chrono::duration<double, std::milli>(middle - start).count());
    out.status_ms.push_back(std::chrono::duration<double, std::milli>(done - middle).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  exporter.join();
  scanner.join();
  proposer.join();
  out.proposals = proposals.load();
  out.exports = exports.load();
  out.pareto_scans = scans.load();
  return out;
}

}  // namespace unas::coordinator::testing

#endif  // UNAS_TESTS_COORDINATOR_LATENCY_UNDER_LOAD_H_
