#include "coordinator/core/restart_replay.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/objectives/objectives.h"
#include "coordinator/core/candidate_identity.h"
#include "coordinator/core/result_commit.h"
#include "coordinator/search/algorithm.h"

namespace unas::coordinator {

absl::Status RestoreFromStore(CoordinatorState& state) {
  absl::StatusOr<std::vector<v1::WorkerInfo>> stored_workers = state.store->LoadWorkers();
  if (!stored_workers.ok()) return stored_workers.status();
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> digests =
      state.store->LoadWorkerSecretDigests();
  if (!digests.ok()) return digests.status();
  for (v1::WorkerInfo& worker : *stored_workers) {
    int64_t number = 0;
    if (absl::SimpleAtoi(absl::StripPrefix(worker.worker_id(), "w"), &number)) {
      state.next_worker_number = std::max(state.next_worker_number, number + 1);
    }
    state.worker_ids_by_name[worker.name()] = worker.worker_id();
    WorkerEntry entry;
    entry.last_seen_ms =
        google::protobuf::util::TimeUtil::TimestampToMilliseconds(worker.last_heartbeat());
    // Workers go on with the secret they hold; the store keeps its digest.
    if (auto digest = digests->find(worker.worker_id()); digest != digests->end()) {
      entry.secret_digest = digest->second;
    }
    entry.info = std::move(worker);
    state.workers[entry.info.worker_id()] = std::move(entry);
  }

  absl::StatusOr<std::vector<store::JobRow>> rows = state.store->LoadJobs();
  if (!rows.ok()) return rows.status();
  for (store::JobRow& job_row : *rows) {
    int64_t job_id = job_row.job.job_id();
    state.next_job_id = std::max(state.next_job_id, job_id + 1);
    JobEntry& job = state.jobs[job_id];
    job.job = std::move(job_row.job);
    const absl::Status ready = PrepareJob(job);
    if (!ready.ok()) {
      // Its candidates can still be listed; nothing is scheduled.
      absl::Status listed = state.store->ForEachCandidate(
          job_id, store::CandidateOrder::kById, [&](CandidateRow row) {
            const int64_t id = row.candidate.candidate_id();
            if (id > job.candidate_count()) job.states.resize(static_cast<size_t>(id), 0);
            job.states[static_cast<size_t>(id - 1)] = static_cast<uint8_t>(row.candidate.state());
            return absl::OkStatus();
          });
      if (!listed.ok()) return listed;
      if (!IsFinished(job.job.state())) state.FailJob(job, std::string(ready.message()));
      continue;
    }
    // An ended job never proposes again: no search object for it.
    if (IsFinished(job.job.state())) job.proposals.Release();
    // Recomputed rather than trusted: databases of older versions stored
    // the network's fingerprint without the sparsity.
    auto refresh_fingerprint = [&](v1::Candidate& candidate) {
      candidate.set_fingerprint(CandidateFingerprint(
          candidate.architecture(), job.data,
          candidate.has_sparsity() ? std::optional<double>(candidate.sparsity()) : std::nullopt));
    };
    const int64_t fresh_expiry = state.Now() + int64_t{job.job.spec().lease_ttl_seconds()} * 1000;
    // Every candidate in id order: counts, queue, leases, duplicates.
    absl::Status scanned =
        state.store->ForEachCandidate(job_id, store::CandidateOrder::kById, [&](CandidateRow row) {
          v1::Candidate& candidate = row.candidate;
          refresh_fingerprint(candidate);
          for (const std::string& reason : candidate.failure_reasons()) {
            if (absl::StartsWith(reason, kLeaseExpiredPrefix)) ++job.lease_expiries;
          }
          const int64_t id = candidate.candidate_id();
          switch (candidate.state()) {
            case v1::CANDIDATE_STATE_QUEUED:
              // In id order a duplicate comes after the candidate it waits for.
              if (auto it = job.in_flight_by_fingerprint.find(candidate.fingerprint());
                  it != job.in_flight_by_fingerprint.end()) {
                job.duplicates_waiting_for[it->second].push_back(id);
                ++job.duplicates_waiting;
              } else {
                job.queue.push_back(id);
                job.in_flight_by_fingerprint[candidate.fingerprint()] = id;
              }
              break;
            case v1::CANDIDATE_STATE_LEASED:
              // No worker could heartbeat while we were down: a fresh TTL.
              row.lease_expiry_ms = std::max(row.lease_expiry_ms, fresh_expiry);
              ++job.leased;
              // Its progress clock starts again: no worker could report while
              // we were down.
              state.leases.Add(row.lease_id, {job_id, id, 0, candidate.worker_id(),
                                              /*progress_steps=*/0,
                                              /*progress_ms=*/state.Now()});
              job.in_flight_by_fingerprint[candidate.fingerprint()] = id;
              break;
            case v1::CANDIDATE_STATE_FAILED:
              ++job.failed;
              job.failed_by_fingerprint.try_emplace(candidate.fingerprint(), id);
              break;
            case v1::CANDIDATE_STATE_SKIPPED:
              ++job.skipped;
              break;
            default:
              break;
          }
          // Finished rows are in the store already: only their state is kept.
          job.Put(std::move(row), /*ticket=*/0);
          return absl::OkStatus();
        });
    if (!scanned.ok()) return scanned;
    // The search's stored model state, then the DONE ones in history order
    // for the search to replay (Bayesian optimisation takes its distance
    // rows and hyper-parameters from the model state instead of computing
    // them again, where they match the replayed history).
    if (!IsFinished(job.job.state())) {
      absl::StatusOr<std::vector<store::ModelStateRow>> model = state.store->LoadModelState(job_id);
      if (!model.ok()) return model.status();
      std::vector<search::ModelRecord> records;
      records.reserve(model->size());
      for (store::ModelStateRow& row : *model) {
        records.push_back({row.kind, row.position, std::move(row.bytes)});
      }
      job.proposals.RestoreModelRecords(std::move(records));
    }
    // The DONE ones in history order.
    absl::Status replayed = state.store->ForEachCandidate(
        job_id, store::CandidateOrder::kDoneByFinish, [&](CandidateRow row) {
          refresh_fingerprint(row.candidate);
          ObserveDone(job, row);
          return absl::OkStatus();
        });
    if (!replayed.ok()) return replayed;
    if (absl::Status status = FinishIfComplete(state, job); !status.ok()) return status;
  }
  return absl::OkStatus();
}

// Derived state of a job: algorithm, data shape, bounds.
absl::Status PrepareJob(JobEntry& job) {
  const v1::JobSpec& spec = job.job.spec();
  absl::StatusOr<std::unique_ptr<search::SearchAlgorithm>> algorithm =
      search::MakeSearchAlgorithm(spec);
  if (!algorithm.ok()) return algorithm.status();
  job.data = MakeDataShape(spec.input_shape(), spec.num_classes());
  job.proposals = ProposalPipeline(*std::move(algorithm), job.data);
  job.bounds = search::MakeBounds(spec);
  job.sparse_size = spec.training().has_pruning() && !spec.training().pruning().structured();
  return absl::OkStatus();
}

}  // namespace unas::coordinator
