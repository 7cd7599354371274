#include "bench/search/search_race.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "coordinator/core/coordinator.h"
#include "coordinator/store/store.h"

namespace unas::bench {
namespace {

// A leased candidate: its evaluation, computed when it was leased, and the
// virtual times (ms) of its lease, of each learning-curve point and of its end.
struct Running {
  std::string worker_id;
  std::string worker_secret;
  v1::Task task;
  absl::StatusOr<v1::EvaluationResult> result;
  int64_t leased_ms = 0;
  int64_t finish_ms = 0;
  std::vector<int64_t> point_ms;  // heartbeats, when the job stops candidates
  size_t next_point = 0;
};

// When (virtual ms) the running candidate's next event happens: its next
// curve point's heartbeat, else its report.
int64_t NextEventMs(const Running& run) {
  return run.next_point < run.point_ms.size() ? run.point_ms[run.next_point] : run.finish_ms;
}

}  // namespace

absl::StatusOr<RaceResult> RunRace(const v1::JobSpec& spec, worker::Evaluator& evaluator,
                                   const RaceOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) {
    std::filesystem::remove(options.db_path + suffix);
  }
  absl::StatusOr<std::unique_ptr<store::Store>> store = store::Store::Open(options.db_path);
  if (!store.ok()) return store.status();
  // The virtual clock: leases never expire, whatever the evaluations take.
  std::atomic<int64_t> now_ms{1'700'000'000'000};
  coordinator::CoordinatorOptions coordinator_options;
  coordinator_options.now_ms = [&now_ms] { return now_ms.load(); };
  absl::StatusOr<std::unique_ptr<coordinator::Coordinator>> created =
      coordinator::Coordinator::Create(*std::move(store), coordinator_options);
  if (!created.ok()) return created.status();
  coordinator::Coordinator& c = **created;
  absl::StatusOr<v1::Job> job = c.SubmitJob(spec);
  if (!job.ok()) return job.status();

  std::vector<std::pair<std::string, std::string>> idle;  // (worker id, secret)
  for (int i = 0; i < options.workers; ++i) {
    v1::RegisterWorkerRequest request;
    request.set_name(absl::StrCat("race", i));
    request.set_slots(1);
    absl::StatusOr<v1::RegisterWorkerResponse> r = c.RegisterWorker(request);
    if (!r.ok()) return r.status();
    idle.push_back({r->worker_id(), r->worker_secret()});
  }
  // Finish time (virtual ms), then lease order: deterministic ties.
  std::map<std::pair<int64_t, int64_t>, Running> running;
  int64_t leases = 0;
  const bool stops = spec.has_automated_stopping();
  RaceResult out;
  double finished_seconds = 0;
  // Per trained candidate: (its training time, the run's when it ended).
  std::map<int64_t, std::pair<double, double>> spent_by_candidate;
  const std::atomic<bool> never_stop{false};
  while (true) {
    // Every idle worker asks for work.
    for (auto it = idle.begin(); it != idle.end();) {
      v1::AcquireTaskRequest request;
      request.set_worker_id(it->first);
      request.set_worker_secret(it->second);
      absl::StatusOr<v1::AcquireTaskResponse> r = c.AcquireTask(request, absl::ZeroDuration());
      if (!r.ok()) return r.status();
      if (!r->has_task()) break;
      Running run;
      run.worker_id = it->first;
      run.worker_secret = it->second;
      run.task = r->task();
      run.result = absl::UnknownError("");
      run.result = evaluator.Evaluate(run.task, {}, never_stop);
      double seconds = 0;
      run.leased_ms = now_ms.load();
      if (run.result.ok()) {
        seconds = options.duration_seconds ? options.duration_seconds(run.task, *run.result)
                                           : run.result->training_seconds();
        // A curve point comes at the training time it was measured at, or
        // (synthetic results, which take no time) at its share of the epochs.
        const double epochs = std::max(1, run.task.training().epochs());
        for (const v1::CurvePoint& point : run.result->curve()) {
          if (!stops) break;
          const double at = point.training_seconds() > 0 && !options.duration_seconds
                                ? point.training_seconds()
                                : seconds * point.epoch_fraction() / epochs;
          run.point_ms.push_back(run.leased_ms + std::llround(std::min(at, seconds) * 1000));
        }
      }
      run.finish_ms = run.leased_ms + static_cast<int64_t>(std::llround(seconds * 1000));
      const int64_t lease = leases++;
      running.emplace(std::make_pair(NextEventMs(run), lease), std::move(run));
      it = idle.erase(it);
    }
    if (running.empty()) break;  // the job is over (or waits on nothing)
    auto first = running.begin();
    now_ms = std::max(now_ms.load(), first->first.first);
    const int64_t lease = first->first.second;
    Running run = std::move(first->second);
    running.erase(first);
    // Training time spent so far: the finished candidates' and the partial
    // time of those still training (this one included).
    double spent = finished_seconds + static_cast<double>(now_ms.load() - run.leased_ms) / 1000;
    for (const auto& [key, other] : running) {
      spent += static_cast<double>(std::max<int64_t>(0, now_ms.load() - other.leased_ms)) / 1000;
    }
    if (options.cpu_budget_seconds > 0 && spent >= options.cpu_budget_seconds) {
      out.budget_reached = true;
      break;
    }
    if (run.next_point < run.point_ms.size()) {
      // A heartbeat with the curve up to this point: go on, or stopped.
      v1::HeartbeatRequest heartbeat;
      heartbeat.set_worker_id(run.worker_id);
      heartbeat.set_worker_secret(run.worker_secret);
      heartbeat.set_lease_id(run.task.lease_id());
      heartbeat.set_progress_steps(static_cast<int64_t>(run.next_point) + 1);
      for (size_t i = 0; i <= run.next_point; ++i) {
        *heartbeat.add_curve() = run.result->curve(static_cast<int>(i));
      }
      absl::StatusOr<v1::HeartbeatResponse> answer = c.Heartbeat(heartbeat);
      if (!answer.ok()) return answer.status();
      ++run.next_point;
      if (answer->keep_going()) {
        running.emplace(std::make_pair(NextEventMs(run), lease), std::move(run));
        continue;
      }
      if (!answer->stopped()) {
        return absl::InternalError(
            absl::StrCat("candidate ", run.task.candidate_id(), " withdrawn: ", answer->reason()));
      }
      const double seconds = static_cast<double>(now_ms.load() - run.leased_ms) / 1000;
      finished_seconds += seconds;
      spent_by_candidate[run.task.candidate_id()] = {seconds, spent};
      idle.push_back({run.worker_id, run.worker_secret});
      continue;
    }
    {
      const double seconds = static_cast<double>(run.finish_ms - run.leased_ms) / 1000;
      finished_seconds += seconds;
      spent_by_candidate[run.task.candidate_id()] = {seconds, spent};
    }
    if (run.result.ok()) {
      v1::CompleteTaskRequest request;
      request.set_worker_id(run.worker_id);
      request.set_worker_secret(run.worker_secret);
      request.set_lease_id(run.task.lease_id());
      request.set_job_id(run.task.job_id());
      request.set_candidate_id(run.task.candidate_id());
      *request.mutable_result() = *run.result;
      request.mutable_result()->clear_trained_weights();
      request.mutable_result()->clear_quantized_model();
      if (absl::StatusOr<v1::CompleteTaskResponse> r = c.CompleteTask(request); !r.ok()) {
        return r.status();
      }
    } else {
      v1::FailTaskRequest request;
      request.set_worker_id(run.worker_id);
      request.set_worker_secret(run.worker_secret);
      request.set_lease_id(run.task.lease_id());
      request.set_job_id(run.task.job_id());
      request.set_candidate_id(run.task.candidate_id());
      request.set_reason(std::string(run.result.status().message()));
      request.set_permanent(true);
      if (absl::Status s = c.FailTask(request); !s.ok()) return s;
    }
    idle.push_back({run.worker_id, run.worker_secret});
  }

  if (out.budget_reached) {
    if (absl::StatusOr<v1::Job> cancelled = c.CancelJob(job->job_id()); !cancelled.ok()) {
      return cancelled.status();
    }
  }
  absl::StatusOr<v1::Job> ended = c.GetJob(job->job_id());
  if (!ended.ok()) return ended.status();
  if (ended->state() != v1::JOB_STATE_SUCCEEDED && !out.budget_reached) {
    return absl::InternalError(absl::StrCat("job ended ", v1::JobState_Name(ended->state()), ": ",
                                            ended->failure_reason()));
  }
  out.skipped = ended->progress().candidates_skipped();
  out.stopped = ended->progress().candidates_stopped();
  v1::ListCandidatesRequest request;
  request.set_job_id(job->job_id());
  request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
  request.add_states(v1::CANDIDATE_STATE_DONE);
  request.add_states(v1::CANDIDATE_STATE_STOPPED);
  request.set_page_size(1000);
  double spent = 0;
  while (true) {
    absl::StatusOr<v1::ListCandidatesResponse> page = c.ListCandidates(request);
    if (!page.ok()) return page.status();
    for (const v1::Candidate& cand : page->candidates()) {
      RaceEvaluation e;
      e.candidate_id = cand.candidate_id();
      e.validation_error = cand.evaluation().validation_error();
      e.feasible = cand.feasible();
      e.stopped = cand.state() == v1::CANDIDATE_STATE_STOPPED;
      const v1::ResourceMetrics& m = cand.metrics();
      const v1::Bounds& bounds = spec.bounds();
      e.within_resource_bounds =
          (!bounds.has_peak_memory_bytes() ||
           m.peak_memory_bytes() <= bounds.peak_memory_bytes()) &&
          (!bounds.has_model_size_bytes() || m.model_size_bytes() <= bounds.model_size_bytes()) &&
          (!bounds.has_macs() || m.macs() <= bounds.macs());
      // A result copied from an earlier identical network cost nothing.
      if (auto it = spent_by_candidate.find(cand.candidate_id()); it != spent_by_candidate.end()) {
        e.seconds = it->second.first;
        spent = std::max(spent, it->second.second);
      }
      e.spent_seconds = spent;
      out.history.push_back(e);
    }
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  c.Shutdown();
  created->reset();
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) {
    std::filesystem::remove(options.db_path + suffix);
  }
  out.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return out;
}

std::vector<std::optional<double>> BestFeasibleCurve(const std::vector<RaceEvaluation>& history) {
  std::vector<std::optional<double>> curve;
  std::optional<double> best;
  for (const RaceEvaluation& e : history) {
    if (e.feasible && (!best || e.validation_error < *best)) best = e.validation_error;
    curve.push_back(best);
  }
  return curve;
}

}  // namespace unas::bench
