#include "coordinator/core/result_commit.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/job_spec/defaults.h"
#include "common/objectives/objectives.h"
#include "coordinator/core/failure_text.h"
#include "coordinator/core/job_queries.h"

namespace unas::coordinator {
namespace {

// Makes `row` DONE with the evaluation of candidate `source_id` (the same
// network); returns what the store records for it.
absl::StatusOr<store::EvaluationRow> CopyResult(CoordinatorState& state, JobEntry& job,
                                                CandidateRow& row, int64_t source_id,
                                                const v1::Candidate* preread = nullptr) {
  // The source is DONE: in memory while its write may not be durable, else
  // a short read of the store (finished rows never change), unless the
  // caller read it already.
  absl::StatusOr<std::vector<v1::Candidate>> read = std::vector<v1::Candidate>();
  if (preread == nullptr) {
    CandidateAssembly assembly;
    assembly.CopyInMemory(job, {source_id});
    read = std::move(assembly).Read(*state.store, job.job.job_id(), {source_id});
    if (!read.ok()) return read.status();
  }
  const v1::Candidate& source = preread != nullptr ? *preread : read->front();
  v1::Candidate& candidate = row.candidate;
  // A network the stopping rule stopped is not trained again either: the
  // copy is STOPPED with the same decision and partial evaluation.
  candidate.set_state(source.state() == v1::CANDIDATE_STATE_STOPPED ? v1::CANDIDATE_STATE_STOPPED
                                                                    : v1::CANDIDATE_STATE_DONE);
  if (source.has_stopping()) *candidate.mutable_stopping() = source.stopping();
  *candidate.mutable_metrics() = source.metrics();
  *candidate.mutable_evaluation() = source.evaluation();
  candidate.set_feasible(source.feasible());
  candidate.set_worker_id(source.worker_id());
  *candidate.mutable_finish_time() =
      google::protobuf::util::TimeUtil::MillisecondsToTimestamp(state.Now());
  row.finish_seq = static_cast<int64_t>(job.history.size()) + 1;
  store::EvaluationRow evaluation;
  evaluation.result = candidate.evaluation();
  evaluation.metrics = candidate.metrics();
  evaluation.feasible = candidate.feasible();
  evaluation.worker_id = candidate.worker_id();
  evaluation.reused_from = source_id;
  return evaluation;
}

// A candidate could not take the result of `source_id` (its read failed):
// the job cannot go on without training a network it has evaluated, so it
// fails, naming both candidates and the cause.
void FailReuse(CoordinatorState& state, JobEntry& job, int64_t candidate_id, int64_t source_id,
               const absl::Status& cause) {
  state.FailJob(job,
                absl::StrCat("candidate ", candidate_id, " could not take the result of candidate ",
                             source_id, ": ", cause.message()));
}

}  // namespace

v1::JobEvent FinishedEvent(const v1::Candidate& candidate) {
  v1::JobEvent event;
  if (candidate.state() == v1::CANDIDATE_STATE_STOPPED) {
    *event.mutable_candidate_stopped() = LightCandidate(candidate);
  } else {
    *event.mutable_candidate_done() = LightCandidate(candidate);
  }
  return event;
}

// Feeds one DONE or STOPPED candidate to the job's in-memory state and
// algorithm. A STOPPED one counts towards the rounds and the search observes
// it with its partial error (usually well above a full training's: error falls
// with training, and the rule stopped it for being behind); it is
// never feasible (so never the best result), and its curve is not one the
// stopping rule compares with.
void ObserveDone(JobEntry& job, const CandidateRow& row) {
  const v1::Candidate& candidate = row.candidate;
  const bool stopped = candidate.state() == v1::CANDIDATE_STATE_STOPPED;
  ++job.done;
  if (stopped) ++job.stopped;
  job.AddToHistory(candidate.candidate_id(), candidate.feasible());
  // The first evaluation of a network: later ones are copies of its result
  // (reuse, waiting duplicates), and one network counted many times would
  // skew the stopping rule's median.
  const bool first_of_network =
      job.done_by_fingerprint.try_emplace(candidate.fingerprint(), candidate.candidate_id()).second;
  if (!stopped && first_of_network && job.job.spec().has_automated_stopping() &&
      !candidate.evaluation().curve().empty() && job.job.state() == v1::JOB_STATE_RUNNING) {
    job.completed_curves.emplace_back(candidate.evaluation().curve());
  }
  if (!stopped && candidate.feasible() &&
      (!job.best_feasible_error ||
       candidate.evaluation().validation_error() < *job.best_feasible_error)) {
    job.best_feasible_error = candidate.evaluation().validation_error();
  }
  search::Evaluated evaluated;
  evaluated.candidate_id = candidate.candidate_id();
  evaluated.architecture = candidate.architecture();
  if (candidate.has_sparsity()) evaluated.sparsity = candidate.sparsity();
  evaluated.objectives =
      search::MakeObjectives(candidate.evaluation().validation_error(), candidate.metrics());
  // A job that has ended never proposes again: its search need not hold the
  // observation (after a restart, that would be its whole history).
  if (job.job.state() == v1::JOB_STATE_RUNNING) job.proposals.Observe(std::move(evaluated));
}

absl::Status FinishIfComplete(CoordinatorState& state, JobEntry& job) {
  if (job.job.state() == v1::JOB_STATE_RUNNING && job.done >= job.rounds()) {
    return state.SetJobState(job, v1::JOB_STATE_SUCCEEDED, "");
  }
  return absl::OkStatus();
}

// A DONE copy of an earlier evaluation of the same network: the search
// sees a result without training anything twice.
absl::Status RecordReuse(CoordinatorState& state, JobEntry& job, CandidateRow row,
                         int64_t source_id, const v1::Candidate* source) {
  const int64_t candidate_id = row.candidate.candidate_id();
  absl::StatusOr<store::EvaluationRow> evaluation = CopyResult(state, job, row, source_id, source);
  if (!evaluation.ok()) {
    FailReuse(state, job, candidate_id, source_id, evaluation.status());
    return evaluation.status();
  }
  const uint64_t ticket =
      state.Write("reuse", [row, evaluation = *std::move(evaluation)](store::Store& db) {
        return db.InsertReusedCandidate(row, evaluation);
      });
  ObserveDone(job, row);
  v1::JobEvent event = FinishedEvent(row.candidate);
  state.PutRow(job, std::move(row), ticket);
  state.AddEvent(job, std::move(event));
  return FinishIfComplete(state, job);
}

// A candidate with duplicates waiting failed: the first of them is trained
// instead, and the others wait for it.
void PromoteWaitingDuplicate(JobEntry& job, int64_t failed_id, uint64_t fingerprint) {
  if (auto it = job.in_flight_by_fingerprint.find(fingerprint);
      it != job.in_flight_by_fingerprint.end() && it->second == failed_id) {
    job.in_flight_by_fingerprint.erase(it);
  }
  auto waiting = job.duplicates_waiting_for.find(failed_id);
  if (waiting == job.duplicates_waiting_for.end()) return;
  std::vector<int64_t> ids = std::move(waiting->second);
  job.duplicates_waiting_for.erase(waiting);
  const int64_t promoted = ids.front();
  --job.duplicates_waiting;
  job.queue.push_back(promoted);
  job.in_flight_by_fingerprint[fingerprint] = promoted;
  if (ids.size() > 1) {
    job.duplicates_waiting_for[promoted].assign(ids.begin() + 1, ids.end());
  }
}

// The candidate `source_id` is DONE: its waiting duplicates take its result.
void ResolveWaitingDuplicates(CoordinatorState& state, JobEntry& job, int64_t source_id) {
  auto waiting = job.duplicates_waiting_for.find(source_id);
  if (waiting == job.duplicates_waiting_for.end()) return;
  std::vector<int64_t> ids = std::move(waiting->second);
  job.duplicates_waiting_for.erase(waiting);
  for (int64_t id : ids) {
    --job.duplicates_waiting;
    CandidateRow row = job.active_row(id);
    absl::StatusOr<store::EvaluationRow> evaluation = CopyResult(state, job, row, source_id);
    if (!evaluation.ok()) {
      FailReuse(state, job, id, source_id, evaluation.status());
      continue;
    }
    const uint64_t ticket =
        state.Write("reuse", [row, evaluation = *std::move(evaluation)](store::Store& db) {
          return db.RecordEvaluation(row, evaluation);
        });
    ObserveDone(job, row);
    v1::JobEvent event = FinishedEvent(row.candidate);
    state.PutRow(job, std::move(row), ticket);
    state.AddEvent(job, std::move(event));
  }
}

void CountFailureCause(CoordinatorState& state, JobEntry& job, const std::string& cause) {
  // Causes carry candidate-specific text (sizes, layer names, worker ids):
  // their classes are compared.
  std::string failure_class = FailureClass(cause);
  if (failure_class == job.last_failure_class) {
    ++job.consecutive_failures;
  } else {
    job.last_failure_class = std::move(failure_class);
    job.consecutive_failures = 1;
  }
  const v1::JobSpec& spec = job.job.spec();
  const int limit = spec.has_max_consecutive_failures() ? spec.max_consecutive_failures()
                                                        : defaults::kMaxConsecutiveFailures;
  if (job.consecutive_failures >= limit && job.job.state() == v1::JOB_STATE_RUNNING) {
    state.FailJob(job, absl::StrCat(job.consecutive_failures,
                                    " candidates in a row failed for the same reason: ", cause));
    // (FailJob cuts the reason to kMaxReasonBytes.)
  }
}

SplitResult SplitBlobs(const v1::EvaluationResult& result) {
  SplitResult split;
  split.full = result;  // the one copy of the blobs
  std::string weights = std::move(*split.full.mutable_trained_weights());
  split.full.clear_trained_weights();
  v1::QuantizedModel quantized;
  const bool has_quantized = split.full.has_quantized_model();
  if (has_quantized) quantized.Swap(split.full.mutable_quantized_model());
  split.full.clear_quantized_model();
  split.light = split.full;
  split.full.set_trained_weights(std::move(weights));
  if (has_quantized) split.full.mutable_quantized_model()->Swap(&quantized);
  return split;
}

absl::Status CommitEvaluation(CoordinatorState& state, JobEntry& job,
                              const v1::CompleteTaskRequest& request,
                              const v1::ResourceMetrics& metrics) {
  return CommitEvaluation(state, job, request, metrics, SplitBlobs(request.result()));
}

absl::Status CommitEvaluation(CoordinatorState& state, JobEntry& job,
                              const v1::CompleteTaskRequest& request,
                              const v1::ResourceMetrics& metrics, SplitResult split) {
  const CandidateRow& row = job.active_row(request.candidate_id());
  const v1::CandidateState previous_state = row.candidate.state();
  const v1::EvaluationResult& result = request.result();
  CandidateRow done = row;
  v1::Candidate& candidate = done.candidate;
  candidate.set_state(v1::CANDIDATE_STATE_DONE);
  candidate.set_worker_id(request.worker_id());
  *candidate.mutable_metrics() = metrics;
  *candidate.mutable_evaluation() = std::move(split.light);
  search::ObjectiveVector objectives = search::MakeObjectives(result.validation_error(), metrics);
  candidate.set_feasible(search::IsFeasible(objectives, job.bounds));
  *candidate.mutable_finish_time() =
      google::protobuf::util::TimeUtil::MillisecondsToTimestamp(state.Now());
  done.finish_seq = static_cast<int64_t>(job.history.size()) + 1;
  done.lease_id.clear();
  done.lease_expiry_ms = 0;
  store::EvaluationRow evaluation;
  evaluation.result = std::move(split.full);
  evaluation.metrics = metrics;
  evaluation.feasible = candidate.feasible();
  evaluation.worker_id = request.worker_id();
  const uint64_t ticket =
      state.Write("evaluation", [done, evaluation = std::move(evaluation)](store::Store& db) {
        return db.RecordEvaluation(done, evaluation);
      });

  double lease_seconds = -1;
  if (previous_state == v1::CANDIDATE_STATE_LEASED) {
    if (const LeaseRef* lease = state.leases.Find(row.lease_id);
        lease != nullptr && lease->leased_at_ms > 0) {
      lease_seconds = static_cast<double>(state.Now() - lease->leased_at_ms) / 1000.0;
    }
    state.leases.Remove(row.lease_id);
    --job.leased;
  } else {
    job.queue.erase(std::remove(job.queue.begin(), job.queue.end(), row.candidate.candidate_id()),
                    job.queue.end());
  }
  job.ForgetEndedLeases(request.candidate_id());
  job.consecutive_failures = 0;
  if (auto worker = state.workers.find(request.worker_id()); worker != state.workers.end()) {
    worker->second.info.set_evaluations_done(worker->second.info.evaluations_done() + 1);
  }
  ObserveDone(job, done);
  if (auto it = job.in_flight_by_fingerprint.find(done.candidate.fingerprint());
      it != job.in_flight_by_fingerprint.end() && it->second == done.candidate.candidate_id()) {
    job.in_flight_by_fingerprint.erase(it);
  }
  v1::JobEvent event;
  *event.mutable_candidate_done() = LightCandidate(done.candidate);
  state.PutRow(job, std::move(done), ticket);
  ResolveWaitingDuplicates(state, job, request.candidate_id());
  if (state.options.observer != nullptr) {
    state.options.observer->EvaluationDone(request.job_id(), lease_seconds);
  }
  state.AddEvent(job, std::move(event));
  return FinishIfComplete(state, job);
}

}  // namespace unas::coordinator
