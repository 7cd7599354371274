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

// A leased candidate and when (virtual seconds) its worker reports it.
struct Running {
  std::string worker_id;
  std::string worker_secret;
  v1::Task task;
  absl::StatusOr<v1::EvaluationResult> result;
};

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
      Running run{it->first, it->second, r->task(), absl::UnknownError("")};
      run.result = evaluator.Evaluate(run.task, {}, never_stop);
      double seconds = 0;
      if (run.result.ok()) {
        seconds = options.duration_seconds ? options.duration_seconds(run.task, *run.result)
                                           : run.result->training_seconds();
      }
      const int64_t finish = now_ms.load() + static_cast<int64_t>(std::llround(seconds * 1000));
      running.emplace(std::make_pair(finish, leases++), std::move(run));
      it = idle.erase(it);
    }
    if (running.empty()) break;  // the job is over (or waits on nothing)
    auto first = running.begin();
    now_ms = std::max(now_ms.load(), first->first.first);
    Running run = std::move(first->second);
    running.erase(first);
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

  absl::StatusOr<v1::Job> ended = c.GetJob(job->job_id());
  if (!ended.ok()) return ended.status();
  if (ended->state() != v1::JOB_STATE_SUCCEEDED) {
    return absl::InternalError(absl::StrCat("job ended ", v1::JobState_Name(ended->state()), ": ",
                                            ended->failure_reason()));
  }
  RaceResult out;
  out.skipped = ended->progress().candidates_skipped();
  v1::ListCandidatesRequest request;
  request.set_job_id(job->job_id());
  request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
  request.add_states(v1::CANDIDATE_STATE_DONE);
  request.set_page_size(1000);
  while (true) {
    absl::StatusOr<v1::ListCandidatesResponse> page = c.ListCandidates(request);
    if (!page.ok()) return page.status();
    for (const v1::Candidate& cand : page->candidates()) {
      out.history.push_back(
          {cand.candidate_id(), cand.evaluation().validation_error(), cand.feasible()});
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
